import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batch, chipInfo, hello, sample } from '../helpers/frames.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';
import type { LiveFanout } from '../../server/live/live-fanout.ts';
import { eventually, type TestSocket } from '../helpers/ws-client.ts';

let hub: TestHub;
beforeEach(async () => {
  hub = await startTestHub();
});
afterEach(async () => {
  await hub.stop();
});

const chips = (agent: string, n: number) => Array.from({ length: n }, (_, i) => chipInfo(i, { chipId: `GPU-${agent}-${i}` }));

async function connectAgent(agentId: string, n: number): Promise<TestSocket> {
  const a = await hub.ws('/ws/agent');
  a.send(hello(agentId, chips(agentId, n)));
  await a.waitFor((f) => f.type === 'welcome');
  return a;
}

/** A live socket with these subscriptions active (the fleet snapshot, sent last, confirms them). */
async function live(...subs: ({ topic: 'fleet' } | { topic: 'samples' } | { topic: 'chip'; chipId: string })[]): Promise<TestSocket> {
  const ws = await hub.ws('/ws/live');
  for (const sub of subs) if (sub.topic !== 'fleet') ws.send({ v: 1, type: 'subscribe', sub });
  ws.send({ v: 1, type: 'subscribe', sub: { topic: 'fleet' } });
  await ws.waitFor((f) => f.type === 'fleet-snapshot');
  if (!subs.some((s) => s.topic === 'fleet')) ws.send({ v: 1, type: 'unsubscribe', sub: { topic: 'fleet' } });
  return ws;
}

const of = (ws: TestSocket, type: string) => ws.frames.filter((f) => f.type === type);

