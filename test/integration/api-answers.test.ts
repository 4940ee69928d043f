/**
 * Every JSON answer of a real hub parses with its zod schema in schema/api-answers.ts, the one
 * definition of the REST answers (it types the hub's routes and answer builders, the dashboard's
 * reads and the OpenAPI document's responses). The schemas' objects are strict, so a field the hub
 * sends that the schema lacks fails here as much as a missing or mistyped one.
 *
 * The hub (temp SQLite file, port 0) is fed so that the answers carry their nullable and optional
 * variants: line-protocol hosts with two hours of old data and a few minutes of recent data (one
 * chip without temperature, extras on some lines); a /ws/agent agent with a chip that never
 * reports, source health and spool drops; and one that disconnects without a batch (its chips go
 * offline). The queries cover every tier, groupBy, aggregate and empty selections; checks at the
 * end say the variants were actually seen.
 *
 * At the bottom, type-level checks (run by typecheck): the hub's own types of what it sends (e.g.
 * ChipView, AgentView, IngestMetrics, HistoryField) are the schemas' types.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  agentsAnswerSchema,
  chipSamplesAnswerSchema,
  chipsAnswerSchema,
  energyAnswerSchema,
  errorBodySchema,
  healthAnswerSchema,
  seriesAnswerSchema,
  topAnswerSchema,
  type AgentsAnswer,
  type ChipSamplesAnswer,
  type ChipsAnswer,
  type EnergyAnswer,
  type ErrorBody,
  type HealthAnswer,
  type SeriesAnswer,
  type TopAnswer,
} from '../../schema/api-answers.ts';
import type { ErrorCode } from '../../schema/error-codes.ts';
import type { ChipView, SourceHealthReport } from '../../schema/protocol.ts';
import type { Sample } from '../../schema/sample.ts';
import type { AgentView } from '../../server/fleet-state.ts';
import type { GroupBy } from '../../server/history/chip-selection.ts';
import type { Prices } from '../../server/history/prices.ts';
import type { EnergyQuery } from '../../server/history/query-schemas.ts';
import type { HistoryField } from '../../server/history/step-buckets.ts';
import type { Tier } from '../../server/history/tier-choice.ts';
import { startHub, type HubHandle } from '../../server/hub.ts';
import type { IngestMetrics } from '../../server/ingest.ts';
import type { Agg } from '../../server/rollups/rollup-bucket.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';
import { batch, chipInfo, hello, sample } from '../helpers/frames.ts';
import { eventually, TestSocket } from '../helpers/ws-client.ts';

const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const NOW = Date.now();
/** Old data: two whole hours from H0 (4 h ago). Recent data: 5 minutes from R0. */
const H0 = Math.floor(NOW / HOUR) * HOUR - 4 * HOUR;
const R0 = Math.floor(NOW / MIN) * MIN - 5 * MIN;
const ALL_FIELDS = 'utilPct,memUtilPct,memUsedBytes,memTotalBytes,powerW,powerLimitW,tempC,smClockMhz,eccCorrected,eccUncorrected,energyJ';
const UNIT_MS: Record<string, number> = { s: S, m: MIN, h: HOUR };
/** A path as a test names it, times written `{H0}`, `{H0+90m}`, `{R0+7s}`, `{NOW}`: the times filled in (stable test names). */
function at(path: string): string {
  return path.replace(/\{(H0|R0|NOW)(?:([+-])(\d+)([smh]))?\}/g, (_m, base: string, sign?: string, n?: string, unit?: string) => {
    const t = base === 'H0' ? H0 : base === 'R0' ? R0 : NOW;
    return String(sign ? t + (sign === '-' ? -1 : 1) * Number(n) * UNIT_MS[unit!] : t);
  });
}

