/**
 * The hub's database, SQLite file or PostgreSQL server (store/open-store.ts): the sample store,
 * tokens, alert rules and states, the notifier's outbox, receivers and silences, and the
 * readiness check — each on the database `--db` names. On PostgreSQL everything but the sample
 * store shares one small pool of its own (the store has its pool), closed last.
 */
import type { Logger } from '../common/logger.ts';
import { openAlertStore, type AlertStore, type StateWrite } from './alerts/alert-store.ts';
import type { AlertEvent } from './alerts/alert-events.ts';
import type { NotifierBackend } from './alerts/notifier.ts';
import { openPgAlertStore } from './alerts/pg-alert-store.ts';
import { PgNotifyStore } from './alerts/pg-notify-store.ts';
import { PgOutbox } from './alerts/pg-outbox.ts';
import { openPgTokenStore } from './auth/pg-token-store.ts';
import { openTokenStore, type TokenStore } from './auth/token-store.ts';
import { databaseCheck, type ReadinessCheck } from './readiness.ts';
import { openStore, type DbTarget } from './store/open-store.ts';
import { connectPg, serverOf } from './store/pg/pg-connection.ts';
import { pgDatabaseCheck } from './store/pg/pg-readiness.ts';
import type { Retention, Store } from './store/store.ts';

type WriteVia = (states: readonly StateWrite[], events: readonly AlertEvent[], now: number) => Promise<void>;

export interface HubDatabase {
  store: Store;
  tokens: TokenStore;
  /** Alert rules, states and history; state writes go through `writeVia` (the store's writeAlerts). */
  alertStore(writeVia: WriteVia): Promise<AlertStore>;
  /** The notifier's outbox and receivers when not in the SQLite file; null on SQLite (the notifier opens the file). */
  notifierBackend: NotifierBackend | null;
  readiness: ReadinessCheck;
  /** Closes what the store does not (after the store, tokens and notifier are closed). */
  close(): Promise<void>;
}

export interface HubDatabaseOptions {
  log: Logger;
  retention?: Partial<Retention>;
  /** PostgreSQL: how often tokens, receivers and silences are reloaded (other hubs' changes), ms. */
  reloadMs?: number;
}

export async function openHubDatabase(t: DbTarget, opts: HubDatabaseOptions): Promise<HubDatabase> {
  if (t.kind === 'sqlite') {
    const store = await openStore(t, opts);
    return {
      store,
      tokens: openTokenStore(t.path),
      alertStore: async (writeVia) => openAlertStore(t.path, writeVia),
      notifierBackend: null,
      readiness: databaseCheck(t.path),
      close: async () => {},
    };
  }
  // The hub's pool first: it names host:port when the server does not answer, and migrates.
  const conn = await connectPg(t.url, { schema: t.schema, maxConnections: 4, connectTimeoutMs: 5000 });
  let store: Store | null = null;
  let tokens: TokenStore | null = null;
  try {
    store = await openStore(t, opts);
    tokens = await openPgTokenStore(conn.pool, { url: t.url, schema: t.schema, log: opts.log, reloadMs: opts.reloadMs });
    const notifyStore = await PgNotifyStore.open(conn.pool, { log: opts.log, reloadMs: opts.reloadMs });
    return {
      store,
      tokens,
      alertStore: (writeVia) => openPgAlertStore(conn.pool, writeVia, opts.log),
      notifierBackend: { outbox: new PgOutbox(conn.pool), store: notifyStore, close: () => notifyStore.close() },
      readiness: pgDatabaseCheck(conn.pool, serverOf(t.url)),
      close: () => conn.pool.end(),
    };
  } catch (err) {
    await tokens?.close();
    await store?.close().catch(() => undefined);
    await conn.pool.end().catch(() => undefined);
    throw err;
  }
}
