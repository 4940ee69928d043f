/**
 * LISTEN on a PostgreSQL channel on a connection of its own, for caches that other hubs change
 * (tokens): `onNotify` runs for every notification. A dropped connection is retried every
 * `retryMs`; the caches also reload on a timer, so a missed notification is late, never lost.
 */
import pg from 'pg';
import type { Logger } from '../../../common/logger.ts';

/** The channel of `topic` in `schema` (channels are per database; schemas of one database must not hear each other). */
export const channelOf = (schema: string, topic: string) => `fleetscope_${topic}_${schema}`;

export interface PgListener {
  close(): Promise<void>;
}

export function listenPg(url: string, channel: string, onNotify: (payload: string | undefined) => void, log: Logger, retryMs = 5000): PgListener {
  let client: pg.Client | null = null;
  let closed = false;
  let timer: NodeJS.Timeout | null = null;
  const retry = () => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = null;
      void connect();
    }, retryMs);
    timer.unref();
  };
  const connect = async () => {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    c.on('error', (err) => {
      log.warn('PostgreSQL LISTEN connection lost (retrying)', { channel, error: err.message });
      if (client === c) client = null;
      c.end().catch(() => undefined);
      retry();
    });
    c.on('notification', (n) => {
      if (n.channel === channel) onNotify(n.payload);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
      if (closed) return void (await c.end().catch(() => undefined));
      client = c;
      onNotify(undefined); // what changed while not listening
    } catch (err) {
      log.warn('PostgreSQL LISTEN failed (retrying)', { channel, error: (err as Error).message });
      await c.end().catch(() => undefined);
      retry();
    }
  };
  void connect();
  return {
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = null;
      await c?.end().catch(() => undefined);
    },
  };
}
