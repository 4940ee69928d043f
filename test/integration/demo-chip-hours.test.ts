/**
 * End to end, the real `fleetscope demo` with 1,000 chips (40 trn2 hosts × 16 Trainium2 + 45 p5
 * hosts × 8 H100): at any moment, the dashboard's "Last 24 h" strip's chip-hours
 * (`GET /api/v1/energy?from=now-24h&groupBy=vendor`, `totals.chipHours`, the query
 * client/src/fleet-energy.ts sends) equal the fleet's reporting time within 2 %, the reporting
 * time being the sum over chips of last sample − first sample + the chip's sampling interval,
 * read from `GET /api/v1/chips/:chipId/samples` over the same range the energy answer says it
 * covered ([from, to)).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { freePort } from '../../bench/support/free-port.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/fleetscope.js', import.meta.url));
const CHIPS = 1000;
/** Seconds after all chips are live at which the strip is compared with the samples. */
const MOMENTS_S = [20, 40, 60];
const TOLERANCE = 0.02;
const POOL = 32;

let child: ChildProcess | undefined;
let exited: Promise<void> = Promise.resolve();
let tmp: string | undefined;
let base = '';
let spawnedAt = 0;
let out = '';
let err = '';

async function getJson(path: string): Promise<any> {
  const res = await fetch(`${base}${path}`);
  const body = await res.text();
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${body.slice(0, 500)}`);
  return JSON.parse(body);
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child?.exitCode !== null || child?.signalCode !== null) throw new Error(`the demo exited (${child?.exitCode ?? child?.signalCode}) waiting for ${what}\nstdout: ${out}\nstderr: ${err.slice(-4000)}`);
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\nstdout: ${out}\nstderr: ${err.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Run `fn` over `items`, at most `size` at a time. */
async function pool<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
  return results;
}

/** Fold steps (sample log into chunks and rollups) so far, from the hub's own metrics; diagnostic only (null: unreadable). */
async function folds(): Promise<number | null> {
  const text = await fetch(`${base}/metrics`).then((r) => (r.ok ? r.text() : ''), () => '');
  const counts = [...text.matchAll(/^fleetscope_store_fold_duration_seconds_count\{[^}]*\} (\d+)/gm)].map((m) => Number(m[1]));
  if (!text) return null;
  return counts.length ? Math.max(...counts) : 0;
}

const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'fleetscope-demo-chip-hours-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  spawnedAt = Date.now();
  child = spawn(process.execPath, [BIN, 'demo', '--trn2-hosts', '40', '--p5-hosts', '45', '--port', String(port), '--db', join(tmp, 'demo.db')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  exited = new Promise((resolve) => child!.once('exit', () => resolve()));
  await until('the demo to say it is running', 45_000, async () => (out.includes('fleetscope demo is running') ? true : undefined));
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child?.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, 15_000);

describe('fleetscope demo, 1,000 chips', () => {
  it("the 24 h strip's chip-hours equal the fleet's reporting time within 2 %, at three moments", async () => {
    // Every chip live: 40 × 16 Trainium2 + 45 × 8 H100.
    const chips: any[] = await until('1,000 live chips', 30_000, async () => {
      const c = (await getJson('/api/v1/chips')).chips as any[];
      return c.length === CHIPS && c.every((x) => x.status === 'live') ? c : undefined;
    });
    const liveAt = Date.now();
    expect(chips.filter((c) => c.model === 'Trainium2')).toHaveLength(640);
    expect(chips.filter((c) => c.model === 'H100')).toHaveLength(360);

    const agents = (await getJson('/api/v1/agents')).agents as any[];
    const intervalOf = new Map<string, number>(agents.map((a) => [a.agentId, a.intervalMs]));
    const intervals = chips.map((c) => intervalOf.get(c.agentId));
    expect(intervals.every((ms) => ms === 1000)).toBe(true);

    const report: string[] = [];
    for (const s of MOMENTS_S) {
      await sleepUntil(liveAt + s * 1000);
      const t0 = Date.now();
      // Exactly what the dashboard's "Last 24 h" strip asks.
      const energy = await getJson('/api/v1/energy?from=now-24h&groupBy=vendor');
      const t1 = Date.now();
      const chipHours: number = energy.totals.chipHours;
      // The same range, [from, to): the samples endpoint's `to` is inclusive.
      const spans = await pool(chips, POOL, async (c) => {
        const a = await getJson(`/api/v1/chips/${encodeURIComponent(c.chipId)}/samples?from=${energy.from}&to=${energy.to - 1}&limit=100000`);
        expect(a.truncated).toBeUndefined();
        const ss = a.samples as { ts: number }[];
        if (ss.length === 0) return { ms: 0, n: 0 };
        const interval = intervalOf.get(c.agentId)!;
        return { ms: ss[ss.length - 1].ts - ss[0].ts + interval, n: ss.length * interval };
      });
      const t2 = Date.now();
      const folded = await folds();
      const reportingMs = spans.reduce((sum, x) => sum + x.ms, 0);
      const countedMs = spans.reduce((sum, x) => sum + x.n, 0);
      const stripMs = chipHours * 3_600_000;
      const diff = (stripMs - reportingMs) / reportingMs;
      const line =
        `t+${s}s (${new Date(t0).toISOString().slice(11, 19)}, ${folded ?? '?'} folds so far): tier ${energy.tier}, strip ${chipHours.toFixed(4)} chip-h (${(stripMs / 1000).toFixed(0)} s), ` +
        `reporting ${(reportingMs / 1000).toFixed(0)} s (samples × interval ${(countedMs / 1000).toFixed(0)} s), ` +
        `diff ${(diff * 100).toFixed(3)} %, energy read ${t1 - t0} ms, samples read ${t2 - t1} ms`;
      report.push(line);
      console.log(line);

      // Every chip reported in the range, and the figure is of the right size: the chips have
      // run at most since the demo started (the old bug counted whole hours: > 1,000 chip-hours).
      expect(spans.filter((x) => x.ms > 0)).toHaveLength(CHIPS);
      expect(chipHours).toBeGreaterThan(0);
      expect(chipHours).toBeLessThanOrEqual((CHIPS * (Date.now() - spawnedAt)) / 3_600_000);
      expect(chipHours, report.join('\n')).toBeLessThan(100);
      expect(Math.abs(diff), report.join('\n')).toBeLessThanOrEqual(TOLERANCE);
    }
  }, 130_000);
});