function lines(): string[] {
  const out: string[] = [];
  const chips = [
    { id: 'gpu-a0', host: 'h1', vendor: 'nvidia', model: 'H100', temp: true },
    { id: 'gpu-b0', host: 'h2', vendor: 'nvidia', model: 'H100', temp: true },
    { id: 'trn-c0', host: 'h2', vendor: 'aws', model: 'Trainium2', temp: false },
  ];
  for (const c of chips) {
    let energy = 1_000_000;
    for (let k = 0; k < 120; k++) {
      if (k > 0) energy += 400 * 60;
      const temp = c.temp ? `,temp_c=${50 + (k % 7)}` : '';
      const extra = k % 10 === 0 ? ',nc0_util_pct=12.5' : '';
      out.push(`chip,host=${c.host},chip=${c.id},vendor=${c.vendor},model=${c.model} util_pct=${k % 100},power_w=400,energy_j=${energy}${temp}${extra} ${H0 + k * MIN}`);
    }
  }
  for (let j = 0; j < 60; j++) out.push(`chip,host=h1,chip=gpu-a0,vendor=nvidia,model=H100,instance_type=p5.48xlarge util_pct=${j},power_w=100,energy_j=${5_000_000 + 100 * j} ${R0 + j * 5 * S}`);
  return out;
}

let hub: HubHandle;
let tmp: { dir: string; cleanup(): void };
let agentA: TestSocket;
/** Tokens made for the test (auth is on): samples go with the agent's, reads with the viewer's. */
let agentAuth: Record<string, string>;
let viewerAuth: Record<string, string>;

/** The answers seen, by schema, for the checks that the variants were covered. */
const seen = { series: [] as SeriesAnswer[], energy: [] as EnergyAnswer[], top: [] as TopAnswer[], chips: [] as ChipsAnswer[], agents: [] as AgentsAnswer[], samples: [] as ChipSamplesAnswer[], health: [] as HealthAnswer[], errors: [] as ErrorBody[] };

/** GET (or send) `path`, expect `status` and a JSON body, and parse it with `schema`; a mismatch fails naming the path and the issues. */
async function answer<T>(schema: z.ZodType<T>, path: string, status = 200, init?: RequestInit): Promise<T> {
  const auth = init?.method === 'POST' ? agentAuth : viewerAuth;
  const res = await fetch(`${hub.url}${at(path)}`, { ...init, headers: { ...auth, ...(init?.headers as Record<string, string> | undefined) } });
  const text = await res.text();
  expect(res.status, `${path}: ${text.slice(0, 300)}`).toBe(status);
  expect(res.headers.get('content-type') ?? '', path).toMatch(/^application\/json/);
  const body: unknown = JSON.parse(text);
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new Error(`${path}: the answer does not match its schema:\n${z.prettifyError(parsed.error)}\nanswer: ${text.slice(0, 1500)}`);
  return parsed.data;
}

beforeAll(async () => {
  tmp = tempDir();
  hub = await startHub({ port: 0, host: '127.0.0.1', db: join(tmp.dir, 'hub.db'), prices: { kwh: 0.15, chipHour: { H100: 2.5 } } });
  agentAuth = { authorization: `Bearer ${hub.tokens.create('agent', 'test agent').token}` };
  viewerAuth = { authorization: `Bearer ${hub.tokens.create('viewer', 'test viewer').token}` };
  const res = await fetch(`${hub.url}/api/v1/write?precision=ms`, { method: 'POST', body: lines().join('\n'), headers: agentAuth });
  expect(res.status).toBe(204);

  // agent-a: three chips, one of which never reports; a batch with flags, extras, health and drops; a backfill batch.
  agentA = await TestSocket.open(`ws://127.0.0.1:${hub.port}/ws/agent`, agentAuth);
  agentA.send(hello('agent-a', [chipInfo(0), chipInfo(1), chipInfo(2, { cores: null, memTotalBytes: null, ratedPowerW: null })]));
  await agentA.waitFor((f) => f.type === 'welcome');
  const health: SourceHealthReport[] = [
    { kind: 'nvidia-smi', state: 'restarting', restarts: 2, parseErrors: 5, lastError: 'nvidia-smi exited with code 1' },
    { kind: 'sim-nvml', state: 'ok', restarts: 0, parseErrors: 0, lastError: null },
  ];
  const now = Date.now();
  const s0: Sample = sample('GPU-test-0', now, { smClockMhz: 1980, eccCorrected: 0, eccUncorrected: null, flags: { powerEstimated: true }, extras: { nc0: 41.5 } });
  agentA.send({ ...batch(0, [s0, sample('GPU-test-1', now, { tempC: null })]), health, dropped: { batches: 3, samples: 24 } });
  await agentA.waitFor((f) => f.type === 'ack' && f.seq === 0);
  agentA.send({ ...batch(1, [sample('GPU-test-1', now - 2 * MIN)]), backfill: true });
  await agentA.waitFor((f) => f.type === 'ack' && f.seq === 1);

  // agent-b: says hello and leaves without a batch (its chip goes offline, lastBatchAt stays null).
  const agentB = await TestSocket.open(`ws://127.0.0.1:${hub.port}/ws/agent`, agentAuth);
  agentB.send(hello('agent-b', [chipInfo(9)]));
  await agentB.waitFor((f) => f.type === 'welcome');
  agentB.close();
  await eventually(async () => {
    const r = await fetch(`${hub.url}/api/v1/agents`, { headers: viewerAuth });
    const body = (await r.json()) as AgentsAnswer;
    return body.agents.some((a) => a.agentId === 'agent-b' && !a.connected);
  });
  await hub.store.flush();
});
afterAll(async () => {
  agentA?.close();
  await hub?.close();
  tmp?.cleanup();
});

