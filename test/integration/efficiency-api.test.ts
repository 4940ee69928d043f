/**
 * Work counters end to end on a real hub: in as line-protocol `work` lines and in an agent's
 * batches, stored as increments and buckets, answered by GET /api/v1/efficiency on every tier,
 * surviving a restart without counting twice, and shown as the chips' job.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startHub, type HubHandle } from '../../server/hub.ts';
import { freshPgSchema, startPgHub } from '../helpers/pg-hub.ts';
import { join } from 'node:path';
import { tempDir } from '../../bench/support/temp-dir.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';

let hub: TestHub | null = null;
/** An open hub (no tokens) and how to stop it. */
type OpenHub = Pick<HubHandle, 'port' | 'store'> & { stop(): Promise<void> };
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await hub?.stop();
  hub = null;
  for (const stop of stops.splice(0)) await stop();
});

async function get(h: Pick<HubHandle, 'port'>, path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${h.port}${path}`);
  return { status: res.status, body: await res.json() };
}
async function post(h: Pick<HubHandle, 'port'>, body: string): Promise<{ status: number }> {
  const res = await fetch(`http://127.0.0.1:${h.port}/api/v1/write`, { method: 'POST', body });
  await res.text();
  return { status: res.status };
}

const ns = (ms: number) => `${ms}000000`;
/** Whole seconds, a minute and a half back: the raw tier holds it, and samples are in the past. */
const T0 = Math.floor((Date.now() - 90_000) / 1000) * 1000;
const SECONDS = 60;

