import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batch, chipInfo, hello, sample } from '../helpers/frames.ts';
import { encodeBatchFrame } from '../../schema/batch-frame.ts';
import type { BatchMessage } from '../../schema/protocol.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';
import { eventually, type TestSocket } from '../helpers/ws-client.ts';

let hub: TestHub;
beforeEach(async () => {
  hub = await startTestHub();
});
afterEach(async () => {
  await hub.stop();
});

async function connectAgent(agentId = 'agent-a', chips = [chipInfo(0), chipInfo(1)], intervalMs = 1000): Promise<TestSocket> {
  const a = await hub.ws('/ws/agent');
  a.send(hello(agentId, chips, { intervalMs }));
  await a.waitFor((f) => f.type === 'welcome');
  return a;
}

describe('/ws/agent', () => {
  it('acks a batch only after it is committed, and /ws/live receives it', async () => {
    const live = await hub.ws('/ws/live');
    live.send({ v: 1, type: 'subscribe', sub: { topic: 'fleet' } });
    await live.waitFor((f) => f.type === 'fleet-snapshot');
    const a = await connectAgent();
    const now = Date.now();
    a.send(batch(0, [sample('GPU-test-0', now), sample('GPU-test-1', now)]));
    const ack = await a.waitFor((f) => f.type === 'ack');
    expect(ack).toMatchObject({ seq: 0, stored: 2 });
    expect(await hub.store.countSamples()).toBe(2);
    const frame = await live.waitFor((f) => f.type === 'fleet-update');
    expect([...frame.chipIds].sort()).toEqual(['GPU-test-0', 'GPU-test-1']);
    expect(frame.ts).toEqual([now, now]);
    expect(frame.powerW).toEqual([400.25, 400.25]);
    const inv = await live.waitFor((f) => f.type === 'inventory');
    expect(inv.chips).toHaveLength(2);
    const { body } = await hub.get('/api/v1/chips');
    expect(body.chips.map((c: any) => [c.chipId, c.status, c.host, c.latest.ts])).toEqual([
      ['GPU-test-0', 'live', 'agent-a-host', now],
      ['GPU-test-1', 'live', 'agent-a-host', now],
    ]);
  });

  it('ignores a resent batch idempotently (acked again, stored once)', async () => {
    const a = await connectAgent();
    const b = batch(3, [sample('GPU-test-0', Date.now())]);
    a.send(b);
    a.send(b);
    await eventually(() => a.frames.filter((f) => f.type === 'ack').length === 2);
    expect(a.frames.filter((f) => f.type === 'ack').map((f) => f.seq)).toEqual([3, 3]);
    expect(await hub.store.countSamples()).toBe(1);
  });

  const now = () => Date.now();
  const badFrames: [string, () => unknown, string][] = [
    ['garbage text', () => 'not json at all', 'bad_json'],
    ['unknown message type', () => ({ v: 1, type: 'shutdown' }), 'unknown_type'],
    ['wrong version', () => ({ ...batch(9, [sample('GPU-test-0', now())]), v: 7 }), 'unsupported_version'],
    ['out-of-range value', () => batch(9, [sample('GPU-test-0', now()), sample('GPU-test-1', now(), { utilPct: 250 })]), 'out_of_range'],
    ['chip not announced in hello', () => batch(9, [sample('GPU-test-0', now()), sample('GPU-other', now())]), 'unknown_chip'],
    ['second hello', () => hello(), 'duplicate_hello'],
  ];
  it.each(badFrames)('rejects %s with an error frame and stores nothing of it; other agents are unaffected', async (_n, frame, code) => {
    const a = await connectAgent();
    const b = await connectAgent('agent-b', [chipInfo(7, { chipId: 'GPU-b-7' })]);
    a.send(frame());
    const err = await a.waitFor((f) => f.type === 'error');
    expect(err.code).toBe(code);
    expect(typeof err.message).toBe('string');
    b.send(batch(0, [sample('GPU-b-7', Date.now())]));
    await b.waitFor((f) => f.type === 'ack');
    expect(await hub.store.countSamples()).toBe(1);
    // The connection stays usable after a rejected frame.
    a.send(batch(10, [sample('GPU-test-0', Date.now())]));
    await a.waitFor((f) => f.type === 'ack' && f.seq === 10);
    expect(await hub.store.countSamples()).toBe(2);
  });

  it('rejects a batch before hello with no_hello', async () => {
    const a = await hub.ws('/ws/agent');
    a.send(batch(0, [sample('GPU-test-0', Date.now())]));
    expect((await a.waitFor((f) => f.type === 'error')).code).toBe('no_hello');
    expect(await hub.store.countSamples()).toBe(0);
  });

  it('closes an oversized frame with 1009 and keeps serving', async () => {
    const a = await connectAgent();
    a.send('x'.repeat(5 * 1024 * 1024));
    expect(await a.waitClosed()).toBe(1009);
    expect((await hub.get('/healthz')).status).toBe(200);
    await connectAgent('agent-c', [chipInfo(9, { chipId: 'GPU-c' })]);
  });

  it('closes a connection that keeps sending invalid frames with 1008', async () => {
    const a = await connectAgent();
    for (let i = 0; i < 60; i++) a.send('{bad');
    expect(await a.waitClosed()).toBe(1008);
  });

  it('derives chip status: live, stale after 3 missed intervals, offline when the agent goes', async () => {
    const a = await connectAgent('agent-s', [chipInfo(0, { chipId: 'GPU-s' })], 100);
    a.send(batch(0, [sample('GPU-s', Date.now())]));
    await a.waitFor((f) => f.type === 'ack');
    const status = async () => (await hub.get('/api/v1/chips')).body.chips[0].status;
    expect(await status()).toBe('live');
    await eventually(async () => (await status()) === 'stale', 3000, 'stale');
    const chip = (await hub.get('/api/v1/chips')).body.chips[0];
    expect(chip.latest.powerW).toBe(400.25); // last known value kept, not zeroed
    a.close();
    await eventually(async () => (await status()) === 'offline', 3000, 'offline');
  });
});