describe('answers parse with their schemas', () => {
  it('GET /healthz', async () => {
    seen.health.push(await answer(healthAnswerSchema, '/healthz'));
  });

  it('GET /api/v1/chips', async () => {
    seen.chips.push(await answer(chipsAnswerSchema, '/api/v1/chips'));
  });

  it('GET /api/v1/agents', async () => {
    seen.agents.push(await answer(agentsAnswerSchema, '/api/v1/agents'));
  });

  it.each([
    '/api/v1/chips/gpu-a0/samples?from={R0}&to={R0+5m}',
    '/api/v1/chips/gpu-a0/samples?from={H0}&to={NOW}&limit=3',
    '/api/v1/chips/GPU-test-0/samples',
    '/api/v1/chips/GPU-test-1/samples',
    '/api/v1/chips/GPU-test-2/samples',
    '/api/v1/chips/trn-c0/samples?from={H0}&to={H0+20m}',
  ])('GET %s', async (path) => {
    seen.samples.push(await answer(chipSamplesAnswerSchema, path));
  });

  it.each([
    '/api/v1/series',
    '/api/v1/series?chip=gpu-a0&fields=utilPct,powerW,energyJ&step=1h&from={H0}&to={H0+2h}',
    '/api/v1/series?fields=' + ALL_FIELDS + '&step=1m&from={H0}&to={H0+30m}',
    '/api/v1/series?fields=' + ALL_FIELDS + '&groupBy=model&step=1h&from={H0}&to={H0+3h}',
    '/api/v1/series?groupBy=host&agg=min&step=5m&from={H0}&to={H0+1h}',
    '/api/v1/series?groupBy=vendor&agg=max&from={H0}&to=now',
    '/api/v1/series?groupBy=fleet&agg=last&fields=tempC,energyJ&from=now-6h',
    '/api/v1/series?groupBy=chip&host=h2&step=1h&from={H0}&to={H0+1h}',
    '/api/v1/series?groupBy=model&host=h2&step=1h&from={H0}&to={H0+1h}',
    '/api/v1/series?chip=gpu-a0,GPU-test-0,GPU-test-2&fields=' + ALL_FIELDS + '&from=now-10m&step=10s',
    '/api/v1/series?vendor=aws&host=h1',
  ])('GET %s', async (path) => {
    seen.series.push(await answer(seriesAnswerSchema, path));
  });

  it.each([
    '/api/v1/energy',
    '/api/v1/energy?from={H0}&to={H0+2h}',
    '/api/v1/energy?groupBy=host&from={H0}&to={H0+2h}',
    '/api/v1/energy?groupBy=model&from={H0+7m}&to={H0+97m}',
    '/api/v1/energy?groupBy=vendor&from=now-24h',
    '/api/v1/energy?chip=gpu-a0&from={R0+7s}&to={R0+243s}',
    '/api/v1/energy?model=Trainium2&from=now-3m',
    '/api/v1/energy?vendor=aws&host=h1',
  ])('GET %s', async (path) => {
    seen.energy.push(await answer(energyAnswerSchema, path));
  });

  it.each([
    '/api/v1/top',
    '/api/v1/top?field=energyJ&from={H0}&to={H0+2h}',
    '/api/v1/top?field=tempC&agg=max&order=asc&k=1&from={H0}&to={H0+2h}',
    '/api/v1/top?field=powerW&agg=last&from={R0+7s}&to={R0+243s}',
    '/api/v1/top?vendor=aws&host=h1',
  ])('GET %s', async (path) => {
    seen.top.push(await answer(topAnswerSchema, path));
  });

  it.each<[string, number, RequestInit | undefined]>([
    ['/api/v1/series?agg=median', 400, undefined],
    ['/api/v1/energy?chip=nope', 400, undefined],
    ['/api/v1/chips/gpu-a0/samples?limit=0', 400, undefined],
    ['/api/v1/chips/nope/samples', 404, undefined],
    ['/api/v1/nope', 404, undefined],
    ['/api/v1/write', 400, { method: 'POST', body: 'chip,host=h1,rack=r1 util_pct=1' }],
    ['/api/v1/write', 415, { method: 'POST', body: 'x', headers: { 'content-encoding': 'br' } }],
  ])('error body: %s (%i)', async (path, status, init) => {
    seen.errors.push(await answer(errorBodySchema, path, status, init));
  });
});

