/**
 * /api/v1/series, /energy, /top and /openapi.json against a real hub (temp SQLite file, port 0),
 * fed over POST /api/v1/write with known values. Expected figures are worked out by hand from the
 * data below.
 *
 * Old data (two whole hours starting at H0, 4 h ago): three chips, one sample every 30 s
 * (k = 0..239), each chip offset by a few seconds so their last samples differ:
 *   chip    host vendor/model     offset  util hour 1 (even k / odd k)  hour 2    power h1/h2
 *   gpu-a0  h1   nvidia/H100      0 s     40 / 60  (avg 50)            60 / 80   300 / 500
 *   gpu-b0  h2   nvidia/H100      5 s     10 / 30  (avg 20)            20 / 40   200 / 400
 *   trn-c0  h2   aws/Trainium2    10 s    80 / 100 (avg 90)             0 / 20   100 / 100
 * The energy counter grows by power × 30 s at every sample after the first, so an hour bucket
 * holds 119 (first hour) or 120 (second hour) increments.
 * Recent data (5 min, 5 min ago): gpu-a0 every 5 s (j = 0..59), util j, energy +100 J per sample.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { startHub, type HubHandle } from '../../server/hub.ts';
import { PUSH_AGENT_INTERVAL_MS } from '../../server/chip-status.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';

const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const NOW = Date.now();
const H0 = Math.floor(NOW / HOUR) * HOUR - 4 * HOUR;
const R0 = Math.floor(NOW / MIN) * MIN - 5 * MIN;
const iso = (ms: number) => new Date(ms).toISOString();

const CHIPS = [
  { id: 'gpu-a0', host: 'h1', vendor: 'nvidia', model: 'H100', offset: 0, util: [[40, 60], [60, 80]], power: [300, 500] },
  { id: 'gpu-b0', host: 'h2', vendor: 'nvidia', model: 'H100', offset: 5 * S, util: [[10, 30], [20, 40]], power: [200, 400] },
  { id: 'trn-c0', host: 'h2', vendor: 'aws', model: 'Trainium2', offset: 10 * S, util: [[80, 100], [0, 20]], power: [100, 100] },
];

function lines(): string[] {
  const out: string[] = [];
  for (const c of CHIPS) {
    let energy = 1_000_000;
    for (let k = 0; k < 240; k++) {
      const hour = k < 120 ? 0 : 1;
      if (k > 0) energy += c.power[hour] * 30;
      out.push(`chip,host=${c.host},chip=${c.id},vendor=${c.vendor},model=${c.model} util_pct=${c.util[hour][k % 2]},power_w=${c.power[hour]},energy_j=${energy} ${H0 + c.offset + k * 30 * S}`);
    }
  }
  for (let j = 0; j < 60; j++) out.push(`chip,host=h1,chip=gpu-a0,vendor=nvidia,model=H100 util_pct=${j},power_w=100,energy_j=${5_000_000 + 100 * j} ${R0 + j * 5 * S}`);
  return out;
}

let hub: HubHandle;
let tmp: { dir: string; cleanup(): void };
/** A viewer token made for the test (auth is on). */
let viewerToken: string;

async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: any; text: string }> {
  const res = await fetch(`${hub.url}${path}`, { headers: { authorization: `Bearer ${viewerToken}`, ...headers } });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, type, text, body: type.includes('json') ? JSON.parse(text) : text };
}

beforeAll(async () => {
  tmp = tempDir();
  hub = await startHub({ port: 0, host: '127.0.0.1', db: join(tmp.dir, 'hub.db'), prices: { kwh: 0.15, chipHour: { H100: 2.5 } } });
  viewerToken = hub.tokens.create('viewer', 'test viewer').token;
  const agentToken = hub.tokens.create('agent', 'test agent').token;
  const res = await fetch(`${hub.url}/api/v1/write?precision=ms`, { method: 'POST', body: lines().join('\n'), headers: { authorization: `Bearer ${agentToken}` } });
  expect(res.status).toBe(204);
  await hub.store.flush();
});
afterAll(async () => {
  await hub?.close();
  tmp?.cleanup();
});

