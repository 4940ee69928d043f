/**
 * Hubs on the test PostgreSQL server (PG_URL of store-contract.ts), in a schema of the test file's
 * own (`fs_hub_<pid>_<random>`, dropped by `drop()`): several hubs started on one schema share it,
 * as hubs of one fleet do. Fails with a clear message when PostgreSQL does not answer.
 */
import { startHub, type HubHandle, type HubOptions } from '../../server/hub.ts';
import { PG_URL, pgClient } from './store-contract.ts';

export interface PgSchema {
  schema: string;
  /** The hub's --db: PG_URL with ?schema=… */
  url: string;
  query(text: string, args?: unknown[]): Promise<Record<string, any>[]>;
  drop(): Promise<void>;
}

export async function freshPgSchema(): Promise<PgSchema> {
  const schema = `fs_hub_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  (await pgClient()).end(); // throws "PostgreSQL does not answer at …" when it does not
  const u = new URL(PG_URL);
  u.searchParams.set('schema', schema);
  const query = async (text: string, args: unknown[] = []) => {
    const c = await pgClient();
    try {
      return (await c.query(text, args)).rows as Record<string, any>[];
    } finally {
      await c.end();
    }
  };
  return { schema, url: u.toString(), query, drop: async () => void (await query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)) };
}

/** A hub on port 0 on `db` (a PostgreSQL URL), with short reloads so other hubs' changes show quickly. */
export function startPgHub(db: string, opts: Omit<Partial<HubOptions>, 'port' | 'db'> = {}): Promise<HubHandle> {
  return startHub({ port: 0, host: '127.0.0.1', db, dbReloadMs: 500, ...opts });
}

/** GET/POST/… with a bearer token; JSON answer parsed. */
export async function call(hub: HubHandle, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${hub.port}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed };
}
