/**
 * Hubs sharing live data through NATS (docs/scale-out.md), against the real NATS server
 * (FLEETSCOPE_TEST_NATS_URL, default nats://127.0.0.1:4222) under a subject root of this run's
 * own, so parallel runs do not see each other:
 * - a real agent process on hub A, a /ws/live chip viewer on hub B: B's viewer gets the chip's
 *   samples within 100 ms (p99, from A's publish right after its commit) and B stores none;
 * - hub B's fleet overview (/ws/live fleet, /api/v1/chips) lists A's chips with their status;
 * - hub A's alert transitions reach hub B's `alerts` viewers (B's own engine judges none of A's chips);
 * - hub B's NATS connection cut (a TCP proxy in between, closed and reopened on the same port):
 *   /readyz says the bus is down, then ready again, and the viewer's samples resume by themselves;
 * - a hub whose NATS is not there at start serves, is not ready, and connects once it is.
 */
import { randomBytes } from 'node:crypto';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { batch, chipInfo, hello, sample } from '../helpers/frames.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';
import { eventually, type TestSocket } from '../helpers/ws-client.ts';
import { runFleetscope, type Proc } from '../../bench/support/processes.ts';
import { decodeBusMessage } from '../../server/bus/bus-messages.ts';
import type { HubBusOptions } from '../../server/bus/start-bus.ts';

const NATS_URL = process.env.FLEETSCOPE_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const ROOT = `fleetscope_test_${randomBytes(4).toString('hex')}`;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function hub(hubId: string, bus: Partial<HubBusOptions> = {}): Promise<TestHub> {
  const h = await startTestHub({ bus: { url: NATS_URL, subjectRoot: ROOT, hubId, reconnectTimeWaitMs: 200, ...bus } });
  cleanups.push(() => h.stop());
  await eventually(() => h.bus!.bus.state().connected, 10_000, `${hubId} on the bus`);
  return h;
}

