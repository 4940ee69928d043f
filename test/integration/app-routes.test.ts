/**
 * The hub's HTTP routes through Hono's `app.request()` (no listening socket): createApp with its
 * deps built for real as server/hub.ts builds them — a SQLite store on a temp file, FleetState,
 * LiveFanout and Ingest. Answers match those of a running hub (history-api, write-endpoint tests).
 * Tests run in order: the fleet starts empty, then a line-protocol write fills it.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.ts';
import { FleetState } from '../../server/fleet-state.ts';
import { Ingest } from '../../server/ingest.ts';
import { LiveFanout } from '../../server/live/live-fanout.ts';
import { openSqliteStore } from '../../server/store/sqlite-store.ts';
import type { Store } from '../../server/store/store.ts';
import { silentLogger } from '../../common/logger.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';

const STARTED_AGO_MS = 5_000;
const T = Math.floor((Date.now() - 60_000) / 10_000) * 10_000;
const G1 = 'chip,host=gpu-node-1,chip=GPU-11111111-aaaa,vendor=nvidia,model=H100,instance_type=p5.48xlarge';
const N0 = 'chip,host=trn-node-1,chip=i-0abc-neuron0,vendor=aws,model=Trainium2';
const BODY = [`${G1} util_pct=40,power_w=600,power_limit_w=700 ${T}`, `${G1} util_pct=60,power_w=610 ${T + 1000}`, `${N0} util_pct=55.25,power_w=300 ${T}`].join('\n');

let tmp: ReturnType<typeof tempDir>;
let store: Store;
let ingest: Ingest;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  tmp = tempDir();
  store = await openSqliteStore(join(tmp.dir, 'hub.db'), { log: silentLogger });
  const fleet = new FleetState();
  fleet.load(await store.listChips(), await store.latestSamples());
  const fanout = new LiveFanout(() => fleet.list());
  ingest = new Ingest(store, fleet, fanout);
  app = createApp({ store, fleet, ingest, log: silentLogger, startedAt: Date.now() - STARTED_AGO_MS, clientDir: join(tmp.dir, 'no-client-build') });
});
afterAll(async () => {
  await store?.close();
  tmp?.cleanup();
});

async function req(path: string, init?: RequestInit): Promise<{ status: number; type: string; body: any; text: string; headers: Headers }> {
  const res = await app.request(path, init);
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, type, text, headers: res.headers, body: type.includes('json') && text ? JSON.parse(text) : text };
}
const write = (body: string, query = '?precision=ms') => req(`/api/v1/write${query}`, { method: 'POST', body, headers: { 'content-type': 'text/plain; charset=utf-8' } });

/** A JSON error answer: `{ code, message, requestId }`, the requestId also in X-Request-Id. */
function expectError(r: Awaited<ReturnType<typeof req>>, status: number, code: string): void {
  expect(r.status).toBe(status);
  expect(r.type).toMatch(/^application\/json/);
  expect(r.body).toEqual({ code, message: expect.any(String), requestId: expect.any(String) });
  expect(r.body.requestId).toBe(r.headers.get('x-request-id'));
}

describe('before any data', () => {
  it('GET /healthz: ok, uptime, nothing ingested', async () => {
    const r = await req('/healthz');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok', uptimeS: expect.any(Number), ingested: { batches: 0, samples: 0, backfillSamples: 0, rejectedFrames: 0 } });
    expect(r.body.uptimeS).toBeGreaterThanOrEqual(STARTED_AGO_MS / 1000);
    expect(r.body.uptimeS).toBeLessThan(STARTED_AGO_MS / 1000 + 30);
  });

  it('GET /api/v1/chips and /api/v1/agents: empty lists', async () => {
    expect(await req('/api/v1/chips')).toMatchObject({ status: 200, body: { chips: [] } });
    expect(await req('/api/v1/agents')).toMatchObject({ status: 200, body: { agents: [] } });
  });

  it('GET / without a built client: 503 saying how to build it', async () => {
    const r = await req('/');
    expect(r.status).toBe(503);
    expect(r.text).toMatch(/dashboard is not built.*npm run build/);
  });
});