describe('/ws/live fan-out', () => {
  it('fleet gets fleet-update with the tile values, firehose every sample, a chip subscriber only its chip', async () => {
    const a = await connectAgent('a', 4);
    const fleet = await live({ topic: 'fleet' });
    const hose = await live({ topic: 'samples' });
    const chip = await live({ topic: 'chip', chipId: 'GPU-a-2' });
    await chip.waitFor((f) => f.type === 'chip-history');
    const t0 = Date.now() - 1000;
    const sent = [];
    for (let seq = 0; seq < 20; seq++) {
      const samples = chips('a', 4).map((c, i) =>
        sample(c.chipId, t0 + seq, i === 1 ? { utilPct: null, tempC: null, flags: { powerEstimated: true } } : { utilPct: seq, powerW: 100 + i }),
      );
      sent.push(...samples);
      a.send(batch(seq, samples));
    }
    await a.waitFor((f) => f.type === 'ack' && f.seq === 19);
    await eventually(() => of(hose, 'samples').flatMap((f) => f.samples).length === sent.length, 3000, 'firehose to get every sample');
    expect(of(hose, 'samples').flatMap((f) => f.samples)).toEqual(sent);
    expect(of(hose, 'fleet-update')).toEqual([]);

    await eventually(() => of(chip, 'samples').flatMap((f) => f.samples).length === 20, 3000, 'chip samples');
    const chipSamples = of(chip, 'samples').flatMap((f) => f.samples);
    expect(chipSamples).toEqual(sent.filter((s) => s.chipId === 'GPU-a-2'));
    expect(chip.frames.map((f) => f.type).filter((t) => t !== 'samples' && t !== 'chip-history' && t !== 'fleet-snapshot')).toEqual([]);

    const last = () => {
      const u = new Map<string, Record<string, unknown>>();
      for (const f of of(fleet, 'fleet-update')) {
        expect(typeof f.sentAt).toBe('number');
        expect(new Set(f.chipIds).size).toBe(f.chipIds.length);
        f.chipIds.forEach((id: string, i: number) => u.set(id, { ts: f.ts[i], utilPct: f.utilPct[i], powerW: f.powerW[i], tempC: f.tempC[i], memUsedBytes: f.memUsedBytes[i], flags: f.flags[i] }));
      }
      return u;
    };
    await eventually(() => last().get('GPU-a-3')?.ts === t0 + 19, 3000, 'fleet-update of the last batch');
    expect(Object.fromEntries(last())).toEqual({
      'GPU-a-0': { ts: t0 + 19, utilPct: 19, powerW: 100, tempC: 55, memUsedBytes: 1e9, flags: 0 },
      'GPU-a-1': { ts: t0 + 19, utilPct: null, powerW: 400.25, tempC: null, memUsedBytes: 1e9, flags: 1 },
      'GPU-a-2': { ts: t0 + 19, utilPct: 19, powerW: 102, tempC: 55, memUsedBytes: 1e9, flags: 0 },
      'GPU-a-3': { ts: t0 + 19, utilPct: 19, powerW: 103, tempC: 55, memUsedBytes: 1e9, flags: 0 },
    });
    expect(of(fleet, 'samples')).toEqual([]);
  });

  it('sends one fleet-update and one firehose frame for many batches committed in the same tick', async () => {
    await connectAgent('a', 8);
    await connectAgent('b', 8);
    const fleet = await live({ topic: 'fleet' });
    const hose = await live({ topic: 'samples' });
    const ts = Date.now();
    const batches = ['a', 'b'].flatMap((agent) => [0, 1, 2, 3].map((k) => chips(agent, 8).map((c) => sample(c.chipId, ts + k, { utilPct: k * 10 }))));
    // What Ingest.commit does after each commit, for eight commits finishing in one tick (the
    // writer thread's group commit timing is not the subject here). The hub's own fan-out:
    const fanout = Reflect.get(hub.ingest, 'fanout') as LiveFanout;
    for (const b of batches) fanout.publishSamples(b);
    await fleet.waitFor((f) => f.type === 'fleet-update');
    await hose.waitFor((f) => f.type === 'samples');
    await new Promise((r) => setTimeout(r, 100));
    const updates = of(fleet, 'fleet-update');
    expect(updates).toHaveLength(1);
    expect([...updates[0].chipIds].sort()).toEqual([...chips('a', 8), ...chips('b', 8)].map((c) => c.chipId).sort());
    expect(updates[0].ts).toEqual(Array(16).fill(ts + 3));
    expect(updates[0].utilPct).toEqual(Array(16).fill(30));
    expect(of(hose, 'samples')).toHaveLength(1);
    expect(of(hose, 'samples')[0].samples).toEqual(batches.flat());
  });

  it('a socket that stops reading skips frames and does not hold up the others; it gets a fresh snapshot once drained', async () => {
    const a = await connectAgent('a', 1000);
    const fast = await live({ topic: 'fleet' }, { topic: 'samples' });
    const slow = await live({ topic: 'fleet' }, { topic: 'samples' });
    slow.ws.pause();
    const t0 = Date.now() - 60_000;
    let total = 0;
    // 24 batches x 5,000 samples (≈ 1.3 MB of frames each) — far more than socket buffers hold.
    for (let seq = 0; seq < 24; seq++) {
      const samples = Array.from({ length: 5000 }, (_, i) => sample(`GPU-a-${i % 1000}`, t0 + seq * 5 + Math.floor(i / 1000)));
      total += samples.length;
      a.send(batch(seq, samples));
      await a.waitFor((f) => f.type === 'ack' && f.seq === seq, 10_000);
      // The fast socket reads each batch before the next is sent. Each frame is larger than the
      // lag threshold; a reader that fell behind by a few frames (a busy test process) would
      // rightly be skipped too, which is not what this socket is here to show.
      await eventually(() => of(fast, 'samples').reduce((n, f) => n + f.samples.length, 0) === total, 10_000, 'fast socket to get every sample');
    }
    expect(of(fast, 'fleet-update').length).toBeGreaterThan(0);
    slow.ws.resume();
    await eventually(() => of(slow, 'fleet-snapshot').length === 2, 10_000, 'a fresh snapshot after draining');
    expect(of(slow, 'samples').reduce((n, f) => n + f.samples.length, 0)).toBeLessThan(total);
    const snap = of(slow, 'fleet-snapshot')[1];
    expect(snap.chips.find((c: any) => c.chipId === 'GPU-a-999').latest.ts).toBe(t0 + 23 * 5 + 4);
  }, 60_000);
});