describe('/ws/agent: binary batch frames', () => {
  const binary = (msg: BatchMessage) => encodeBatchFrame(msg)!;

  it('offers them in welcome, acks them after commit, and stores and serves exactly what was sent', async () => {
    const a = await hub.ws('/ws/agent');
    a.send(hello());
    const welcome = await a.waitFor((f) => f.type === 'welcome');
    expect(welcome.features).toContain('binary-batch');
    const t = Date.now() - 5000;
    const sent = [
      sample('GPU-test-0', t, { smClockMhz: 1980, eccCorrected: 0, extras: { 'nc0.util': 12.5 } }),
      sample('GPU-test-1', t, { powerW: null, flags: { powerEstimated: true } }),
      sample('GPU-test-0', t + 1000, { utilPct: 99.875, eccUncorrected: 2 }),
    ];
    a.send(binary({ ...batch(0, sent), health: [{ kind: 'sim-nvml', state: 'ok', restarts: 1, parseErrors: 2, lastError: 'x' }] }));
    expect(await a.waitFor((f) => f.type === 'ack')).toMatchObject({ seq: 0, stored: 3 });
    const { body } = await hub.get(`/api/v1/chips/GPU-test-0/samples?from=${t - 1}`);
    expect(body.samples.map((s: any) => [s.ts, s.utilPct, s.smClockMhz ?? null, s.eccUncorrected ?? null, s.extras ?? null])).toEqual([
      [t, 50, 1980, null, { 'nc0.util': 12.5 }],
      [t + 1000, 99.875, null, 2, null],
    ]);
    const one = (await hub.get(`/api/v1/chips/GPU-test-1/samples?from=${t - 1}`)).body.samples;
    expect(one).toMatchObject([{ ts: t, powerW: null, flags: { powerEstimated: true } }]);
    const agents = (await hub.get('/api/v1/agents')).body.agents;
    expect(agents[0].health).toMatchObject([{ kind: 'sim-nvml', restarts: 1, parseErrors: 2, lastError: 'x' }]);
  });

  it('gives live subscribers and the fleet view the very samples of a binary batch; a backfill one is stored flagged and not pushed live; chips of other agents are left out', async () => {
    const live = await hub.ws('/ws/live');
    live.send({ v: 1, type: 'subscribe', sub: { topic: 'samples' } });
    live.send({ v: 1, type: 'subscribe', sub: { topic: 'fleet' } });
    await live.waitFor((f) => f.type === 'fleet-snapshot');
    const a = await hub.ws('/ws/agent');
    a.send(hello());
    await a.waitFor((f) => f.type === 'welcome');
    const t = Date.now() - 2000;
    const sent = [
      sample('GPU-test-0', t, { flags: { powerEstimated: false, energyDerived: true }, extras: { 'nc0.util': 3.25 }, smClockMhz: null }),
      sample('GPU-test-1', t, { utilPct: null, eccCorrected: 4 }),
    ];
    a.send(binary(batch(0, sent)));
    await a.waitFor((f) => f.type === 'ack' && f.seq === 0);
    const pushed = () => live.frames.filter((f) => f.type === 'samples').flatMap((f) => f.samples);
    await eventually(() => pushed().length === 2);
    expect(pushed()).toEqual(sent);
    const chips = (await hub.get('/api/v1/chips')).body.chips;
    expect(chips.map((c: any) => c.latest)).toEqual(sent);

    // Late data: stored with the backfill flag, not pushed live.
    const old = t - 60_000;
    a.send(binary({ ...batch(1, [sample('GPU-test-0', old)]), backfill: true }));
    await a.waitFor((f) => f.type === 'ack' && f.seq === 1);
    // Another agent's batch naming this agent's chip: that sample is left out, its own is kept.
    const b = await hub.ws('/ws/agent');
    b.send(hello('agent-b', [chipInfo(0), chipInfo(7, { chipId: 'GPU-b-7' })]));
    await b.waitFor((f) => f.type === 'error' && f.code === 'chip_owned');
    b.send(binary(batch(0, [sample('GPU-test-0', t + 500), sample('GPU-b-7', t + 500)])));
    expect(await b.waitFor((f) => f.type === 'ack')).toMatchObject({ stored: 1 });
    await eventually(() => pushed().length === 3);
    expect(pushed().slice(2)).toEqual([sample('GPU-b-7', t + 500)]);
    const stored = (await hub.get(`/api/v1/chips/GPU-test-0/samples?from=${old - 1}`)).body.samples;
    expect(stored.map((s: any) => [s.ts, s.flags ?? null])).toEqual([[old, { backfill: true }], [t, { energyDerived: true }]]);
  });

  it('answers binary frames it refuses with error frames, stores nothing of them, and keeps the connection', async () => {
    const a = await hub.ws('/ws/agent');
    a.send(binary(batch(0, [sample('GPU-test-0', Date.now())])));
    expect((await a.waitFor((f) => f.type === 'error')).code).toBe('no_hello');
    a.send(hello());
    await a.waitFor((f) => f.type === 'welcome');
    const bad: [Uint8Array, string][] = [
      [binary(batch(1, [sample('GPU-test-0', Date.now(), { utilPct: 250 })])), 'out_of_range'],
      [binary(batch(2, [sample('GPU-other', Date.now())])), 'unknown_chip'],
      [binary(batch(3, [sample('GPU-test-0', Date.now())])).subarray(0, 20), 'bad_frame'],
      [Uint8Array.from([1, 2, 3]), 'bad_frame'],
    ];
    for (const [frame, code] of bad) {
      const before = a.frames.length;
      a.send(frame);
      await eventually(() => a.frames.length > before);
      expect(a.frames[before]).toMatchObject({ type: 'error', code });
    }
    a.send(binary(batch(4, [sample('GPU-test-0', Date.now())])));
    await a.waitFor((f) => f.type === 'ack' && f.seq === 4);
    expect(await hub.store.countSamples()).toBe(1);
  });
});