const A = { label: 'gpu-a0', chipId: 'gpu-a0', host: 'h1', model: 'H100', vendor: 'nvidia' };

describe('GET /api/v1/series', () => {
  it('reads the 1h tier for a 1h step: columns for uPlot, energy used per step', async () => {
    const { status, body } = await get(`/api/v1/series?chip=gpu-a0&fields=utilPct,powerW,energyJ&step=1h&from=${H0}&to=${H0 + HOUR}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ from: H0, to: H0 + HOUR, step: '1h', stepMs: HOUR, tier: '1h', agg: 'avg', groupBy: 'none', source: 'chips', fields: ['utilPct', 'powerW', 'energyJ'] });
    expect(body.series).toEqual([{ ...A, field: 'utilPct' }, { ...A, field: 'powerW' }, { ...A, field: 'energyJ' }]);
    expect(body.data).toEqual([[H0, H0 + HOUR], [50, 70], [300, 500], [119 * 9000, 120 * 15000]]);
  });

  it('reads the 1m tier for a 1m step (ISO times), and merges it into coarser steps across an hour boundary', async () => {
    const m = await get(`/api/v1/series?chip=gpu-a0&fields=utilPct,energyJ&step=1m&agg=max&from=${iso(H0)}&to=${iso(H0 + 3 * MIN)}`);
    expect(m.body).toMatchObject({ tier: '1m', stepMs: MIN, agg: 'max' });
    expect(m.body.data).toEqual([[H0, H0 + MIN, H0 + 2 * MIN, H0 + 3 * MIN], [60, 60, 60, 60], [9000, 18000, 18000, 18000]]);

    const five = await get(`/api/v1/series?chip=gpu-a0&fields=utilPct,energyJ&step=5m&from=${H0 + 55 * MIN}&to=${H0 + 65 * MIN}`);
    expect(five.body).toMatchObject({ tier: '1m', stepMs: 5 * MIN, step: '5m' });
    expect(five.body.data).toEqual([[H0 + 55 * MIN, H0 + 60 * MIN, H0 + 65 * MIN], [50, 70, 70], [10 * 9000, 10 * 15000, 10 * 15000]]);
  });

  it('reads raw samples for sub-minute steps, pairing the first energy reading with the one before from', async () => {
    const base = `/api/v1/series?chip=gpu-a0&fields=utilPct,energyJ&step=10s&from=${R0 + 10 * S}&to=${R0 + 39 * S}`;
    const avg = await get(base);
    expect(avg.body).toMatchObject({ tier: 'raw', stepMs: 10 * S });
    expect(avg.body.data).toEqual([[R0 + 10 * S, R0 + 20 * S, R0 + 30 * S], [2.5, 4.5, 6.5], [200, 200, 200]]);
    const last = await get(`${base}&agg=last`);
    expect(last.body.data[1]).toEqual([3, 5, 7]);
    const min = await get(`${base}&agg=min`);
    expect(min.body.data[1]).toEqual([2, 4, 6]);
  });

  it('chooses the step when none is given: the finest nice step within maxPoints and the tier holding from', async () => {
    const raw = await get(`/api/v1/series?chip=gpu-a0&fields=utilPct&from=${R0}&to=${R0 + 5 * MIN - 1}`);
    expect(raw.body).toMatchObject({ tier: 'raw', step: '10s' });
    expect(raw.body.data[0]).toHaveLength(30);
    expect(raw.body.data[1].slice(0, 3)).toEqual([0.5, 2.5, 4.5]);

    // 2 h in at most 100 points: 1m gives 121, 5m gives 25.
    const coarse = await get(`/api/v1/series?chip=gpu-a0&fields=utilPct&from=${H0}&to=${H0 + 2 * HOUR}&maxPoints=100`);
    expect(coarse.body).toMatchObject({ tier: '1m', step: '5m' });
    expect(coarse.body.data[1].slice(11, 13)).toEqual([50, 70]);

    // Relative times and the defaults (to = now, from = to - 1h).
    const rel = await get('/api/v1/series?chip=gpu-a0&fields=utilPct&from=now-10m');
    expect(rel.body).toMatchObject({ tier: 'raw', step: '10s' });
    expect(rel.body.to - rel.body.from).toBe(10 * MIN);
    expect(Math.abs(rel.body.to - Date.now())).toBeLessThan(60 * S);
    const at = rel.body.data[0].indexOf(R0 + 10 * S);
    expect(rel.body.data[1][at]).toBe(2.5);
    const dflt = await get('/api/v1/series?chip=gpu-a0');
    expect(dflt.body).toMatchObject({ fields: ['utilPct', 'powerW'], tier: 'raw', step: '10s' });
    expect(dflt.body.to - dflt.body.from).toBe(HOUR);
  });

  const groupQuery = (extra: string, fields = 'utilPct,powerW') => `/api/v1/series?fields=${fields}&step=1h&from=${H0}&to=${H0 + HOUR}&${extra}`;

  it('groups by model from the fleet rollups, and the same from the chips when a host selector narrows them', async () => {
    const fleet = await get(groupQuery('groupBy=model'));
    expect(fleet.body.source).toBe('fleet-rollups');
    expect(fleet.body.series).toEqual([
      { label: 'H100', model: 'H100', vendor: 'nvidia', field: 'utilPct' },
      { label: 'H100', model: 'H100', vendor: 'nvidia', field: 'powerW' },
      { label: 'Trainium2', model: 'Trainium2', vendor: 'aws', field: 'utilPct' },
      { label: 'Trainium2', model: 'Trainium2', vendor: 'aws', field: 'powerW' },
    ]);
    const expected = [[H0, H0 + HOUR], [35, 50], [250, 450], [90, 10], [100, 100]];
    expect(fleet.body.data).toEqual(expected);
    const chips = await get(groupQuery('groupBy=model&host=h1,h2'));
    expect(chips.body.source).toBe('chips');
    expect(chips.body.data).toEqual(expected);
    const aws = await get(groupQuery('groupBy=model&vendor=aws'));
    expect(aws.body.data).toEqual([[H0, H0 + HOUR], [90, 10], [100, 100]]);
  });

  it('groups by host, vendor and the whole fleet; min, max and last across a group', async () => {
    expect((await get(groupQuery('groupBy=host', 'utilPct'))).body.data).toEqual([[H0, H0 + HOUR], [50, 70], [55, 20]]);
    const vendor = await get(`/api/v1/series?fields=energyJ&step=1h&from=${H0}&to=${H0 + HOUR}&groupBy=vendor`);
    expect(vendor.body.series.map((s: any) => s.label)).toEqual(['aws', 'nvidia']);
    expect(vendor.body.data).toEqual([[H0, H0 + HOUR], [119 * 3000, 120 * 3000], [119 * 9000 + 119 * 6000, 120 * 15000 + 120 * 12000]]);

    const fleet = await get(groupQuery('groupBy=fleet', 'utilPct'));
    expect(fleet.body.series).toEqual([{ label: 'fleet', field: 'utilPct' }]);
    expect(fleet.body.data[1][0]).toBeCloseTo((50 + 20 + 90) / 3, 4);
    expect(fleet.body.data[1][1]).toBeCloseTo((70 + 30 + 10) / 3, 4);

    for (const narrow of ['', '&host=h1,h2']) {
      expect((await get(groupQuery(`groupBy=model&agg=min${narrow}`, 'utilPct'))).body.data).toEqual([[H0, H0 + HOUR], [10, 20], [80, 0]]);
      expect((await get(groupQuery(`groupBy=model&agg=max${narrow}`, 'utilPct'))).body.data).toEqual([[H0, H0 + HOUR], [60, 80], [100, 20]]);
      // last: the value of the group's latest sample (gpu-b0 reports 5 s after gpu-a0).
      expect((await get(groupQuery(`groupBy=model&agg=last${narrow}`, 'utilPct'))).body.data).toEqual([[H0, H0 + HOUR], [30, 40], [100, 20]]);
      expect((await get(groupQuery(`groupBy=fleet&agg=last${narrow}`, 'utilPct'))).body.data).toEqual([[H0, H0 + HOUR], [100, 20]]);
    }
  });

  it('gives nulls for steps without data', async () => {
    const { body } = await get(`/api/v1/series?chip=gpu-a0,trn-c0&fields=powerW&step=1h&from=${H0 - HOUR}&to=${H0}`);
    expect(body.series.map((s: any) => s.label)).toEqual(['gpu-a0', 'trn-c0']);
    expect(body.data).toEqual([[H0 - HOUR, H0], [null, 300], [null, 100]]);
  });

  it('answers CSV for format=csv and for Accept: text/csv (ISO time column, empty cells for nulls)', async () => {
    const q = `/api/v1/series?chip=gpu-a0&fields=utilPct,energyJ&step=1h&from=${H0 - HOUR}&to=${H0 + HOUR}`;
    const expected = `ts,gpu-a0/utilPct,gpu-a0/energyJ\r\n${iso(H0 - HOUR)},,\r\n${iso(H0)},50,${119 * 9000}\r\n${iso(H0 + HOUR)},70,${120 * 15000}\r\n`;
    const byFormat = await get(`${q}&format=csv`);
    expect(byFormat.status).toBe(200);
    expect(byFormat.type).toMatch(/^text\/csv/);
    expect(byFormat.text).toBe(expected);
    const byAccept = await get(q, { accept: 'text/csv' });
    expect(byAccept.type).toMatch(/^text\/csv/);
    expect(byAccept.text).toBe(expected);
    const jsonWins = await get(`${q}&format=json`, { accept: 'text/csv' });
    expect(jsonWins.body.tier).toBe('1h');
    const grouped = await get(`/api/v1/series?fields=utilPct&step=1h&from=${H0}&to=${H0}&groupBy=model&format=csv`);
    expect(grouped.text).toBe(`ts,H100/utilPct,Trainium2/utilPct\r\n${iso(H0)},35,90\r\n`);
  });
});

describe('GET /api/v1/energy', () => {
  const kwh = (j: number) => j / 3_600_000;
  // Chip-hours are reporting time: each sample counts its chip's interval. Line-protocol hosts are
  // taken to write every 10 s (PUSH_AGENT_INTERVAL_MS); these write every 30 s, 120 samples an hour.
  const CH = (120 * PUSH_AGENT_INTERVAL_MS) / HOUR;

  it('reports kWh, average power and utilization, chip-hours and costs per chip from the 1h tier, with totals', async () => {
    const { status, body } = await get(`/api/v1/energy?from=${H0}&to=${H0 + 2 * HOUR}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ from: H0, to: H0 + 2 * HOUR, tier: '1h', coveredFrom: H0, coveredTo: H0 + 2 * HOUR, groupBy: 'chip', prices: { kwh: 0.15, chipHour: { H100: 2.5 } } });
    expect(body.rows.map((r: any) => r.label)).toEqual(['gpu-a0', 'gpu-b0', 'trn-c0']);
    const [a, b, c] = body.rows;
    const aJ = 119 * 9000 + 120 * 15000;
    const bJ = 119 * 6000 + 120 * 12000;
    const cJ = 239 * 3000;
    expect(a).toMatchObject({ chipId: 'gpu-a0', host: 'h1', model: 'H100', vendor: 'nvidia', chips: 1, avgPowerW: 400, avgUtilPct: 60 });
    expect(a.chipHours).toBeCloseTo(2 * CH, 12);
    expect(a.chipHourCost).toBeCloseTo(2 * CH * 2.5, 12);
    expect(a.energyKWh).toBeCloseTo(kwh(aJ), 12);
    expect(a.energyCost).toBeCloseTo(kwh(aJ) * 0.15, 12);
    expect(a.cost).toBeCloseTo(kwh(aJ) * 0.15 + 2 * CH * 2.5, 12);
    expect(a.costPerUtilizedChipHour).toBeCloseTo((kwh(aJ) * 0.15 + 2 * CH * 2.5) / (2 * CH * 0.6), 12);
    expect(b).toMatchObject({ avgPowerW: 300, avgUtilPct: 25 });
    expect(b.chipHours).toBeCloseTo(2 * CH, 12);
    expect(b.energyKWh).toBeCloseTo(kwh(bJ), 12);
    expect(b.costPerUtilizedChipHour).toBeCloseTo((kwh(bJ) * 0.15 + 2 * CH * 2.5) / (2 * CH * 0.25), 12);
    // No chip-hour price for Trainium2: its chip-hour cost and total cost are null, energy cost is not.
    expect(c).toMatchObject({ avgPowerW: 100, avgUtilPct: 50, chipHourCost: null, cost: null, costPerUtilizedChipHour: null });
    expect(c.chipHours).toBeCloseTo(2 * CH, 12);
    expect(c.energyCost).toBeCloseTo(kwh(cJ) * 0.15, 12);
    expect(body.totals).toMatchObject({ chips: 3, avgUtilPct: 45, chipHourCost: null, cost: null });
    expect(body.totals.chipHours).toBeCloseTo(6 * CH, 12);
    expect(body.totals.energyKWh).toBeCloseTo(kwh(aJ + bJ + cJ), 12);
    expect(body.totals.avgPowerW).toBeCloseTo(800 / 3, 9);
  });

  it('groups by model and selects chips', async () => {
    const { body } = await get(`/api/v1/energy?from=${H0}&to=${H0 + 2 * HOUR}&groupBy=model&vendor=nvidia`);
    expect(body.rows).toHaveLength(1);
    const h100 = body.rows[0];
    const j = 119 * 9000 + 120 * 15000 + 119 * 6000 + 120 * 12000;
    expect(h100).toMatchObject({ label: 'H100', model: 'H100', chips: 2, avgPowerW: 350, avgUtilPct: 42.5 });
    expect(h100.chipHours).toBeCloseTo(4 * CH, 12);
    expect(h100.chipHourCost).toBeCloseTo(4 * CH * 2.5, 12);
    expect(h100.energyKWh).toBeCloseTo(kwh(j), 12);
    expect(h100.costPerUtilizedChipHour).toBeCloseTo((kwh(j) * 0.15 + 4 * CH * 2.5) / (4 * CH * 0.425), 12);
    expect(body.totals.cost).toBeCloseTo(kwh(j) * 0.15 + 4 * CH * 2.5, 12);
  });

  it('uses the 1m tier for minute-aligned ranges and raw samples for short unaligned recent ones', async () => {
    const m = await get(`/api/v1/energy?chip=gpu-a0&from=${H0 + 30 * MIN}&to=${H0 + 90 * MIN}`);
    expect(m.body.tier).toBe('1m');
    expect(m.body.rows[0]).toMatchObject({ avgPowerW: 400, avgUtilPct: 60 });
    expect(m.body.rows[0].chipHours).toBeCloseTo(CH, 12);
    expect(m.body.rows[0].energyKWh).toBeCloseTo(kwh(60 * 9000 + 60 * 15000), 12);

    const raw = await get(`/api/v1/energy?chip=gpu-a0&from=${R0 + 5 * S}&to=${R0 + 65 * S}`);
    expect(raw.body).toMatchObject({ tier: 'raw', coveredFrom: R0 + 5 * S, coveredTo: R0 + 65 * S });
    // Samples j = 1..12; the pair (0, 1) counts: reading 0 is just before from.
    expect(raw.body.rows[0]).toMatchObject({ avgPowerW: 100, avgUtilPct: 6.5 });
    expect(raw.body.rows[0].energyKWh).toBeCloseTo(kwh(1200), 12);
    // Samples 5 s apart count 10 s each, at most the range's part of each 1-minute bucket: the minute.
    expect(raw.body.rows[0].chipHours).toBeCloseTo(1 / 60, 12);
  });
});