describe('unknown routes', () => {
  it.each([
    ['GET', '/nope'],
    ['GET', '/api/v1/nope'],
    ['GET', '/api/v2/chips'],
    ['DELETE', '/api/v1/chips'],
    ['GET', '/api/v1/write'],
  ])('%s %s: 404 not_found JSON naming the route', async (method, path) => {
    const r = await req(path, { method });
    expectError(r, 404, 'not_found');
    expect(r.body.message).toBe(`no route for ${method} ${path}`);
  });
});

describe('GET /api/v1/openapi.json', () => {
  it('is an OpenAPI 3.1 document listing the routes the app serves', async () => {
    const r = await req('/api/v1/openapi.json');
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^application\/json/);
    expect(r.body.openapi).toBe('3.1.0');
    for (const p of ['/healthz', '/api/v1/chips', '/api/v1/agents', '/api/v1/chips/{chipId}/samples', '/api/v1/write', '/api/v1/series', '/api/v1/energy', '/api/v1/top', '/api/v1/openapi.json']) {
      expect(r.body.paths[p], p).toBeDefined();
    }
  });
});

describe('GET /api/v1/series with bad parameters: 400 bad_request naming the parameter', () => {
  const cases: [string, string, string | RegExp][] = [
    ['unknown agg', '/api/v1/series?agg=median', 'agg: must be one of avg, min, max, last; got "median"'],
    ['garbage step', '/api/v1/series?step=fast', /^step: must be a positive whole number with a unit s, m, h, d or w .*; got "fast"$/],
    ['garbage from', '/api/v1/series?from=yesterday', /^from: must be an ISO-8601 time .*; got "yesterday"$/],
    ['from after to', `/api/v1/series?from=${T + 60_000}&to=${T}`, `from: ${new Date(T + 60_000).toISOString()} is after to (${new Date(T).toISOString()}); give from earlier than to`],
    ['unknown field', '/api/v1/series?fields=utilPct,bogus', /^fields: unknown field "bogus"; accepted \(comma list\): utilPct, /],
    ['unknown chip', '/api/v1/series?chip=nope', 'chip: unknown chip "nope"; GET /api/v1/chips lists the chips'],
    ['maxPoints 0', '/api/v1/series?maxPoints=0', 'maxPoints: must be a whole number from 1 to 100000; got "0"'],
    ['unknown groupBy', '/api/v1/series?groupBy=rack', 'groupBy: must be one of none, chip, host, model, vendor, fleet; got "rack"'],
    ['unknown format', '/api/v1/series?format=xml', 'format: must be one of json, csv; got "xml"'],
    ['unknown parameter', '/api/v1/series?field=utilPct', /^unknown parameter "field"; accepted: /],
    ['parameter given twice', '/api/v1/series?agg=min&agg=max', 'agg: given 2 times; give it once'],
  ];
  it.each(cases)('%s', async (_name, path, message) => {
    const r = await req(path);
    expectError(r, 400, 'bad_request');
    if (typeof message === 'string') expect(r.body.message).toBe(message);
    else expect(r.body.message).toMatch(message);
  });
});

describe('POST /api/v1/write', () => {
  it('rejects a malformed body with 400 naming the line, storing nothing', async () => {
    const r = await write(`${G1} util_pct=40 ${T}\n${G1},rack=r7 util_pct=1 ${T}`);
    expectError(r, 400, 'bad_request');
    expect(r.body.message).toBe('line 2: unknown tag "rack"; accepted: host, chip, vendor, model, instance_type');
    const noFields = await write(`${G1} ${T}`);
    expectError(noFields, 400, 'bad_request');
    expect(noFields.body.message).toMatch(/^line 1: /);
    const range = await write(`${G1} power_w=-5 ${T}`);
    expect(range.body.message).toBe('line 1: field "power_w": -5 is below 0');
    expect(await store.countSamples()).toBe(0);
    expect((await req('/api/v1/chips')).body.chips).toEqual([]);
  });

  it('rejects a bad precision with 400', async () => {
    const r = await write(`${G1} util_pct=7 ${T}`, '?precision=h');
    expectError(r, 400, 'bad_request');
    expect(r.body.message).toBe('precision must be one of ns, us, ms, s, got "h"');
  });

  it('rejects an unsupported Content-Encoding with 415', async () => {
    const r = await req('/api/v1/write', { method: 'POST', body: `${G1} util_pct=7 ${T}`, headers: { 'content-encoding': 'br' } });
    expectError(r, 415, 'bad_request');
  });

  it('an empty body or only comments: 204, nothing stored', async () => {
    expect((await write('')).status).toBe(204);
    expect((await write('# just a comment\n')).status).toBe(204);
    expect(await store.countSamples()).toBe(0);
  });

  it('stores a small valid body and answers 204 with no content', async () => {
    const r = await write(BODY);
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
    expect(await store.countSamples()).toBe(3);
    const got = await store.chipSamples('GPU-11111111-aaaa', T, T + 1000, 10);
    expect(got.map((s) => [s.ts, s.utilPct, s.powerW, s.powerLimitW])).toEqual([
      [T, 40, 600, 700],
      [T + 1000, 60, 610, null],
    ]);
  });
});

