/**
 * The whole hub on PostgreSQL (`--db postgres://…?schema=…`), in a schema of this file's run on
 * the test server (dropped afterwards; the tests fail, clearly, when PostgreSQL does not answer):
 * an agent with a token made on PG sends samples, which the history API answers; a revoked token
 * is refused; a second hub on the same schema knows the same tokens (created or revoked on the
 * other, within seconds) and answers the same data; `fleetscope token create --db postgres://…`;
 * the readiness check; a server that does not answer is named in the error.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubHandle } from '../../server/hub.ts';
import { parseDbTarget } from '../../server/store/open-store.ts';
import { openPgTokenStore } from '../../server/auth/pg-token-store.ts';
import { connectPg } from '../../server/store/pg/pg-connection.ts';
import { startHub } from '../../server/hub.ts';
import { createToken, runFleetscope } from '../../bench/support/processes.ts';
import { chipInfo, hello, sample } from '../helpers/frames.ts';
import { call, freshPgSchema, startPgHub, type PgSchema } from '../helpers/pg-hub.ts';
import { eventually, TestSocket } from '../helpers/ws-client.ts';

const CHIP = 'GPU-test-0';
let pg: PgSchema;
let a: HubHandle;
let b: HubHandle | undefined;
let admin: string;
let agentToken: string;
/** On a 10 s boundary: the three samples fall in one 10 s bucket of /api/v1/series. */
const T0 = Math.floor((Date.now() - 60_000) / 10_000) * 10_000;

beforeAll(async () => {
  pg = await freshPgSchema();
  a = await startPgHub(pg.url);
  admin = a.tokens.create('admin', 'pg admin').token;
  agentToken = a.tokens.create('agent', 'pg agent').token;
  await a.tokens.flush();
});
afterAll(async () => {
  await b?.close();
  await a?.close();
  await pg?.drop();
});

async function sendSamples(hub: HubHandle, token: string, agentId: string, samples: ReturnType<typeof sample>[], chip = chipInfo(0)) {
  const ws = await TestSocket.open(`ws://127.0.0.1:${hub.port}/ws/agent`, { authorization: `Bearer ${token}` });
  try {
    ws.send(hello(agentId, [chip]));
    await ws.waitFor((f) => f.type === 'welcome');
    ws.send({ v: 1, type: 'batch', seq: 0, samples });
    const ack = await ws.waitFor((f) => (f.type === 'ack' || f.type === 'error') && f.seq === 0);
    expect(ack.type, JSON.stringify(ack)).toBe('ack');
  } finally {
    ws.close();
  }
}