describe('GET /api/v1/top', () => {
  const top = async (q: string) => (await get(`/api/v1/top?from=${H0}&to=${H0 + 2 * HOUR}&${q}`)).body;

  it('ranks chips on a field, highest first by default, k of them', async () => {
    const body = await top('field=powerW&k=2');
    expect(body).toMatchObject({ tier: '1h', field: 'powerW', agg: 'avg', order: 'desc', k: 2 });
    expect(body.chips).toEqual([
      { chipId: 'gpu-a0', host: 'h1', model: 'H100', vendor: 'nvidia', value: 400 },
      { chipId: 'gpu-b0', host: 'h2', model: 'H100', vendor: 'nvidia', value: 300 },
    ]);
    expect((await top('field=powerW&order=asc&k=1')).chips.map((c: any) => [c.chipId, c.value])).toEqual([['trn-c0', 100]]);
    expect((await top('field=utilPct&agg=max')).chips.map((c: any) => [c.chipId, c.value])).toEqual([['trn-c0', 100], ['gpu-a0', 80], ['gpu-b0', 40]]);
    expect((await top('field=energyJ')).chips.map((c: any) => [c.chipId, c.value])).toEqual([
      ['gpu-a0', 119 * 9000 + 120 * 15000],
      ['gpu-b0', 119 * 6000 + 120 * 12000],
      ['trn-c0', 239 * 3000],
    ]);
    expect((await top('model=H100&order=asc')).chips.map((c: any) => [c.chipId, c.value])).toEqual([['gpu-b0', 25], ['gpu-a0', 60]]);
  });
});