describe('late data, inventory and agent reports', () => {
  it('stores a backfill batch flagged and does not push it to live subscribers', async () => {
    const live = await hub.ws('/ws/live');
    live.send({ v: 1, type: 'subscribe', sub: { topic: 'samples' } });
    live.send({ v: 1, type: 'subscribe', sub: { topic: 'fleet' } });
    await live.waitFor((f) => f.type === 'fleet-snapshot');
    const a = await connectAgent();
    const old = Date.now() - 120_000;
    a.send({ ...batch(0, [sample('GPU-test-0', old), sample('GPU-test-1', old)]), backfill: true });
    await a.waitFor((f) => f.type === 'ack' && f.seq === 0);
    a.send(batch(1, [sample('GPU-test-0', Date.now())]));
    await a.waitFor((f) => f.type === 'ack' && f.seq === 1);
    await live.waitFor((f) => f.type === 'samples');
    await live.waitFor((f) => f.type === 'fleet-update');
    const pushed = live.frames.filter((f) => f.type === 'samples').flatMap((f) => f.samples);
    expect(pushed.map((s: any) => s.ts)).not.toContain(old);
    expect(live.frames.filter((f) => f.type === 'fleet-update').flatMap((f) => f.ts)).not.toContain(old);
    const stored = await hub.store.chipSamples('GPU-test-0', old, old, 10);
    expect(stored[0].flags).toEqual({ backfill: true });
  });

  it('takes an inventory update: new chips accepted, removed chips shown offline', async () => {
    const a = await connectAgent();
    a.send({ v: 1, type: 'inventory', chips: [chipInfo(0), chipInfo(2)] });
    a.send(batch(0, [sample('GPU-test-0', Date.now()), sample('GPU-test-2', Date.now())]));
    expect((await a.waitFor((f) => f.type === 'ack')).stored).toBe(2);
    const chips = (await hub.get('/api/v1/chips')).body.chips;
    expect(chips.map((c: any) => [c.chipId, c.status])).toEqual([
      ['GPU-test-0', 'live'],
      ['GPU-test-1', 'offline'],
      ['GPU-test-2', 'live'],
    ]);
  });

  it('reports agents with their sources health and spool drops', async () => {
    const a = await connectAgent();
    const health = [{ kind: 'nvidia-smi', state: 'restarting', restarts: 2, parseErrors: 5, lastError: 'nvidia-smi exited with code 1' }];
    a.send({ ...batch(0, [sample('GPU-test-0', Date.now())]), health, dropped: { batches: 3, samples: 24 } });
    await a.waitFor((f) => f.type === 'ack');
    const { body } = await hub.get('/api/v1/agents');
    expect(body.agents).toEqual([expect.objectContaining({ agentId: 'agent-a', connected: true, chips: 2, health, dropped: { batches: 3, samples: 24 } })]);
    a.close();
    await eventually(async () => (await hub.get('/api/v1/agents')).body.agents[0].connected === false, 3000, 'agent disconnected');
  });
});