describe('the answers cover the variants the schemas allow', () => {
  it('chips: live or stale and offline, latest null and not, nullable inventory, sample flags and extras', () => {
    const chips = seen.chips.flatMap((a) => a.chips);
    expect(new Set(chips.map((c) => c.status))).toContain('offline');
    expect(chips.map((c) => c.status).some((s) => s === 'live' || s === 'stale')).toBe(true);
    expect(chips.some((c) => c.latest === null)).toBe(true);
    expect(chips.some((c) => c.latest?.flags && c.latest.extras)).toBe(true);
    expect(chips.some((c) => c.cores === null && c.instanceType !== null)).toBe(true);
    expect(chips.some((c) => c.instanceType === null)).toBe(true);
  });

  it('agents: connected and not, with and without health, lastBatchAt null and not', () => {
    const agents = seen.agents.flatMap((a) => a.agents);
    expect(new Set(agents.map((a) => a.connected))).toEqual(new Set([true, false]));
    expect(agents.some((a) => a.health.some((h) => h.lastError === null) && a.health.some((h) => h.lastError !== null))).toBe(true);
    expect(agents.some((a) => a.lastBatchAt === null)).toBe(true);
    expect(agents.some((a) => a.dropped.batches > 0)).toBe(true);
  });

  it('samples: truncated with next, and whole; backfill flags', () => {
    expect(seen.samples.some((a) => a.truncated === true && typeof a.next === 'number')).toBe(true);
    expect(seen.samples.some((a) => a.truncated === undefined && a.samples.length > 0)).toBe(true);
    expect(seen.samples.some((a) => a.samples.length === 0)).toBe(true);
    expect(seen.samples.some((a) => a.samples.some((s) => s.flags?.backfill))).toBe(true);
  });

  it('series: every tier, both sources, nulls in columns, tags present and absent, an empty selection', () => {
    expect(new Set(seen.series.map((a) => a.tier))).toEqual(new Set(['raw', '1m', '1h']));
    expect(new Set(seen.series.map((a) => a.source))).toEqual(new Set(['chips', 'fleet-rollups']));
    expect(seen.series.some((a) => a.data.slice(1).some((col) => col.includes(null)))).toBe(true);
    expect(seen.series.some((a) => a.series.some((s) => s.chipId === undefined && s.vendor === undefined))).toBe(true);
    expect(seen.series.some((a) => a.series.length === 0 && a.data.length === 1)).toBe(true);
    expect(new Set(seen.series.map((a) => a.groupBy))).toEqual(new Set(['none', 'chip', 'host', 'model', 'vendor', 'fleet']));
  });

  it('energy: every groupBy, costs and figures null and not, an empty selection', () => {
    const rows = seen.energy.flatMap((a) => [...a.rows, a.totals]);
    expect(new Set(seen.energy.map((a) => a.groupBy))).toEqual(new Set(['chip', 'host', 'model', 'vendor']));
    expect(new Set(seen.energy.map((a) => a.tier))).toEqual(new Set(['raw', '1m', '1h']));
    for (const k of ['energyKWh', 'avgPowerW', 'avgUtilPct', 'energyCost', 'chipHourCost', 'cost', 'costPerUtilizedChipHour'] as const) {
      expect(rows.some((r) => r[k] === null), `${k} null`).toBe(true);
      expect(rows.some((r) => r[k] !== null), `${k} a number`).toBe(true);
    }
    expect(seen.energy.some((a) => a.rows.length === 0 && a.totals.chips === 0)).toBe(true);
  });

  it('top: chips ranked, and none', () => {
    expect(seen.top.some((a) => a.chips.length > 1)).toBe(true);
    expect(seen.top.some((a) => a.chips.length === 0)).toBe(true);
  });

  it('errors: a request id and the codes seen', () => {
    expect(new Set(seen.errors.map((e) => e.code))).toEqual(new Set(['bad_request', 'not_found']));
    expect(seen.errors.every((e) => typeof e.requestId === 'string')).toBe(true);
  });

  it('a field the schema does not know fails the parse (the schemas are strict)', () => {
    const a = seen.energy[0];
    expect(energyAnswerSchema.safeParse(a).success).toBe(true);
    expect(energyAnswerSchema.safeParse({ ...a, extra: 1 }).success).toBe(false);
    expect(energyAnswerSchema.safeParse({ ...a, totals: { ...a.totals, extra: 1 } }).success).toBe(false);
    expect(chipsAnswerSchema.safeParse({ chips: [{ ...seen.chips[0].chips[0], extra: 1 }] }).success).toBe(false);
  });
});