async function viewer(h: TestHub, ...subs: object[]): Promise<TestSocket> {
  const ws = await h.ws('/ws/live');
  cleanups.push(() => ws.close());
  for (const sub of subs) ws.send({ v: 1, type: 'subscribe', sub });
  return ws;
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
const samplesOf = (ws: TestSocket) => ws.frames.filter((f) => f.type === 'samples').flatMap((f) => f.samples);

describe('live bus between hubs', () => {
  it("a real agent on hub A: hub B's chip viewer gets its samples within 100 ms (p99), and hub B stores none", async () => {
    const a = await hub(`hub-a-${ROOT}`);
    const b = await hub(`hub-b-${ROOT}`);
    // The publish time (`at`, right after A's commit) of every sample, seen on NATS itself.
    const nc: NatsConnection = await connect({ servers: NATS_URL });
    cleanups.push(() => nc.close());
    const publishedAt = new Map<string, number>();
    const origins = new Set<string>();
    nc.subscribe(`${ROOT}.samples.>`, {
      callback: (_err, m) => {
        const msg = decodeBusMessage(m.data);
        origins.add(msg.hub);
        if (msg.t === 'samples') for (const s of msg.samples) publishedAt.set(`${s.chipId}@${s.ts}`, msg.at);
      },
    });
    await nc.flush();
    const agent: Proc = runFleetscope(['agent', '--hub', `ws://127.0.0.1:${a.port}`, '--source', 'sim-nvml', '--interval', '100ms', '--seed', '7', '--hostname', 'gpu-1.example.internal', '--spool', 'none', '--token', a.token.agent, '--log-format', 'json']);
    cleanups.push(async () => {
      if (agent.child.exitCode === null) agent.child.kill('SIGTERM');
      await agent.exited;
    });

    // B learns A's chips from A's fleet summary.
    await eventually(async () => (await b.get('/api/v1/chips')).body.chips.filter((c: any) => c.status === 'live').length === 8, 15_000, "hub B to list A's 8 chips live");
    const chips = (await b.get('/api/v1/chips')).body.chips as any[];
    expect(new Set(chips.map((c) => c.host))).toEqual(new Set(['gpu-1.example.internal']));

    const chipId = chips[3].chipId as string;
    const watch = await viewer(b, { topic: 'chip', chipId });
    await watch.waitFor((f) => f.type === 'chip-history');
    await eventually(() => b.bus!.bridge.watchedChips().includes(chipId), 2000, 'B to subscribe to the chip');
    const arrivals = new Map<number, number>();
    watch.ws.on('message', () => {
      const now = Date.now();
      for (const s of samplesOf(watch)) if (!arrivals.has(s.ts)) arrivals.set(s.ts, now);
    });
    await eventually(() => arrivals.size >= 60, 20_000, '60 samples of the chip on hub B');

    // Only samples whose publish was seen (the first may predate the NATS subscription's flush), skipping the first 5 (warm-up).
    const measured = [...arrivals].slice(5).filter(([ts]) => publishedAt.has(`${chipId}@${ts}`));
    expect(measured.length).toBeGreaterThanOrEqual(50);
    const fromCommit = measured.map(([ts, at]) => at - publishedAt.get(`${chipId}@${ts}`)!);
    const fromSample = measured.map(([ts, at]) => at - ts);
    const report = { samples: measured.length, commitToB: { p50: percentile(fromCommit, 50), p99: percentile(fromCommit, 99), max: Math.max(...fromCommit) }, sampleTsToB: { p50: percentile(fromSample, 50), p99: percentile(fromSample, 99), max: Math.max(...fromSample) } };
    console.log(`live bus latency (ms): ${JSON.stringify(report)}`);
    expect(report.commitToB.p99).toBeLessThanOrEqual(100);
    // Every sample once, in order.
    const got = samplesOf(watch).map((s: any) => s.ts);
    expect(new Set(got).size).toBe(got.length);
    expect(got).toEqual([...got].sort((x, y) => x - y));

    // Stored on A only.
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    expect(await a.store.countSamples()).toBeGreaterThanOrEqual(60 * 8 / 2);
    expect(await b.store.countSamples()).toBe(0);
    expect((await b.get(`/api/v1/chips/${chipId}/samples?from=0`)).body.samples ?? []).toEqual([]);

    // The viewer left: B drops the chip's subscription.
    watch.close();
    await eventually(() => !b.bus!.bridge.watchedChips().includes(chipId), 3000, 'B to unsubscribe the chip');
    // B never published A's samples again: every samples message on the bus came from A.
    expect(origins).toEqual(new Set([`hub-a-${ROOT}`]));
    expect(b.bus!.bridge.stats.remoteSamples).toBeGreaterThanOrEqual(60);
    // A dropped what came back to it unparsed, and took nothing from B.
    expect(a.bus!.bridge.stats.remoteSamples).toBe(0);
    expect(b.bus!.bus.stats.malformed + a.bus!.bus.stats.malformed).toBe(0);
  }, 60_000);

  it("hub B's fleet overview lists hub A's chips with their status, and their values; they turn offline when A's agent leaves, and when A goes quiet", async () => {
    const a = await hub(`hub-a3-${ROOT}`);
    const b = await hub(`hub-b3-${ROOT}`, { remoteTimeoutMs: 1500 });
    const overview = await viewer(b, { topic: 'fleet' });
    const compact = await viewer(b, { topic: 'fleet', compact: true });
    // A firehose viewer (its fleet snapshot, asked for last, means B took the firehose subscription).
    const hose = await viewer(b, { topic: 'samples' }, { topic: 'fleet' });
    await overview.waitFor((f) => f.type === 'fleet-snapshot');
    await compact.waitFor((f) => f.type === 'fleet-snapshot');
    await hose.waitFor((f) => f.type === 'fleet-snapshot');
    // ... and NATS has it.
    await b.bus!.bus.flush();

    const agentWs = await a.ws('/ws/agent');
    cleanups.push(() => agentWs.close());
    const chips = [0, 1, 2].map((i) => chipInfo(i, { chipId: `GPU-${ROOT}-ov-${i}` }));
    agentWs.send(hello(`agent-ov-${ROOT}`, chips, { host: { hostname: 'ip-10-0-0-7.ec2.internal', instanceId: null, instanceType: 'p5.48xlarge' } }));
    await agentWs.waitFor((f) => f.type === 'welcome');
    // A's inventory goes out ahead of the chips' samples, so B takes in even the first batch.
    const t = Date.now();
    agentWs.send(batch(0, chips.map((c, i) => sample(c.chipId, t, { utilPct: 10 * (i + 1) }))));
    await agentWs.waitFor((f) => f.type === 'ack' && f.seq === 0);
    await eventually(() => samplesOf(hose).length >= 3, 5000, 'the firehose on B');
    await new Promise((r) => setTimeout(r, 200));
    expect(samplesOf(hose).map((x: any) => `${x.chipId}@${x.ts - t}`).sort()).toEqual(chips.map((c) => `${c.chipId}@0`));
    // A chip viewer on the firehose's socket too: the next batch still comes once (the firehose's).
    hose.send({ v: 1, type: 'subscribe', sub: { topic: 'chip', chipId: chips[0]!.chipId } });
    await hose.waitFor((f) => f.type === 'chip-history');
    agentWs.send(batch(1, chips.map((c, i) => sample(c.chipId, t + 1, { utilPct: 10 * (i + 1) }))));
    await eventually(() => samplesOf(hose).length >= 6, 5000, 'the second batch on the firehose');
    await new Promise((r) => setTimeout(r, 200));
    expect(samplesOf(hose).filter((x: any) => x.ts === t + 1).map((x: any) => x.chipId).sort()).toEqual(chips.map((c) => c.chipId));

    // /api/v1/chips on B: A's chips, their host and status (live once A's samples came).
    await eventually(async () => (await b.get('/api/v1/chips')).body.chips.filter((c: any) => c.status === 'live').length === 3, 5000, "B to list A's chips live");
    const listed = (await b.get('/api/v1/chips')).body.chips as any[];
    expect(listed.map((c) => [c.chipId, c.host, c.agentId, c.status, c.latest?.utilPct])).toEqual(chips.map((c, i) => [c.chipId, 'ip-10-0-0-7.ec2.internal', `agent-ov-${ROOT}`, 'live', 10 * (i + 1)]));
    // The overview: inventory frames name the chips, fleet-update frames carry their values.
    await overview.waitFor((f) => f.type === 'inventory' && f.chips.some((c: any) => c.chipId === chips[2]!.chipId));
    await overview.waitFor((f) => f.type === 'fleet-update' && f.chipIds.includes(chips[2]!.chipId) && f.utilPct[f.chipIds.indexOf(chips[2]!.chipId)] === 30);
    const inv = await compact.waitFor((f) => f.type === 'inventory' && f.chips.some((c: any) => c.chipId === chips[0]!.chipId));
    const slot = inv.slots[inv.chips.findIndex((c: any) => c.chipId === chips[0]!.chipId)];
    await compact.waitFor((f) => f.type === 'fleet-columns' && f.slot.includes(slot));
    // A viewer that connects now gets them in its snapshot, with their status.
    const late = await viewer(b, { topic: 'fleet' });
    const snap = await late.waitFor((f) => f.type === 'fleet-snapshot');
    expect(snap.chips.filter((c: any) => c.chipId.startsWith(`GPU-${ROOT}-ov-`)).map((c: any) => c.status)).toEqual(['live', 'live', 'live']);
    // B's /metrics/fleet is its own agents' chips only (A exposes its own).
    expect((await b.get('/metrics/fleet')).body).not.toContain(chips[0]!.chipId);
    expect((await a.get('/metrics/fleet')).body).toContain(chips[0]!.chipId);

    // The agent leaves A: its chips turn offline on B (status subjects).
    agentWs.close();
    // (One status message per chip: they may come in one frame or several.)
    const offline = () => new Set(overview.frames.filter((f) => f.type === 'status').flatMap((f) => f.changes.filter((c: any) => c.status === 'offline').map((c: any) => c.chipId)));
    await eventually(() => chips.every((c) => offline().has(c.chipId)), 5000, "status frames on B with A's chips offline");
    expect((await b.get('/api/v1/chips')).body.chips.map((c: any) => c.status)).toEqual(['offline', 'offline', 'offline']);

    // A second agent on A, then A stops (no word on the bus): after remoteTimeoutMs B shows its chips offline.
    const again = await a.ws('/ws/agent');
    cleanups.push(() => again.close());
    again.send(hello(`agent-ov-${ROOT}`, chips, { host: { hostname: 'ip-10-0-0-7.ec2.internal', instanceId: null, instanceType: 'p5.48xlarge' } }));
    await again.waitFor((f) => f.type === 'welcome');
    again.send(batch(1, chips.map((c) => sample(c.chipId, Date.now()))));
    await eventually(async () => (await b.get('/api/v1/chips')).body.chips.every((c: any) => c.status === 'live'), 5000, 'live on B again');
    await a.bus!.close();
    await eventually(async () => (await b.get('/api/v1/chips')).body.chips.every((c: any) => c.status === 'offline'), 5000, 'offline on B once A is quiet');
    expect(await b.store.countSamples()).toBe(0);
  }, 60_000);

  it("hub A's alert transitions reach hub B's `alerts` viewers", async () => {
    const a = await hub(`hub-a4-${ROOT}`);
    const b = await hub(`hub-b4-${ROOT}`);
    const chip = chipInfo(0, { chipId: `GPU-${ROOT}-al` });
    const rule = { id: 'bus-high-power', name: 'BusHighPower', field: 'powerW', op: '>', threshold: 500, for: '0s', selector: { chip: [chip.chipId] } };
    const created = await fetch(`${a.url}/api/v1/alerts/rules`, { method: 'POST', headers: { ...a.auth('admin'), 'content-type': 'application/json' }, body: JSON.stringify(rule) });
    expect(created.status).toBe(201);
    const alertsOnB = await viewer(b, { topic: 'alerts' });
    await alertsOnB.waitFor((f) => f.type === 'alerts-snapshot');
    // The subscription is at the NATS server.
    await b.bus!.bus.flush();

    const agentWs = await a.ws('/ws/agent');
    cleanups.push(() => agentWs.close());
    agentWs.send(hello(`agent-al-${ROOT}`, [chip]));
    await agentWs.waitFor((f) => f.type === 'welcome');
    agentWs.send(batch(0, [sample(chip.chipId, Date.now(), { powerW: 650 })]));
    const frame = await alertsOnB.waitFor((f) => f.type === 'alert' && f.events.some((e: any) => e.chipId === chip.chipId && e.to === 'firing'));
    expect(frame.events.find((e: any) => e.to === 'firing')).toMatchObject({ ruleId: 'bus-high-power', chipId: chip.chipId, value: 650 });
    // B's own alert engine does not judge A's chips.
    expect((await b.get('/api/v1/alerts')).body.alerts).toEqual([]);
  }, 30_000);

  it("hub B's NATS connection cut and back: /readyz says the bus is down, then ready; B's viewer gets samples again by itself", async () => {
    const proxy = await tcpProxy(NATS_URL);
    cleanups.push(() => proxy.close());
    const a = await hub(`hub-a2-${ROOT}`);
    const b = await hub(`hub-b2-${ROOT}`, { url: `nats://127.0.0.1:${proxy.port}` });

    const agentWs = await a.ws('/ws/agent');
    cleanups.push(() => agentWs.close());
    const chip = chipInfo(0, { chipId: `GPU-${ROOT}-0` });
    agentWs.send(hello(`agent-${ROOT}`, [chip]));
    await agentWs.waitFor((f) => f.type === 'welcome');
    let seq = 0;
    const sender = setInterval(() => agentWs.send(batch(seq++, [sample(chip.chipId, Date.now())])), 100);
    cleanups.push(() => clearInterval(sender));

    await eventually(async () => (await b.get('/api/v1/chips')).body.chips.some((c: any) => c.chipId === chip.chipId), 10_000, 'B to know the chip');
    const watch = await viewer(b, { topic: 'chip', chipId: chip.chipId });
    await watch.waitFor((f) => f.type === 'chip-history');
    await eventually(() => samplesOf(watch).length >= 5, 5000, 'samples on B before the cut');
    expect((await fetch(`${b.url}/readyz`)).status).toBe(200);

    proxy.cut();
    await eventually(async () => (await fetch(`${b.url}/readyz`)).status === 503, 5000, 'B not ready');
    const down = await (await fetch(`${b.url}/readyz`)).json();
    expect(down.checks.bus).toMatch(new RegExp(`^not connected to nats://127\\.0\\.0\\.1:${proxy.port} for \\d+s, reconnecting`));
    expect(down.checks.database).toBe('ok');
    expect((await fetch(`${a.url}/readyz`)).status).toBe(200);
    // While down, B still serves (and still hears nothing).
    expect((await b.get('/api/v1/chips')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1000));
    const beforeBack = samplesOf(watch).length;
    const cutAt = Date.now();

    await proxy.reopen();
    await eventually(async () => (await fetch(`${b.url}/readyz`)).status === 200, 10_000, 'B ready again');
    expect(await (await fetch(`${b.url}/readyz`)).json()).toMatchObject({ status: 'ready', checks: { bus: 'ok' } });
    await eventually(() => samplesOf(watch).filter((s: any) => s.ts > cutAt).length >= 5, 10_000, 'samples on B after the reconnect');
    expect(samplesOf(watch).length).toBeGreaterThan(beforeBack);
    expect(b.bus!.bus.stats.disconnects).toBe(1);
    expect(b.bus!.bus.stats.connects).toBe(2);
    expect(await b.store.countSamples()).toBe(0);
  }, 60_000);

  it('a hub whose NATS is not there at start serves, is not ready, and connects once it is', async () => {
    const proxy = await tcpProxy(NATS_URL);
    // Held but refusing (a closed port could go to the hub's own listen on port 0 meanwhile).
    proxy.down();
    cleanups.push(() => proxy.close());
    const h = await startTestHub({ bus: { url: `nats://127.0.0.1:${proxy.port}`, subjectRoot: ROOT, hubId: `hub-late-${ROOT}`, reconnectTimeWaitMs: 200 } });
    cleanups.push(() => h.stop());
    const res = await fetch(`${h.url}/readyz`);
    expect(res.status).toBe(503);
    expect((await res.json()).checks.bus).toMatch(/^not connected to nats:\/\/127\.0\.0\.1:\d+ for \d+s, reconnecting/);
    expect((await h.get('/api/v1/chips')).status).toBe(200);
    proxy.up();
    await eventually(async () => (await fetch(`${h.url}/readyz`)).status === 200, 10_000, 'ready once NATS is there');
    expect(h.bus!.bus.stats.connects).toBe(1);
  });
});

/** A proxy to the test NATS server (test/helpers/tcp-proxy.ts). */
function tcpProxy(target: string): Promise<TcpProxy> {
  const t = new URL(target);
  return startTcpProxy(t.hostname, Number(t.port || 4222));
}
