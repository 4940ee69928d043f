/**
 * Which database the hub runs on, from its `--db` value: `postgres://…` or `postgresql://…` is a
 * PostgreSQL server (schema from the URL's `?schema=name`, else `--db-schema`, else `public`);
 * anything else is the path of an SQLite file. `openStore` opens the sample store on it.
 */
import type { Logger } from '../../common/logger.ts';
import { openPgStore } from './pg/pg-store.ts';
import { checkSchemaName } from './pg/pg-connection.ts';
import { openSqliteStore } from './sqlite-store.ts';
import type { Retention, Store } from './store.ts';

export type DbTarget = { kind: 'sqlite'; path: string } | { kind: 'pg'; url: string; schema: string };

export const isPgUrl = (db: string) => /^postgres(ql)?:\/\//i.test(db);

/** Where `db` points; `schema` (`--db-schema`) is used when the URL names none. Throws on a bad URL or schema name. */
export function parseDbTarget(db: string, schema?: string): DbTarget {
  if (!isPgUrl(db)) {
    if (schema !== undefined) throw new Error('--db-schema is for a PostgreSQL --db (postgres://…), not an SQLite file');
    return { kind: 'sqlite', path: db };
  }
  let u: URL;
  try {
    u = new URL(db);
  } catch {
    throw new Error(`--db ${JSON.stringify(redact(db))} is not a valid PostgreSQL URL (postgres://user@host:port/database)`);
  }
  const fromUrl = u.searchParams.get('schema');
  u.searchParams.delete('schema');
  return { kind: 'pg', url: u.toString(), schema: checkSchemaName(fromUrl ?? schema ?? 'public') };
}

/** The target for logs and messages, without a password. */
export function describeDb(t: DbTarget): string {
  return t.kind === 'sqlite' ? t.path : `${redact(t.url)} (schema ${t.schema})`;
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

export interface OpenStoreOptions {
  log?: Logger;
  retention?: Partial<Retention>;
}

export function openStore(t: DbTarget, opts: OpenStoreOptions = {}): Promise<Store> {
  return t.kind === 'sqlite' ? openSqliteStore(t.path, opts) : openPgStore(t.url, { schema: t.schema, log: opts.log, retention: opts.retention });
}

/** A command's exit (status 1, one line, no stack) when PostgreSQL does not answer or refuses it. */
export function exitIfDatabaseUnreachable(command: string, err: unknown): void {
  if (!(err instanceof Error) || !/^PostgreSQL at \S+ (does not answer|refused the connection)/.test(err.message)) return;
  process.stderr.write(`fleetscope ${command}: ${err.message}\n`);
  process.exit(1);
}