describe('a hub on PostgreSQL', () => {
  it('parses --db: postgres:// and postgresql:// URLs with ?schema=, else an SQLite path', () => {
    expect(parseDbTarget('postgres://u@h:5433/d?schema=fleet')).toEqual({ kind: 'pg', url: 'postgres://u@h:5433/d', schema: 'fleet' });
    expect(parseDbTarget('postgresql://u@h/d', 'other')).toEqual({ kind: 'pg', url: 'postgresql://u@h/d', schema: 'other' });
    expect(parseDbTarget('postgres://u@h/d')).toMatchObject({ schema: 'public' });
    expect(parseDbTarget('./data/fleetscope.db')).toEqual({ kind: 'sqlite', path: './data/fleetscope.db' });
    expect(() => parseDbTarget('postgres://u@h/d?schema=Bad-Name')).toThrow(/schema name/);
  });

  it('stores an agent\'s samples and answers /api/v1/chips/:id/samples and /api/v1/series', async () => {
    await sendSamples(a, agentToken, 'pg-agent', [0, 1, 2].map((i) => sample(CHIP, T0 + i * 1000, { powerW: 300 + i })));
    const rows = await pg.query(`SELECT count(*)::int AS n FROM ${pg.schema}.chips WHERE id = $1`, [CHIP]);
    expect(rows[0]!.n).toBe(1);
    const got = await call(a, admin, 'GET', `/api/v1/chips/${CHIP}/samples?from=${T0 - 1}&to=${T0 + 10_000}`);
    expect(got.status, JSON.stringify(got.body)).toBe(200);
    expect(got.body.samples.map((s: { ts: number; powerW: number }) => [s.ts - T0, s.powerW])).toEqual([[0, 300], [1000, 301], [2000, 302]]);
    const series = await call(a, admin, 'GET', `/api/v1/series?chip=${CHIP}&fields=powerW&step=10s&from=${T0}&to=${T0 + 9_999}`);
    expect(series.status, JSON.stringify(series.body)).toBe(200);
    expect(series.body.data).toEqual([[T0], [301]]);
  });

  it('refuses a revoked token', async () => {
    const made = await call(a, admin, 'POST', '/api/v1/tokens', { role: 'viewer', name: 'short-lived' });
    expect(made.status).toBe(201);
    expect((await call(a, made.body.token, 'GET', '/api/v1/chips')).status).toBe(200);
    expect((await call(a, admin, 'DELETE', `/api/v1/tokens/${made.body.id}`)).status).toBe(204);
    expect((await call(a, made.body.token, 'GET', '/api/v1/chips')).status).toBe(401);
    const row = await pg.query(`SELECT revoked_at FROM ${pg.schema}.api_tokens WHERE id = $1`, [made.body.id]);
    expect(row[0]!.revoked_at).not.toBeNull();
  });

  it('a second hub on the same schema has the same tokens and data, and sees tokens made and revoked on the first within seconds', async () => {
    b = await startPgHub(pg.url);
    expect((await call(b, admin, 'GET', '/api/v1/chips')).status).toBe(200);
    const got = await call(b, admin, 'GET', `/api/v1/chips/${CHIP}/samples?from=${T0 - 1}&to=${T0 + 10_000}`);
    expect(got.body.samples).toHaveLength(3);
    // Made on A after B started: B takes it within seconds (NOTIFY, else the reload).
    const made = await call(a, admin, 'POST', '/api/v1/tokens', { role: 'agent', name: 'made on a' });
    await eventually(() => b!.tokens.verify(made.body.token) !== null, 5000, 'the token made on hub A to reach hub B');
    // (Another agent id: an agent id stays bound to the token that registered it.)
    await sendSamples(b, made.body.token, 'pg-agent-b', [sample('GPU-test-1', T0 + 3000, { powerW: 303 })], chipInfo(1));
    // Stored in the shared schema (hub A learns of B's chips through the live bus, --bus, not here).
    const onB = await call(b, admin, 'GET', `/api/v1/chips/GPU-test-1/samples?from=${T0 - 1}&to=${T0 + 10_000}`);
    expect(onB.body.samples.map((s: { powerW: number }) => s.powerW)).toEqual([303]);
    expect((await pg.query(`SELECT agent_id FROM ${pg.schema}.chips WHERE id = 'GPU-test-1'`))[0]).toEqual({ agent_id: 'pg-agent-b' });
    // Revoked on B: refused by A within seconds.
    expect((await call(b, admin, 'DELETE', `/api/v1/tokens/${made.body.id}`)).status).toBe(204);
    await eventually(() => a.tokens.isRevoked(made.body.id), 5000, 'the revocation on hub B to reach hub A');
    const ws = await TestSocket.open(`ws://127.0.0.1:${a.port}/ws/agent`, { authorization: `Bearer ${made.body.token}` }).catch((err: Error) => err);
    expect(ws).toBeInstanceOf(Error);
  });

  it('without notifications, the periodic reload still brings other hubs\' tokens and revocations', async () => {
    const target = parseDbTarget(pg.url);
    if (target.kind !== 'pg') throw new Error('not a PostgreSQL URL');
    const conn = await connectPg(target.url, { schema: target.schema, maxConnections: 2 });
    const deaf = await openPgTokenStore(conn.pool, { url: target.url, schema: target.schema, listen: false, reloadMs: 200 });
    try {
      const t = a.tokens.create('viewer', 'reload backstop');
      await a.tokens.flush();
      await eventually(() => deaf.verify(t.token) !== null, 3000, 'the reload to bring the token');
      a.tokens.revoke(t.id);
      await a.tokens.flush();
      await eventually(() => deaf.isRevoked(t.id), 3000, 'the reload to bring the revocation');
    } finally {
      await deaf.close();
      await conn.pool.end();
    }
  });

  it('answers /readyz with a database check on PostgreSQL', async () => {
    const res = await call(a, admin, 'GET', '/readyz');
    expect(res.body.checks.database).toBe('ok');
  });

  it('`fleetscope token create --db postgres://…` makes a token the hubs take', async () => {
    const token = await createToken(pg.url, 'viewer', 'from cli');
    await eventually(async () => (await call(a, token, 'GET', '/api/v1/chips')).status === 200, 5000, 'the CLI token to work on hub A');
    const list = runFleetscope(['token', 'list', '--json', '--db', pg.url]);
    expect(await list.exited, list.stderr()).toBe(0);
    expect(JSON.parse(list.stdout()).map((t: { name: string }) => t.name)).toContain('from cli');
  });

  it('hubs started at once on a new schema create and migrate it once', async () => {
    const fresh = await freshPgSchema();
    try {
      const started = await Promise.allSettled([startPgHub(fresh.url), startPgHub(fresh.url), startPgHub(fresh.url)]);
      await Promise.all(started.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
      expect(started.map((r) => (r.status === 'rejected' ? String(r.reason) : 'started'))).toEqual(['started', 'started', 'started']);
      // Each migration of schema/pg-migrations applied once.
      const journal = JSON.parse(readFileSync(new URL('../../schema/pg-migrations/meta/_journal.json', import.meta.url), 'utf8')) as { entries: unknown[] };
      expect((await fresh.query(`SELECT count(*)::int AS n FROM ${fresh.schema}.__drizzle_migrations`))[0]!.n).toBe(journal.entries.length);
    } finally {
      await fresh.drop();
    }
  });

  it('names host:port when PostgreSQL does not answer', async () => {
    await expect(startHub({ port: 0, host: '127.0.0.1', db: 'postgres://postgres@127.0.0.1:1/test' })).rejects.toThrow(/PostgreSQL at 127\.0\.0\.1:1 does not answer/);
  });
});
