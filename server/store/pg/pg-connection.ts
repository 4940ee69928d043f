/**
 * The PostgreSQL connection pool of the store: every pooled connection works in the store's
 * schema (search_path set at connection start), bigint columns come back as numbers (ms times and
 * counts), and a server that does not answer is reported by host and port. Migrations
 * (schema/pg-migrations) are applied at open, inside that schema, under an advisory lock (hubs
 * sharing a database may start at once).
 */
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';

export const PG_MIGRATIONS_DIR = fileURLToPath(new URL('../../../schema/pg-migrations', import.meta.url));

/** Schema names the store accepts: plain identifiers (they go into search_path and DDL unquoted-safe). */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function checkSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`PostgreSQL schema name ${JSON.stringify(schema)} is not a plain lower-case identifier ([a-z_][a-z0-9_]*)`);
  return schema;
}

/** int8 (bigint) as a JS number: the store's bigints are ms timestamps, ids and counts, all below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary' ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** `host:port` of a connection URL, for error messages (defaults as libpq has them). */
export function serverOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}`;
  } catch {
    return 'the server in the given URL';
  }
}

export interface PgConnection {
  pool: pg.Pool;
  db: NodePgDatabase;
  schema: string;
}

export interface PgConnectionOptions {
  schema: string;
  /** Connections in the pool (default 8). */
  maxConnections?: number;
  /** How long a connection attempt may take (default 10 s). */
  connectTimeoutMs?: number;
}

/**
 * A pool on `url` working in `schema` (created when missing), with the store's migrations
 * applied. Throws an error naming host:port when the server does not answer.
 */
export async function connectPg(url: string, opts: PgConnectionOptions): Promise<PgConnection> {
  const schema = checkSchemaName(opts.schema);
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.maxConnections ?? 8,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    options: `-c search_path=${schema}`,
    types,
  });
  // An idle pooled connection the server drops must not crash the process: the next query reconnects.
  pool.on('error', () => undefined);
  try {
    const client = await pool.connect().catch((err: Error & { code?: string }) => {
      // A server error (SQLSTATE: 5 characters, e.g. 28P01 bad password, 3D000 no such database) means it answered.
      const answered = typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code);
      throw new Error(`PostgreSQL at ${serverOf(url)} ${answered ? 'refused the connection' : 'does not answer'}: ${err.message || err.code || String(err)}`, { cause: err });
    });
    // One process at a time creates and migrates a schema (hubs sharing a database may start together).
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [`fleetscope_migrate_${schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await migrate(drizzle(client), { migrationsFolder: PG_MIGRATIONS_DIR, migrationsSchema: schema });
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`fleetscope_migrate_${schema}`]).catch(() => undefined);
      client.release();
    }
    const db = drizzle(pool);
    return { pool, db, schema };
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
}

/** Run `fn` in one transaction on one pooled connection (`begin` picks the isolation level). */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** A read transaction seeing one snapshot (chunks and log rows read together stay consistent). */
export const SNAPSHOT_READ = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';