describe('GET /api/v1/openapi.json', () => {
  it('is an OpenAPI 3.1 document with every endpoint and every query parameter of series, energy and top', async () => {
    const { status, body } = await get('/api/v1/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    for (const p of ['/healthz', '/api/v1/chips', '/api/v1/chips/{chipId}/samples', '/api/v1/write', '/api/v1/series', '/api/v1/energy', '/api/v1/top', '/api/v1/openapi.json']) {
      expect(body.paths[p], p).toBeDefined();
    }
    const params = (path: string) => body.paths[path].get.parameters.map((p: any) => p.name).sort();
    const sel = ['chip', 'host', 'model', 'vendor'];
    expect(params('/api/v1/series')).toEqual([...sel, 'agg', 'fields', 'format', 'from', 'groupBy', 'maxPoints', 'step', 'to'].sort());
    expect(params('/api/v1/energy')).toEqual([...sel, 'from', 'groupBy', 'to'].sort());
    expect(params('/api/v1/top')).toEqual([...sel, 'agg', 'field', 'from', 'k', 'order', 'to'].sort());
    const series = body.paths['/api/v1/series'].get.parameters;
    expect(series.find((p: any) => p.name === 'agg').schema).toEqual({ type: 'string', enum: ['avg', 'min', 'max', 'last'] });
    expect(series.find((p: any) => p.name === 'chip')).toMatchObject({ in: 'query', required: false, style: 'form', explode: true, schema: { type: 'array', items: { type: 'string' } } });
    expect(series.every((p: any) => typeof p.description === 'string' && p.description.length > 0)).toBe(true);
  });
});