describe('after a write', () => {
  it('GET /healthz counts what was ingested', async () => {
    const r = await req('/healthz');
    expect(r.body.ingested).toEqual({ batches: 1, samples: 3, backfillSamples: 0, rejectedFrames: 0 });
  });

  it('GET /api/v1/chips lists the written chips with their latest sample', async () => {
    const r = await req('/api/v1/chips');
    expect(r.status).toBe(200);
    expect(r.body.chips.map((c: any) => [c.host, c.chipId, c.vendor, c.model, c.agentId, c.instanceType, c.latest?.ts])).toEqual([
      ['gpu-node-1', 'GPU-11111111-aaaa', 'nvidia', 'H100', 'lp-gpu-node-1', 'p5.48xlarge', T + 1000],
      ['trn-node-1', 'i-0abc-neuron0', 'aws', 'Trainium2', 'lp-trn-node-1', null, T],
    ]);
  });

  it('GET /api/v1/agents lists one push agent per host', async () => {
    const r = await req('/api/v1/agents');
    expect(r.status).toBe(200);
    expect(r.body.agents.map((a: any) => [a.agentId, a.host, a.connected, a.chips, a.version])).toEqual([
      ['lp-gpu-node-1', 'gpu-node-1', true, 1, 'line-protocol'],
      ['lp-trn-node-1', 'trn-node-1', true, 1, 'line-protocol'],
    ]);
  });

  it('GET /api/v1/chips/:chipId/samples reads them back; unknown chip 404, bad limit 400', async () => {
    const r = await req(`/api/v1/chips/GPU-11111111-aaaa/samples?from=${T}&to=${T + 1000}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ chipId: 'GPU-11111111-aaaa', from: T, to: T + 1000 });
    expect(r.body.samples.map((s: any) => [s.ts, s.utilPct])).toEqual([
      [T, 40],
      [T + 1000, 60],
    ]);
    const one = await req(`/api/v1/chips/GPU-11111111-aaaa/samples?from=${T}&to=${T + 1000}&limit=1`);
    expect(one.body).toMatchObject({ truncated: true, next: T + 1 });
    expect(one.body.samples).toHaveLength(1);
    const unknown = await req('/api/v1/chips/nope/samples');
    expectError(unknown, 404, 'not_found');
    expect(unknown.body.message).toBe('unknown chip "nope"');
    const limit = await req('/api/v1/chips/GPU-11111111-aaaa/samples?limit=0');
    expectError(limit, 400, 'bad_request');
    expect(limit.body.message).toMatch(/^limit must be an integer from 1 to /);
  });

  it('GET /api/v1/series answers the written values for a known chip', async () => {
    await store.flush();
    const r = await req(`/api/v1/series?chip=GPU-11111111-aaaa&fields=utilPct,powerW&step=10s&from=${T}&to=${T}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ from: T, to: T, step: '10s', tier: 'raw', fields: ['utilPct', 'powerW'] });
    expect(r.body.data).toEqual([[T], [50], [605]]);
    const csv = await req(`/api/v1/series?chip=GPU-11111111-aaaa&fields=utilPct&step=10s&from=${T}&to=${T}&format=csv`);
    expect(csv.type).toMatch(/^text\/csv/);
    expect(csv.text).toBe(`ts,GPU-11111111-aaaa/utilPct\r\n${new Date(T).toISOString()},50\r\n`);
  });
});
