/**
 * The live bus in the hub's own metrics (GET /metrics, docs/metrics.md), against the real NATS
 * server (FLEETSCOPE_TEST_NATS_URL, default nats://127.0.0.1:4222) under a subject root of this
 * run's own: two hubs, B's NATS connection through a TCP proxy. B's metrics show the connection,
 * the messages it took from A by kind, A's samples and A as a remote hub; A's show what it
 * published by kind. With B cut off, B shows not connected and counts what it could not publish;
 * back, one reconnect.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batch, chipInfo, hello, sample } from '../helpers/frames.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';
import { eventually, type TestSocket } from '../helpers/ws-client.ts';

const NATS_URL = process.env.FLEETSCOPE_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const ROOT = `fleetscope_test_${randomBytes(4).toString('hex')}`;

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** `name{labels}` -> value of every series of a hub's /metrics (labels as written, otel_scope_* dropped). */
async function scrape(h: TestHub): Promise<Map<string, number>> {
  const res = await fetch(`${h.url}/metrics`, { headers: h.auth('viewer') });
  expect(res.status).toBe(200);
  const out = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels = (m[2] ?? '').split(/,(?=[a-z_]+=")/).filter((l) => l && !l.startsWith('otel_scope_')).join(',');
    out.set(`${m[1]}{${labels}}`, Number(m[3]));
  }
  return out;
}

const value = (m: Map<string, number>, key: string) => m.get(key) ?? 0;

async function hub(hubId: string, url = NATS_URL): Promise<TestHub> {
  const h = await startTestHub({ bus: { url, subjectRoot: ROOT, hubId, reconnectTimeWaitMs: 200 } });
  cleanups.push(() => h.stop());
  await eventually(() => h.bus!.bus.state().connected, 10_000, `${hubId} on the bus`);
  return h;
}

async function agentOn(h: TestHub, agentId: string, chipId: string): Promise<TestSocket> {
  const ws = await h.ws('/ws/agent');
  cleanups.push(() => ws.close());
  ws.send(hello(agentId, [chipInfo(0, { chipId })]));
  await ws.waitFor((f) => f.type === 'welcome');
  return ws;
}

let proxy: TcpProxy;
let a: TestHub;
let b: TestHub;

beforeAll(async () => {
  const t = new URL(NATS_URL);
  proxy = await startTcpProxy(t.hostname, Number(t.port || 4222));
  cleanups.push(() => proxy.close());
  a = await hub(`hub-ma-${ROOT}`);
  b = await hub(`hub-mb-${ROOT}`, `nats://127.0.0.1:${proxy.port}`);
});

describe('live bus metrics', () => {
  it("hub B shows it is connected, the messages it took from hub A by kind, A's samples and A as a remote hub; A what it published", async () => {
    const chipId = `GPU-${ROOT}-m0`;
    const agent = await agentOn(a, `agent-ma-${ROOT}`, chipId);
    let seq = 0;
    const sender = setInterval(() => agent.send(batch(seq++, [sample(chipId, Date.now())])), 100);
    cleanups.push(() => clearInterval(sender));
    await eventually(async () => (await b.get('/api/v1/chips')).body.chips.some((c: any) => c.chipId === chipId), 10_000, 'B to know the chip');
    // B subscribes to a chip's samples while a viewer watches it.
    const watch = await b.ws('/ws/live');
    cleanups.push(() => watch.close());
    watch.send({ v: 1, type: 'subscribe', sub: { topic: 'chip', chipId } });
    await eventually(() => watch.frames.filter((f) => f.type === 'samples').length >= 3, 10_000, "A's samples on B");

    const mb = await scrape(b);
    expect(value(mb, 'fleetscope_bus_connected{}')).toBe(1);
    expect(value(mb, 'fleetscope_bus_messages_received_total{kind="samples"}')).toBeGreaterThan(0);
    expect(value(mb, 'fleetscope_bus_messages_received_total{kind="summary"}')).toBeGreaterThan(0);
    expect(value(mb, 'fleetscope_bus_remote_samples_total{}')).toBeGreaterThan(0);
    expect(value(mb, 'fleetscope_bus_remote_hubs{}')).toBe(1);
    expect(value(mb, 'fleetscope_bus_reconnects_total{}')).toBe(0);
    expect(value(mb, 'fleetscope_bus_messages_malformed_total{}')).toBe(0);
    // B has no agents of its own: it asked the others for full summaries on connecting, and publishes no samples.
    expect(value(mb, 'fleetscope_bus_messages_published_total{kind="sync"}')).toBeGreaterThan(0);
    expect(value(mb, 'fleetscope_bus_messages_published_total{kind="samples"}')).toBe(0);

    const ma = await scrape(a);
    expect(value(ma, 'fleetscope_bus_connected{}')).toBe(1);
    expect(value(ma, 'fleetscope_bus_messages_published_total{kind="samples"}')).toBeGreaterThan(0);
    expect(value(ma, 'fleetscope_bus_published_bytes_total{}')).toBeGreaterThan(0);
    // A takes no samples from B (B has none), and drops nothing while connected.
    expect(value(ma, 'fleetscope_bus_messages_received_total{kind="samples"}')).toBe(0);
    expect(value(ma, 'fleetscope_bus_messages_dropped_total{kind="samples"}')).toBe(0);
    expect(value(ma, 'fleetscope_bus_queue_dropped_total{kind="samples"}')).toBe(0);
    // The counters are the bus's own (hub.bus.*.stats).
    expect(value(mb, 'fleetscope_bus_messages_received_total{kind="samples"}')).toBeLessThanOrEqual(b.bus!.bus.stats.receivedByKind.samples);
  }, 30_000);

  it("hub B's NATS connection cut: not connected, what it could not publish counted by kind; back: one reconnect", async () => {
    proxy.cut();
    await eventually(async () => value(await scrape(b), 'fleetscope_bus_connected{}') === 0, 10_000, 'B to show the bus down');
    const down = await scrape(b);
    expect(value(down, 'fleetscope_bus_disconnects_total{}')).toBe(1);
    // A chip of B's own: its samples cannot go out while B is cut off.
    const chipId = `GPU-${ROOT}-mb0`;
    const agent = await agentOn(b, `agent-mb-${ROOT}`, chipId);
    agent.send(batch(0, [sample(chipId, Date.now())]));
    await agent.waitFor((f) => f.type === 'ack' && f.seq === 0);
    await eventually(async () => value(await scrape(b), 'fleetscope_bus_messages_dropped_total{kind="samples"}') >= 1, 5000, "B to count its samples message as not published");
    expect(value(await scrape(a), 'fleetscope_bus_connected{}')).toBe(1);

    await proxy.reopen();
    await eventually(async () => value(await scrape(b), 'fleetscope_bus_connected{}') === 1, 10_000, 'B back on the bus');
    const back = await scrape(b);
    expect(value(back, 'fleetscope_bus_reconnects_total{}')).toBe(1);
    expect(value(back, 'fleetscope_bus_disconnects_total{}')).toBe(1);
    expect(value(back, 'fleetscope_bus_reconnects_total{}')).toBe(b.bus!.bus.stats.connects - 1);
  }, 30_000);
});