async function write(h: TestHub, body: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${h.port}/api/v1/write`, { method: 'POST', body, headers: { 'content-type': 'text/plain', ...h.auth('agent') } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/**
 * Two H100s on g1 at 600 W and one Trainium2 on t1 at 300 W, a sample a second with an energy
 * counter; job `llm` on both H100s makes 1,000 tokens/s (and a step per 100), job `vision` on
 * the Trainium2 500 tokens/s.
 */
function fleetBody(): string {
  const lines: string[] = [];
  for (let i = 0; i <= SECONDS; i++) {
    const t = T0 + i * 1000;
    lines.push(`chip,host=g1,chip=GPU-a,vendor=nvidia,model=H100 util_pct=95,power_w=600,power_limit_w=700,energy_j=${600 * i} ${ns(t)}`);
    lines.push(`chip,host=g1,chip=GPU-b,vendor=nvidia,model=H100 util_pct=95,power_w=600,power_limit_w=700,energy_j=${600 * i} ${ns(t)}`);
    lines.push(`chip,host=t1,chip=i-1-neuron0,vendor=aws,model=Trainium2 util_pct=80,power_w=300,energy_j=${300 * i} ${ns(t)}`);
    lines.push(`work,job=llm,host=g1,team=nlp tokens=${1000 * i}i,steps=${10 * i}i ${ns(t)}`);
    lines.push(`work,job=vision,host=t1,chip=i-1-neuron0 tokens=${500 * i}i ${ns(t)}`);
  }
  return lines.join('\n');
}

const range = (from: number, to: number) => `from=${from}&to=${to}`;
const rowOf = (body: any, label: string, unit = 'tokens') => body.rows.find((r: any) => r.label === label && r.unit === unit);

describe('GET /api/v1/efficiency', () => {
  it.each(['SQLite', 'PostgreSQL'])('gives work, energy per unit and chip-hours per job, model and chip, and the same on the 1m and 1h tiers (%s)', async (db) => {
    const prices = { kwh: 0.2, chipHour: { H100: 3, Trainium2: 1.5 } };
    let hub: OpenHub;
    if (db === 'SQLite') {
      const h = await startTestHub({ prices, auth: { open: true } });
      hub = { ...h, stop: () => h.stop() };
    } else {
      const pg = await freshPgSchema();
      const h = await startPgHub(pg.url, { prices, auth: { open: true } });
      hub = { ...h, stop: async () => (await h.close(), await pg.drop()) };
    }
    stops.push(() => hub.stop());
    expect((await post(hub, fleetBody())).status).toBe(204);
    const to = T0 + SECONDS * 1000 + 1;

    const byJob = await get(hub, `/api/v1/efficiency?groupBy=job&${range(T0, to)}`);
    expect(byJob.status).toBe(200);
    expect(byJob.body.tier).toBe('raw');
    const llm = rowOf(byJob.body, 'llm');
    expect(llm).toMatchObject({ job: 'llm', unit: 'tokens', chips: 2, jobs: 1, powerEstimated: false });
    expect(llm.units).toBeCloseTo(60_000, 6);
    // Two chips at 600 W for 60 s.
    expect(llm.energyJ).toBeCloseTo(72_000, 6);
    expect(llm.jPerUnit).toBeCloseTo(1.2, 9);
    expect(llm.avgPowerW).toBeCloseTo(600, 9);
    // Reporting time within the job's span (first to last report, 60 s) on each chip.
    expect(llm.chipHours * 3600).toBeCloseTo(2 * 60, 1);
    expect(llm.unitsPerChipHour).toBeCloseTo(60_000 / llm.chipHours, 6);
    const llmCost = (72_000 / 3_600_000) * 0.2 + llm.chipHours * 3;
    expect(llm.cost).toBeCloseTo(llmCost, 9);
    expect(llm.costPerMillionUnits).toBeCloseTo((llmCost / 60_000) * 1e6, 6);
    expect(rowOf(byJob.body, 'llm', 'steps').units).toBeCloseTo(600, 6);
    const vision = rowOf(byJob.body, 'vision');
    expect(vision).toMatchObject({ chips: 1, powerEstimated: true });
    expect(vision.units).toBeCloseTo(30_000, 6);
    expect(vision.jPerUnit).toBeCloseTo(0.6, 9);

    const byModel = await get(hub, `/api/v1/efficiency?groupBy=model&unit=tokens&${range(T0, to)}`);
    expect(byModel.body.rows.map((r: any) => [r.label, r.vendor, r.unit])).toEqual([
      ['H100', 'nvidia', 'tokens'],
      ['Trainium2', 'aws', 'tokens'],
    ]);
    const byChip = await get(hub, `/api/v1/efficiency?groupBy=chip&job=llm&unit=tokens&${range(T0, to)}`);
    expect(byChip.body.rows.map((r: any) => [r.chipId, r.host, r.model])).toEqual([
      ['GPU-a', 'g1', 'H100'],
      ['GPU-b', 'g1', 'H100'],
    ]);
    for (const r of byChip.body.rows) expect(r.units).toBeCloseTo(30_000, 6);

    // Half the range: half the work, from the increments inside it.
    const half = await get(hub, `/api/v1/efficiency?job=llm&unit=tokens&${range(T0 + 10_000, T0 + 40_000)}`);
    expect(half.body.rows[0].units).toBeCloseTo(30_000, 6);

    // A 3 h range reads the 1m buckets, a 10-day one the 1h buckets: the same work.
    const m1 = await get(hub, `/api/v1/efficiency?job=llm&unit=tokens&${range(to - 3 * 3_600_000, to)}`);
    expect(m1.body.tier).toBe('1m');
    expect(m1.body.rows[0].units).toBeCloseTo(60_000, 6);
    expect(m1.body.rows[0].jPerUnit).toBeCloseTo(1.2, 9);
    const h1 = await get(hub, `/api/v1/efficiency?job=llm&unit=tokens&${range(to - 10 * 86_400_000, to)}`);
    expect(h1.body.tier).toBe('1h');
    expect(h1.body.rows[0].units).toBeCloseTo(60_000, 6);

    // The chips show their job; the job's labels are kept with it.
    const chips = (await get(hub, '/api/v1/chips')).body.chips;
    expect(Object.fromEntries(chips.map((c: any) => [c.chipId, c.job]))).toEqual({ 'GPU-a': 'llm', 'GPU-b': 'llm', 'i-1-neuron0': 'vision' });
    expect((await hub.store.currentChipJobs()).find((j) => j.chipId === 'GPU-a')?.labels).toEqual({ team: 'nlp' });
  });

  it('counts resent reports once, and keeps counting after a restart without counting twice', async () => {
    const tmp = tempDir();
    const db = join(tmp.dir, 'hub.db');
    const open = async () => {
      const h = await startHub({ port: 0, host: '127.0.0.1', db, auth: { open: true } });
      const post = (body: string) => fetch(`http://127.0.0.1:${h.port}/api/v1/write`, { method: 'POST', body }).then((r) => r.status);
      const units = async (until: number) => rowOf(await (await fetch(`http://127.0.0.1:${h.port}/api/v1/efficiency?job=llm&${range(T0, until)}`)).json(), 'llm').units;
      return { h, post, units };
    };
    const body = fleetBody();
    try {
      const first = await open();
      expect(await first.post(body)).toBe(204);
      expect(await first.post(body)).toBe(204);
      expect(await first.units(T0 + SECONDS * 1000 + 1)).toBeCloseTo(60_000, 6);
      await first.h.close();

      const again = await open();
      try {
        // The same lines once more, then one more second: 1,000 tokens more, not 61,000.
        const t = T0 + (SECONDS + 1) * 1000;
        expect(await again.post(`${body}\nwork,job=llm,host=g1 tokens=${1000 * (SECONDS + 1)}i ${ns(t)}`)).toBe(204);
        expect(await again.units(t + 1)).toBeCloseTo(61_000, 6);
        // A restarted job's counter starts over: its new value is work done.
        expect(await again.post(`work,job=llm,host=g1 tokens=250i ${ns(t + 1000)}`)).toBe(204);
        expect(await again.units(t + 1001)).toBeCloseTo(61_250, 6);
      } finally {
        await again.h.close();
      }
    } finally {
      tmp.cleanup();
    }
  });

  it("takes work in agent batches for the agent's own chips only", async () => {
    hub = await startTestHub();
    const ws = await hub.ws('/ws/agent');
    const chip = (id: string, index: number) => ({ chipId: id, vendor: 'nvidia', model: 'H100', index, cores: null, memTotalBytes: 85e9, ratedPowerW: 700 });
    ws.send({ v: 1, type: 'hello', agentId: 'a1', agentVersion: 't', host: { hostname: 'h1', instanceId: null, instanceType: 'p5.48xlarge' }, intervalMs: 1000, chips: [chip('G-1', 0), chip('G-2', 1)] });
    await ws.waitFor((f) => f.type === 'welcome');
    const sample = (chipId: string, i: number) => ({ ts: T0 + i * 1000, chipId, utilPct: 90, memUtilPct: null, memUsedBytes: null, memTotalBytes: null, powerW: 500, powerLimitW: 700, tempC: 50, energyJ: 500 * i });
    for (let i = 0; i <= 10; i++) {
      const work = [{ ts: T0 + i * 1000, job: 'train-7', counters: { steps: 3 * i } }];
      // A report naming a chip of no one's: left out, the batch still stored.
      if (i === 5) work.push({ ts: T0 + i * 1000, job: 'evil', counters: { steps: 1e9 }, chips: ['GPU-of-someone-else'] } as any);
      ws.send({ v: 1, type: 'batch', seq: i, samples: [sample('G-1', i), sample('G-2', i)], work });
      const ack = await ws.waitFor((f) => f.type === 'ack' && f.seq === i);
      expect(ack.stored).toBe(2);
    }
    const got = await hub.get(`/api/v1/efficiency?groupBy=job&${range(T0, T0 + 10_001)}`);
    expect(got.body.rows.map((r: any) => [r.label, r.unit, r.chips])).toEqual([['train-7', 'steps', 2]]);
    expect(got.body.rows[0].units).toBeCloseTo(30, 9);
    expect(got.body.rows[0].jPerUnit).toBeCloseTo((2 * 500 * 10) / 30, 9);
    ws.close();
  });

  it('refuses bad work lines with the line and reason, storing nothing of that body', async () => {
    hub = await startTestHub();
    const cases: [string, RegExp][] = [
      ['work,host=g1 tokens=1i', /line 1: missing tag "job"/],
      ['work,job=a,host=g1 tokens="x"', /line 1: field "tokens": a work counter is a number/],
      ['work,job=a,host=g1 tokens=-5i', /line 1: field "tokens": a work counter is from 0/],
      ['work,job=a,host=g1 9lives=1i', /line 1: field "9lives": a unit is a letter/],
      ['work,job=a b,host=g1 tokens=1i', /line 1/],
      [`work,job=a,host=g1,chip=nope tokens=1i`, /line 1: chip "nope" is not known to the hub/],
    ];
    for (const [body, message] of cases) {
      const res = await write(hub, body);
      expect(res.status, body).toBe(400);
      expect(res.body.message, body).toMatch(message);
    }
    expect(await hub.store.workCounters()).toEqual([]);
  });
});