describe('bad parameters: 400 bad_request naming the parameter', () => {
  const cases: [string, string, string | RegExp][] = [
    ['from after to', `/api/v1/series?from=${H0 + HOUR}&to=${H0}`, `from: ${iso(H0 + HOUR)} is after to (${iso(H0)}); give from earlier than to`],
    ['unknown field', '/api/v1/series?fields=utilPct,bogus', 'fields: unknown field "bogus"; accepted (comma list): utilPct, memUtilPct, memUsedBytes, memTotalBytes, powerW, powerLimitW, tempC, smClockMhz, eccCorrected, eccUncorrected, energyJ'],
    ['unknown chip', '/api/v1/series?chip=gpu-a0,nope', 'chip: unknown chip "nope"; GET /api/v1/chips lists the chips'],
    ['step 0', '/api/v1/series?step=0', /^step: must be a positive whole number with a unit s, m, h, d or w .*; got "0"$/],
    ['negative step', '/api/v1/series?step=-5m', /^step: .* got "-5m"$/],
    ['garbage step', '/api/v1/series?step=fast', /^step: .* got "fast"$/],
    ['step not whole seconds', '/api/v1/series?step=1.5s', /^step: .* got "1.5s"$/],
    ['too many points', `/api/v1/series?from=${H0}&to=${H0 + 2 * HOUR}&step=1s&maxPoints=100`, 'step 1s gives 7201 points per series over this range, more than maxPoints (100); use step=5m or coarser, or a shorter range (from/to), or a larger maxPoints (up to 100000)'],
    ['too many points by default', `/api/v1/series?from=now-6h&step=10s`, /^step 10s gives 216[01] points per series over this range, more than maxPoints \(2000\); use step=30s or coarser/],
    ['raw samples are gone', '/api/v1/series?from=now-3d&step=10s', 'step 10s: raw samples are kept 48h and from is older than that; use a step that is a multiple of 1m for older data, or a later from'],
    ['1m rollups are gone', '/api/v1/series?from=now-40d&step=5m', 'step 5m: 1-minute rollups are kept 30d and from is older than that; use a step that is a multiple of 1h for older data, or a later from'],
    ['garbage from', '/api/v1/series?from=yesterday', 'from: must be an ISO-8601 time (2025-01-31T12:00:00Z), epoch milliseconds, or relative to now (now, now-6h, now-30m); got "yesterday"'],
    ['garbage to', '/api/v1/top?to=now-6x', /^to: must be an ISO-8601 time .* got "now-6x"$/],
    ['unknown agg', '/api/v1/series?agg=median', 'agg: must be one of avg, min, max, last; got "median"'],
    ['unknown groupBy', '/api/v1/series?groupBy=rack', 'groupBy: must be one of none, chip, host, model, vendor, fleet; got "rack"'],
    ['unknown format', '/api/v1/series?format=xml', 'format: must be one of json, csv; got "xml"'],
    ['maxPoints 0', '/api/v1/series?maxPoints=0', 'maxPoints: must be a whole number from 1 to 100000; got "0"'],
    ['maxPoints too large', '/api/v1/series?maxPoints=100001', 'maxPoints: must be a whole number from 1 to 100000; got "100001"'],
    ['unknown vendor', '/api/v1/series?vendor=intel', 'vendor: must be one of nvidia, aws; got "intel"'],
    ['unknown parameter', '/api/v1/series?field=utilPct', 'unknown parameter "field"; accepted: chip, vendor, model, host, fields, from, to, step, agg, groupBy, maxPoints, format'],
    ['parameter given twice', '/api/v1/series?agg=min&agg=max', 'agg: given 2 times; give it once'],
    ['energy: empty range', `/api/v1/energy?from=${H0}&to=${H0}`, `from: ${iso(H0)} is not before to (${iso(H0)}); give from earlier than to`],
    ['energy: unknown groupBy', '/api/v1/energy?groupBy=fleet', 'groupBy: must be one of chip, host, model, vendor; got "fleet"'],
    ['energy: unknown chip', '/api/v1/energy?chip=nope', 'chip: unknown chip "nope"; GET /api/v1/chips lists the chips'],
    ['top: k 0', '/api/v1/top?k=0', 'k: must be a whole number from 1 to 1000; got "0"'],
    ['top: k too large', '/api/v1/top?k=1001', 'k: must be a whole number from 1 to 1000; got "1001"'],
    ['top: unknown order', '/api/v1/top?order=up', 'order: must be one of desc, asc; got "up"'],
    ['top: unknown field', '/api/v1/top?field=bogus', /^field: must be one of utilPct, .*, energyJ; got "bogus"$/],
    ['top: unknown agg', '/api/v1/top?agg=p99', 'agg: must be one of avg, min, max, last; got "p99"'],
  ];
  it.each(cases)('%s', async (_name, path, message) => {
    const { status, body } = await get(path);
    expect(status).toBe(400);
    expect(body).toEqual({ code: 'bad_request', message: expect.any(String), requestId: expect.any(String) });
    if (typeof message === 'string') expect(body.message).toBe(message);
    else expect(body.message).toMatch(message);
  });
});
