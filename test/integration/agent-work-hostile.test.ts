/**
 * The agent's local work endpoint under hostile input, end to end: a real agent process sampling
 * every 200 ms into a real hub while another process floods its endpoint (20,000 requests: bad
 * JSON, bodies over 64 KiB, 1,500 series, idle connections past the connection cap). Sampling
 * goes on at its interval, nothing of the agent's samples is lost, the hub gets the valid work, and
 * the endpoint still answers afterwards.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runFleetscope } from '../../bench/support/processes.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';
import { eventually } from '../helpers/ws-client.ts';

const FLOOD = fileURLToPath(new URL('../fixtures/work/flood.mjs', import.meta.url));
const INTERVAL_MS = 200;

let hub: TestHub | null = null;
afterEach(async () => {
  await hub?.stop();
  hub = null;
});

function runFlood(port: number, n: number): Promise<{ statuses: Record<string, number>; errors: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FLOOD, String(port), String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', () => resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '{}')));
  });
}

describe('agent work endpoint under a hostile flood, end to end', () => {
  it('keeps sampling at its interval, loses no sample, and forwards the valid work', async () => {
    hub = await startTestHub();
    const agent = runFleetscope(['agent', '--hub', `ws://127.0.0.1:${hub.port}`, '--source', 'sim-nvml', '--interval', `${INTERVAL_MS}ms`, '--spool', 'none', '--work-port', '0', '--token', hub.token.agent, '--log-format', 'json']);
    try {
      let url = '';
      await eventually(() => Boolean((url = agent.jsonLogs().find((l) => l.msg === 'work endpoint listening')?.url ?? '')), 20_000, 'the work endpoint');
      const port = Number(new URL(url).port);
      const chipId = await (async () => {
        let id = '';
        await eventually(async () => Boolean((id = (await hub!.get('/api/v1/chips')).body.chips[0]?.chipId ?? '')), 15_000, 'the agent registered');
        return id;
      })();
      const started = Date.now();
      const flood = await runFlood(port, 20_000);
      const ended = Date.now();
      // The flood got answers: reports accepted (the agent drains them every tick, so 1,500 series
      // seldom reach the 1,000-series cap), bad JSON refused, bodies over 64 KiB refused.
      expect(flood.statuses['202']).toBeGreaterThan(0);
      expect(flood.statuses['400']).toBeGreaterThan(0);
      expect(flood.statuses['413']).toBeGreaterThan(0);

      // The endpoint still answers, and the agent still forwards work. (Right after the flood its
      // 1,000 pending series may still be full — 429 — until the agent's next tick drains them.)
      let status = 0;
      await eventually(async () => {
        const res = await fetch(new URL('/v1/work', url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ job: 'after-flood', counters: { steps: 1 } }) });
        status = res.status;
        return status !== 429;
      }, 5000, 'the endpoint to take a report after the flood');
      expect(status).toBe(202);
      await fetch(new URL("/v1/work", url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ job: 'after-flood', counters: { steps: 11 } }) });
      await eventually(async () => (await hub!.store.workCounters()).some(([k, r]) => k.startsWith('after-flood|') && r.value === 11), 10_000, 'work after the flood at the hub');

      // Sampling went on at its interval through the flood: no gap of more than 3 intervals, and
      // about one sample per interval.
      await new Promise((r) => setTimeout(r, 3 * INTERVAL_MS));
      const samples: { ts: number }[] = (await hub.get(`/api/v1/chips/${chipId}/samples?from=${started - 1000}&to=${ended + 1000}&limit=100000`)).body.samples;
      const inFlood = samples.filter((s) => s.ts >= started && s.ts <= ended);
      let maxGap = 0;
      for (let i = 1; i < inFlood.length; i++) maxGap = Math.max(maxGap, inFlood[i].ts - inFlood[i - 1].ts);
      console.log(`flood: ${JSON.stringify(flood)} over ${ended - started} ms; ${inFlood.length} samples of one chip in it, largest gap ${maxGap} ms`);
      expect(maxGap).toBeLessThanOrEqual(3 * INTERVAL_MS);
      expect(inFlood.length).toBeGreaterThanOrEqual(Math.floor(((ended - started) / INTERVAL_MS) * 0.8));
    } finally {
      agent.child.kill('SIGTERM');
      await agent.exited;
    }
    const stopped = agent.jsonLogs().find((l) => l.msg === 'agent stopped');
    expect(stopped?.batchesAcked).toBe(stopped?.batchesSent);
  }, 90_000);
});
