import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../bench/support/free-port.ts';
import { decodeChunk } from '../../server/store/chunk-codec.ts';
import type { Sample } from '../../schema/sample.ts';
import { createToken, runFleetscope, type Proc } from '../../bench/support/processes.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';
import { eventually } from '../helpers/ws-client.ts';

const tmp = tempDir();
const procs: Proc[] = [];
afterAll(() => {
  for (const p of procs) p.child.kill('SIGKILL');
  tmp.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('gap-free delivery', () => {
  it('hub SIGKILLed mid-stream and back 60 s later, agent restarted in between: every sample stored exactly once, in order', async () => {
    const port = await freePort();
    const db = join(tmp.dir, 'hub.db');
    // Auth is on: tokens made with `fleetscope token create` in the hub's database before it starts.
    const agentToken = await createToken(db, 'agent');
    const viewerToken = await createToken(db, 'viewer');
    const viewer = { headers: { authorization: `Bearer ${viewerToken}` } };
    const startHub = async () => {
      const hub = runFleetscope(['hub', '--port', String(port), '--host', '127.0.0.1', '--db', db, '--log-level', 'warn']);
      procs.push(hub);
      await eventually(() => hub.stdout().includes('listening'), 15_000, 'hub to listen');
      return hub;
    };
    const ingested = async () => (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()).ingested.samples as number;
    const agentArgs = ['agent', '--hub', `ws://127.0.0.1:${port}`, '--source', 'sim-nvml', '--interval', '500ms', '--agent-id', 'outage-agent', '--spool', join(tmp.dir, 'spool'), '--token', agentToken, '--log-format', 'json'];
    const stopAgent = async (a: Proc) => {
      a.child.kill('SIGTERM');
      expect(await a.exited).toBe(0);
      const stopped = a.jsonLogs().find((l) => l.msg === 'agent stopped');
      expect(stopped, a.stderr()).toBeDefined();
      return stopped;
    };

    let hub = await startHub();
    const a1 = runFleetscope(agentArgs);
    procs.push(a1);
    await eventually(async () => (await ingested()) >= 8 * 4, 15_000, 'live data before the outage');
    hub.child.kill('SIGKILL');
    await hub.exited;
    const killedAt = Date.now();

    await sleep(20_000);
    const s1 = await stopAgent(a1);
    expect(s1.pendingBatches).toBeGreaterThan(0); // the outage is in its spool
    const a2 = runFleetscope(agentArgs);
    procs.push(a2);
    await sleep(60_000 - (Date.now() - killedAt));

    hub = await startHub();
    await eventually(async () => (await (await fetch(`http://127.0.0.1:${port}/api/v1/agents`, viewer)).json()).agents[0]?.connected === true, 20_000, 'agent to reconnect');
    await sleep(3000);
    const s2 = await stopAgent(a2);
    expect(s2.pendingBatches).toBe(0);
    expect(s2.droppedBatches).toBe(0);
    hub.child.kill('SIGTERM');
    await hub.exited;

    const produced = s1.samplesSent + s2.samplesSent;
    const sqlite = new Database(db, { readonly: true });
    expect((sqlite.prepare('select count(*) n from sample_log').get() as { n: number }).n).toBe(0); // all folded on shutdown
    const chunks = sqlite.prepare('select chip_id, data from sample_chunks order by chip_id, start_ts').all() as { chip_id: string; data: Buffer }[];
    sqlite.close();
    const byChip = new Map<string, Sample[]>();
    for (const c of chunks) byChip.set(c.chip_id, [...(byChip.get(c.chip_id) ?? []), ...decodeChunk(c.data, c.chip_id)]);
    expect(byChip.size).toBe(8);
    let total = 0;
    for (const samples of byChip.values()) {
      total += samples.length;
      expect(samples.length).toBe(produced / 8);
      // Exactly once and in order: strictly increasing timestamps across the chip's chunks.
      const ts = samples.map((s) => s.ts);
      expect(ts.every((t, i) => i === 0 || t > ts[i - 1])).toBe(true);
    }
    expect(total).toBe(produced);
    // What waited in the spool is marked as backfill; what arrived live before the outage is not.
    const all = [...byChip.values()].flat();
    expect(all.filter((s) => s.flags?.backfill).length).toBeGreaterThan(8 * 60);
    expect(all.filter((s) => s.ts < killedAt - 2000 && s.flags?.backfill).length).toBe(0);
  }, 150_000);
});