describe('GET /api/v1/openapi.json', () => {
  it('describes each JSON answer with the properties of its schema', async () => {
    const res = await fetch(`${hub.url}/api/v1/openapi.json`);
    const doc = (await res.json()) as { paths: Record<string, { get?: { responses: Record<string, any> } }>; components: { schemas: Record<string, any> } };
    const answers: [string, z.ZodObject][] = [
      ['/healthz', healthAnswerSchema],
      ['/api/v1/chips', chipsAnswerSchema],
      ['/api/v1/agents', agentsAnswerSchema],
      ['/api/v1/chips/{chipId}/samples', chipSamplesAnswerSchema],
      ['/api/v1/series', seriesAnswerSchema],
      ['/api/v1/energy', energyAnswerSchema],
      ['/api/v1/top', topAnswerSchema],
    ];
    for (const [path, schema] of answers) {
      const s = doc.paths[path]?.get?.responses['200']?.content?.['application/json']?.schema;
      expect(s, path).toMatchObject({ type: 'object', additionalProperties: false });
      expect(Object.keys(s.properties), path).toEqual(Object.keys(schema.shape));
    }
    expect(Object.keys(doc.components.schemas.Error.properties)).toEqual(Object.keys(errorBodySchema.shape));
  });
});

// ---------- type level: the hub's own types are the schemas' types (checked by typecheck) ----------

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Compiles only when A and B are assignable to each other. */
function same<A, B>(ok: Same<A, B>): Same<A, B> {
  return ok;
}
same<ChipView, ChipsAnswer['chips'][number]>(true);
same<Sample, ChipSamplesAnswer['samples'][number]>(true);
same<AgentView, AgentsAnswer['agents'][number]>(true);
same<IngestMetrics, HealthAnswer['ingested']>(true);
same<ErrorCode, ErrorBody['code']>(true);
same<Tier, SeriesAnswer['tier']>(true);
same<Agg, SeriesAnswer['agg']>(true);
same<HistoryField, SeriesAnswer['fields'][number]>(true);
same<GroupBy, SeriesAnswer['groupBy']>(true);
same<NonNullable<EnergyQuery['groupBy']>, EnergyAnswer['groupBy']>(true);
same<Prices, EnergyAnswer['prices']>(true);