describe('REST', () => {
  it('serves raw history of a chip and explains bad parameters', async () => {
    const a = await connectAgent();
    const t0 = Date.now() - 10_000;
    a.send(batch(0, Array.from({ length: 10 }, (_, i) => sample('GPU-test-0', t0 + i * 1000, { powerW: 100 + i }))));
    await a.waitFor((f) => f.type === 'ack');
    const ok = await hub.get(`/api/v1/chips/GPU-test-0/samples?from=${t0 + 2000}&to=${new Date(t0 + 5000).toISOString()}`);
    expect(ok.status).toBe(200);
    expect(ok.body.samples.map((s: any) => s.powerW)).toEqual([102, 103, 104, 105]);
    const page = await hub.get(`/api/v1/chips/GPU-test-0/samples?from=${t0}&limit=3`);
    expect(page.body).toMatchObject({ truncated: true, next: t0 + 2001 });
    // Relative times, as /series and /energy take them.
    const recent = await hub.get('/api/v1/chips/GPU-test-0/samples?from=now-6s&to=now');
    expect(recent.status).toBe(200);
    expect(recent.body.to - recent.body.from).toBe(6000);
    expect(recent.body.samples.map((s: any) => s.powerW)).toEqual(expect.arrayContaining([105, 106, 107, 108, 109]));
    expect(recent.body.samples.map((s: any) => s.powerW)).not.toContain(102);
    for (const [q, status, code] of [
      ['?from=yesterday', 400, 'bad_request'],
      [`?from=${t0 + 5000}&to=${t0}`, 400, 'bad_request'],
      ['?limit=0', 400, 'bad_request'],
    ] as const) {
      const r = await hub.get(`/api/v1/chips/GPU-test-0/samples${q}`);
      expect(r.status, q).toBe(status);
      expect(r.body.code).toBe(code);
      expect(r.body.message).toMatch(/\w/);
      expect(r.body).toHaveProperty('requestId');
    }
    expect((await hub.get('/api/v1/chips/no-such-chip/samples')).status).toBe(404);
    expect((await hub.get('/api/v1/nothing')).body.code).toBe('not_found');
    expect((await hub.get('/healthz')).body.status).toBe('ok');
  });
});
