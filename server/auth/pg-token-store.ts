/**
 * Tokens on PostgreSQL (table api_tokens), for hubs that share one database. Checks (`verify`,
 * `isRevoked`) stay synchronous: they read a copy of the table in memory, loaded at open and
 * reloaded when another hub (or `fleetscope token`) changes it — NOTIFY on the schema's `tokens`
 * channel — and every `reloadMs` (default 3 s) in case a notification was missed. So a token
 * created or revoked elsewhere takes effect here within seconds. Writes change the copy at once
 * and are committed after (`flush()` waits for them), then announced with NOTIFY.
 */
import type pg from 'pg';
import { silentLogger, type Logger } from '../../common/logger.ts';
import { channelOf, listenPg } from '../store/pg/pg-listen.ts';
import { WriteQueue } from '../store/pg/write-queue.ts';
import type { TokenStore } from './token-store.ts';
import { hashToken, looksLikeToken, newTokenId, newTokenSecret, ROLES, sameHash, type Role, type TokenInfo } from './tokens.ts';

interface Row extends TokenInfo {
  hash: string;
}

export interface PgTokenStoreOptions {
  /** The connection URL (the LISTEN connection is opened on it) and the schema of `pool`. */
  url: string;
  schema: string;
  log?: Logger;
  /** Reload the copy this often (default 3 s); 0: never (notifications only). */
  reloadMs?: number;
  /** Listen for other hubs' changes (default true; the token command does not). */
  listen?: boolean;
}

const toRow = (r: { id: string; name: string; role: Role; hash: string; created_at: number; revoked_at: number | null }): Row => ({
  id: r.id,
  name: r.name,
  role: r.role,
  hash: r.hash,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

/** A token store on `pool` (migrated already), its copy loaded before it resolves. */
export async function openPgTokenStore(pool: pg.Pool, opts: PgTokenStoreOptions): Promise<TokenStore> {
  const log = opts.log ?? silentLogger;
  const channel = channelOf(opts.schema, 'tokens');
  let byId = new Map<string, Row>();
  let byHash = new Map<string, Row>();
  let closed = false;
  const writes = new WriteQueue((err) => {
    log.error('writing a token to PostgreSQL failed', { error: String(err) });
    void reload();
  });

  const install = (rows: Row[]) => {
    byId = new Map(rows.map((r) => [r.id, r]));
    byHash = new Map(rows.map((r) => [r.hash, r]));
  };
  let reloading: Promise<void> | null = null;
  let again = false;
  const reloadOnce = async () => {
    const generation = writes.generation;
    const res = await pool.query('SELECT id, name, role, hash, created_at, revoked_at FROM api_tokens');
    // A local write not committed yet (or queued meanwhile) would be missing: keep the copy, reload later.
    if (writes.pending > 0 || writes.generation !== generation) again = true;
    else install(res.rows.map(toRow));
  };
  function reload(): Promise<void> {
    if (closed) return Promise.resolve();
    if (reloading) {
      again = true;
      return reloading;
    }
    reloading = (async () => {
      try {
        do {
          again = false;
          if (writes.pending > 0) await writes.settled();
          await reloadOnce();
        } while (again && !closed);
      } catch (err) {
        log.warn('reloading tokens from PostgreSQL failed (kept the copy)', { error: String(err) });
      } finally {
        reloading = null;
      }
    })();
    return reloading;
  }

  install((await pool.query('SELECT id, name, role, hash, created_at, revoked_at FROM api_tokens')).rows.map(toRow));
  const listener = opts.listen === false ? null : listenPg(opts.url, channel, () => void reload(), log);
  const reloadMs = opts.reloadMs ?? 3000;
  const timer = reloadMs > 0 ? setInterval(() => void reload(), reloadMs) : null;
  timer?.unref();
  const announce = (id: string) => pool.query('SELECT pg_notify($1, $2)', [channel, id]);

  return {
    create(role, name, now = Date.now()) {
      if (!ROLES.includes(role)) throw new Error(`role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(role)}`);
      const token = newTokenSecret();
      const row: Row = { id: newTokenId(), name, role, hash: hashToken(token), createdAt: now, revokedAt: null };
      byId.set(row.id, row);
      byHash.set(row.hash, row);
      writes.push(async () => {
        await pool.query('INSERT INTO api_tokens (id, name, role, hash, created_at) VALUES ($1, $2, $3, $4, $5)', [row.id, name, role, row.hash, now]);
        await announce(row.id);
      });
      const { hash: _hash, ...info } = row;
      return { ...info, token };
    },
    list: () =>
      [...byId.values()]
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map(({ hash: _hash, ...info }) => info),
    revoke(id, now = Date.now()) {
      const row = byId.get(id);
      if (!row || row.revokedAt !== null) return false;
      const revoked = { ...row, revokedAt: now };
      byId.set(id, revoked);
      byHash.set(row.hash, revoked);
      writes.push(async () => {
        await pool.query('UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [now, id]);
        await announce(id);
      });
      return true;
    },
    isRevoked(id) {
      const row = byId.get(id);
      return !row || row.revokedAt !== null;
    },
    verify(token) {
      if (!looksLikeToken(token)) return null;
      const hash = hashToken(token);
      const row = byHash.get(hash);
      if (!row || row.revokedAt !== null || !sameHash(row.hash, hash)) return null;
      return { tokenId: row.id, name: row.name, role: row.role };
    },
    flush: () => writes.flush(),
    async close() {
      if (closed) return;
      await writes.settled();
      closed = true;
      if (timer) clearInterval(timer);
      await reloading;
      await listener?.close();
    },
  };
}
