/**
 * Tokens in the hub's SQLite database (table api_tokens), on a connection of their own so the
 * `fleetscope token` command can manage them while a hub runs on the same file. Every check reads
 * the table (one indexed lookup), so a token revoked from the command line is refused at once.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { MIGRATIONS_DIR } from '../store/sqlite-store.ts';
import { setUpConnection } from '../store/sqlite-connection.ts';
import { hashToken, looksLikeToken, newTokenId, newTokenSecret, ROLES, sameHash, type Principal, type Role, type TokenInfo } from './tokens.ts';

export interface TokenStore {
  /** A new token; its secret is returned here once and never stored. */
  create(role: Role, name: string, now?: number): TokenInfo & { token: string };
  /** Every token, newest first (revoked ones too). */
  list(): TokenInfo[];
  /** Revoke by id; false when there is no such token or it was revoked already. */
  revoke(id: string, now?: number): boolean;
  /** Is the token with this id revoked (or unknown)? */
  isRevoked(id: string): boolean;
  /** The principal of a valid, unrevoked token; null otherwise. */
  verify(token: string): Principal | null;
  /**
   * Resolves once the writes made so far are committed (rejects when the last one failed). SQLite
   * writes at once; the PostgreSQL store (pg-token-store.ts) answers from memory and writes after.
   */
  flush(): Promise<void>;
  close(): void | Promise<void>;
}

interface TokenRow {
  id: string;
  name: string;
  role: Role;
  hash: string;
  created_at: number;
  revoked_at: number | null;
}

const info = (r: TokenRow): TokenInfo => ({ id: r.id, name: r.name, role: r.role, createdAt: r.created_at, revokedAt: r.revoked_at });

/** Opens (and migrates) the database file and serves tokens from it. */
export function openTokenStore(path: string): TokenStore {
  mkdirSync(dirname(path), { recursive: true });
  const conn = new Database(path);
  // As the store sets up a new file (the token command may be the first to create it).
  conn.pragma('auto_vacuum = INCREMENTAL');
  setUpConnection(conn);
  migrate(drizzle(conn), { migrationsFolder: MIGRATIONS_DIR });
  const insert = conn.prepare('INSERT INTO api_tokens (id, name, role, hash, created_at) VALUES (?, ?, ?, ?, ?)');
  const all = conn.prepare('SELECT * FROM api_tokens ORDER BY created_at DESC, id');
  const revoke = conn.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  const byHash = conn.prepare('SELECT * FROM api_tokens WHERE hash = ?');
  const revokedAt = conn.prepare('SELECT revoked_at FROM api_tokens WHERE id = ?');
  return {
    create(role, name, now = Date.now()) {
      if (!ROLES.includes(role)) throw new Error(`role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(role)}`);
      const token = newTokenSecret();
      const id = newTokenId();
      insert.run(id, name, role, hashToken(token), now);
      return { id, name, role, createdAt: now, revokedAt: null, token };
    },
    list: () => (all.all() as TokenRow[]).map(info),
    revoke: (id, now = Date.now()) => revoke.run(now, id).changes === 1,
    isRevoked(id) {
      const row = revokedAt.get(id) as { revoked_at: number | null } | undefined;
      return !row || row.revoked_at !== null;
    },
    verify(token) {
      if (!looksLikeToken(token)) return null;
      const hash = hashToken(token);
      const row = byHash.get(hash) as TokenRow | undefined;
      if (!row || row.revoked_at !== null || !sameHash(row.hash, hash)) return null;
      return { tokenId: row.id, name: row.name, role: row.role };
    },
    flush: async () => {},
    close: () => void conn.close(),
  };
}
