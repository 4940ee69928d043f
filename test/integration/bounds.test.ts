/**
 * The hub's bounds against a real hub (port 0), with small limits set through HubOptions so each
 * case is quick: hello timeout, HTTP header timeout (slowloris), the sample time window, extras
 * and chip counts, the per-agent frame rate, and the /series answer budget.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { HubOptions } from '../../server/hub.ts';
import { batch, chipInfo, hello, sample } from '../helpers/frames.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';
import { eventually, type TestSocket } from '../helpers/ws-client.ts';

let hub: TestHub | null = null;
afterEach(async () => {
  await hub?.stop();
  hub = null;
});

async function start(opts: Omit<Partial<HubOptions>, 'port' | 'db'> = {}): Promise<TestHub> {
  hub = await startTestHub(opts);
  return hub;
}

async function connectAgent(h: TestHub, agentId = 'agent-a', chips = [chipInfo(0), chipInfo(1)]): Promise<TestSocket> {
  const a = await h.ws('/ws/agent');
  a.send(hello(agentId, chips));
  await a.waitFor((f) => f.type === 'welcome' || f.type === 'error');
  return a;
}

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string; at: number }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString(), at: performance.now() })));
}

async function write(h: TestHub, body: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${h.port}/api/v1/write?precision=ms`, { method: 'POST', body, headers: h.auth('agent') });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const line = (chip: string, ts: number, extra = '') => `chip,host=lp1,chip=${chip},vendor=nvidia,model=H100 util_pct=50,power_w=300${extra} ${ts}`;

describe('hello timeout', () => {
  it('closes an agent socket that never says hello (1008, saying why); one that does stays', async () => {
    const h = await start({ helloTimeoutMs: 300 });
    const idle = await h.ws('/ws/agent');
    const t0 = performance.now();
    const closed = closeOf(idle.ws);
    const good = await connectAgent(h);
    const { code, reason, at } = await closed;
    expect(code).toBe(1008);
    expect(reason).toBe('no hello within 300 ms of connecting');
    expect(at - t0).toBeGreaterThanOrEqual(250);
    expect(at - t0).toBeLessThan(2_000);
    await new Promise((r) => setTimeout(r, 400));
    expect(good.ws.readyState).toBe(WebSocket.OPEN);
    good.send(batch(0, [sample('GPU-test-0', Date.now())]));
    await good.waitFor((f) => f.type === 'ack');
  });

  it('a refused hello does not count: the socket still closes at the timeout', async () => {
    const h = await start({ helloTimeoutMs: 300 });
    const a = await h.ws('/ws/agent');
    const closed = closeOf(a.ws);
    a.send({ ...hello(), chips: [] });
    expect((await a.waitFor((f) => f.type === 'error')).code).toBe('bad_frame');
    expect((await closed).code).toBe(1008);
  });
});

describe('HTTP timeouts', () => {
  it('closes a slowloris socket (headers never end) within the header timeout; requests and WebSockets are unaffected', async () => {
    const h = await start({ headersTimeoutMs: 400, requestTimeoutMs: 800, keepAliveTimeoutMs: 300 });
    const agent = await connectAgent(h);
    const t0 = performance.now();
    /** A raw socket: what the hub answered, and when it closed the socket (ms after t0). */
    const raw = (first: string) => {
      const s = connect(h.port, '127.0.0.1', () => first && s.write(first));
      const got = { answer: '', closedAfter: -1 };
      s.on('data', (d) => (got.answer += d.toString()));
      s.on('error', () => undefined); // the drip may write after the hub closed it
      const closed = new Promise<typeof got>((resolve) => s.on('close', () => resolve({ ...got, closedAfter: performance.now() - t0 })));
      return { s, closed };
    };
    const slow = raw('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => slow.s.writable && slow.s.write('X-a: b\r\n'), 100);
    const silent = raw('');
    try {
      expect((await h.get('/healthz')).status).toBe(200);
      for (const { closed } of [slow, silent]) {
        const { answer, closedAfter } = await closed;
        expect(closedAfter).toBeGreaterThanOrEqual(350);
        expect(closedAfter).toBeLessThan(1_500);
        expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      }
    } finally {
      clearInterval(drip);
      slow.s.destroy();
      silent.s.destroy();
    }
    // The agent's WebSocket outlived the request timeout.
    expect(agent.ws.readyState).toBe(WebSocket.OPEN);
    agent.send(batch(0, [sample('GPU-test-0', Date.now())]));
    await agent.waitFor((f) => f.type === 'ack');
  });
});

describe('the sample time window', () => {
  it('/ws/agent: 4 s ahead accepted, 7 s ahead refused (however long the frame took to arrive) (out_of_range); older than the raw retention refused', async () => {
    const h = await start({ retention: { rawMs: 3_600_000 } });
    const a = await connectAgent(h);
    const now = Date.now();
    a.send(batch(0, [sample('GPU-test-0', now + 4_000)]));
    expect(await a.waitFor((f) => f.seq === 0 || f.type === 'error')).toMatchObject({ type: 'ack', stored: 1 });
    a.send(batch(1, [sample('GPU-test-0', now - 1000), sample('GPU-test-1', now + 7_000)]));
    const ahead = await a.waitFor((f) => f.type === 'error');
    expect(ahead.code).toBe('out_of_range');
    expect(ahead.message).toMatch(/^samples\.1\.ts: \d+ is [5-7](\.\d)? s ahead of the hub's clock; at most 5 s ahead is accepted/);
    a.send(batch(2, [sample('GPU-test-0', now - 2 * 3_600_000)]));
    const old = await a.waitFor((f) => f.type === 'error' && f !== ahead);
    expect(old.code).toBe('out_of_range');
    expect(old.message).toMatch(/^samples\.0\.ts: \d+ is 2 h old; the hub keeps raw samples 1 h and refuses older ones$/);
    a.send(batch(3, [sample('GPU-test-0', now - 30 * 60_000)]));
    await a.waitFor((f) => f.type === 'ack' && f.seq === 3);
    expect(await h.store.countSamples()).toBe(2);
  });

  it('maxFutureMs is an option', async () => {
    const h = await start({ maxFutureMs: 60_000 });
    const a = await connectAgent(h);
    a.send(batch(0, [sample('GPU-test-0', Date.now() + 30_000)]));
    expect(await a.waitFor((f) => f.seq === 0)).toMatchObject({ type: 'ack' });
  });

  it('POST /api/v1/write: the same window, 400 out_of_range naming the line', async () => {
    const h = await start({ retention: { rawMs: 3_600_000 } });
    const now = Date.now();
    expect((await write(h, line('LP-0', now + 4_000))).status).toBe(204);
    const ahead = await write(h, `${line('LP-0', now)}\n${line('LP-0', now + 7_000)}`);
    expect(ahead).toMatchObject({ status: 400, body: { code: 'out_of_range', message: expect.stringMatching(/^line 2: timestamp \d+ \(ms\) is [5-7](\.\d)? s ahead of the hub's clock/) } });
    const old = await write(h, line('LP-0', now - 2 * 3_600_000));
    expect(old).toMatchObject({ status: 400, body: { code: 'out_of_range', message: expect.stringMatching(/^line 1: timestamp \d+ \(ms\) is 2 h old; the hub keeps raw samples 1 h/) } });
    expect(await h.store.countSamples()).toBe(1);
  });
});

describe('counts', () => {
  const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`core${i}`, i]));

  it('more than 64 extras keys: out_of_range naming the field, on both ways in', async () => {
    const h = await start();
    const a = await connectAgent(h);
    const now = Date.now();
    a.send(batch(0, [sample('GPU-test-0', now, { extras: keys(64) })]));
    await a.waitFor((f) => f.type === 'ack' && f.seq === 0);
    a.send(batch(1, [sample('GPU-test-0', now - 1), sample('GPU-test-1', now, { extras: keys(65) })]));
    expect(await a.waitFor((f) => f.type === 'error')).toMatchObject({ code: 'out_of_range', message: 'samples.1.extras: at most 64 extras keys per sample, got 65' });
    a.send(batch(2, [sample('GPU-test-0', now - 2, { extras: keys(10_000) })]));
    expect(await a.waitFor((f) => f.type === 'error' && f.message.includes('10000'))).toMatchObject({ code: 'out_of_range', message: 'samples.0.extras: at most 64 extras keys per sample, got 10000' });

    const fields = (n: number) => ',' + Array.from({ length: n }, (_, i) => `x${i}=1`).join(',');
    expect((await write(h, line('LP-1', now, fields(64)))).status).toBe(204);
    expect(await write(h, line('LP-1', now - 1, fields(65)))).toMatchObject({ status: 400, body: { code: 'out_of_range', message: expect.stringMatching(/^line 1: field "x64": at most 64 fields/) } });
    expect(await h.store.countSamples()).toBe(2);
  });

  it('chips per agent: a hello or inventory over the limit is refused with out_of_range', async () => {
    const h = await start({ maxChipsPerAgent: 4 });
    const chips = (n: number) => Array.from({ length: n }, (_, i) => chipInfo(i));
    const over = await h.ws('/ws/agent');
    over.send(hello('agent-big', chips(5)));
    expect(await over.waitFor((f) => f.type === 'error')).toMatchObject({ code: 'out_of_range', message: expect.stringMatching(/^chips: 5 chips, but this hub accepts at most 4 per agent/) });
    expect(over.frames.some((f) => f.type === 'welcome')).toBe(false);
    // The protocol's own limit (1,024) is out_of_range too, with its message.
    const huge = await h.ws('/ws/agent');
    huge.send(hello('agent-huge', chips(1025)));
    expect(await huge.waitFor((f) => f.type === 'error')).toMatchObject({ code: 'out_of_range', message: expect.stringMatching(/^chips: at most 1024 chips per agent/) });

    const a = await connectAgent(h, 'agent-ok', chips(4));
    expect(a.frames[0].type).toBe('welcome');
    a.send({ v: 1, type: 'inventory', chips: chips(5) });
    expect(await a.waitFor((f) => f.type === 'error')).toMatchObject({ code: 'out_of_range' });
    expect((await h.get('/api/v1/chips')).body.chips).toHaveLength(4);
  });

  it('agents per token: a token may bind at most maxAgentsPerToken agent ids; its own ids still connect, other tokens are not affected', async () => {
    const h = await start({ maxAgentsPerToken: 2 });
    const chip = (id: string) => [chipInfo(0, { chipId: id })];
    expect((await connectAgent(h, 'q-1', chip('Q-1'))).frames[0].type).toBe('welcome');
    expect((await connectAgent(h, 'q-2', chip('Q-2'))).frames[0].type).toBe('welcome');
    const third = await connectAgent(h, 'q-3', chip('Q-3'));
    expect(third.frames[0]).toMatchObject({ type: 'error', code: 'out_of_range', message: expect.stringMatching(/^this token already has 2 agents/) });
    await eventually(() => third.closeCode === 1008, 3000, 'the refused hello closed');
    // An id it already has is no new binding.
    expect((await connectAgent(h, 'q-1', chip('Q-1'))).frames[0].type).toBe('welcome');
    // Another token has its own quota.
    const other = h.tokens.create('agent', 'other').token;
    const o = await h.ws('/ws/agent', other);
    o.send(hello('q-other', chip('Q-O')));
    expect(await o.waitFor((f) => f.type === 'welcome' || f.type === 'error')).toMatchObject({ type: 'welcome' });
    expect((await h.get('/api/v1/agents')).body.agents.map((a: any) => a.agentId).sort()).toEqual(['q-1', 'q-2', 'q-other']);
  });
});

describe('per-agent frame rate', () => {
  it('a flooding agent is slowed (nothing dropped) while another agent keeps fast acks', async () => {
    const h = await start({ agentFramesPerSec: 40, agentFrameBurst: 10 });
    const flooder = await connectAgent(h, 'flooder', [chipInfo(0)]);
    const calm = await connectAgent(h, 'calm', [chipInfo(1, { chipId: 'GPU-calm' })]);
    const N = 70;
    const t0 = performance.now();
    const base = Date.now() - 60_000;
    for (let i = 0; i < N; i++) flooder.send(batch(i, [sample('GPU-test-0', base + i)]));
    // The calm agent sends a batch every 50 ms meanwhile and times each ack.
    const lat: number[] = [];
    for (let i = 0; i < 20; i++) {
      const s = performance.now();
      calm.send(batch(i, [sample('GPU-calm', base + i)]));
      await calm.waitFor((f) => f.type === 'ack' && f.seq === i);
      lat.push(performance.now() - s);
      await new Promise((r) => setTimeout(r, 50));
    }
    await eventually(() => flooder.frames.filter((f) => f.type === 'ack').length === N, 10_000, 'every flood batch acked');
    const took = performance.now() - t0;
    // 10 at once, then 60 at 40/s: about 1.5 s.
    expect(took).toBeGreaterThan(1_200);
    expect(flooder.frames.filter((f) => f.type === 'error')).toEqual([]);
    expect(Math.max(...lat)).toBeLessThan(250);
    expect(await h.store.countSamples()).toBe(N + 20);
  });
});

describe('silence the hub did not read', () => {
  it("an agent's chips stay live while the hub holds its socket for the frame rate, and turn stale once it is read and silent", async () => {
    // The hello and the first batch within the burst, the rest 1 s apart.
    const h = await start({ agentFramesPerSec: 1, agentFrameBurst: 2 });
    // 200 ms interval: stale after 600 ms without a sample. Its frames beyond the rate are handled 1 s apart.
    const a = await h.ws('/ws/agent');
    a.send(hello('held', [chipInfo(0)], { intervalMs: 200 }));
    await a.waitFor((f) => f.type === 'welcome');
    const N = 5;
    const base = Date.now();
    for (let i = 0; i < N; i++) a.send(batch(i, [sample('GPU-test-0', base + i)]));
    const status = async () => (await h.get('/api/v1/chips')).body.chips.find((c: any) => c.chipId === 'GPU-test-0').status;
    const staleEvents = async () => (await h.get('/api/v1/alerts/history?rule=stale&chip=GPU-test-0')).body.events.map((e: any) => `${e.from}>${e.to}`);
    await a.waitFor((f) => f.type === 'ack' && f.seq === 0);
    const t0 = performance.now();
    await eventually(() => a.frames.filter((f) => f.type === 'ack').length === N, 10_000, 'every batch acked');
    // The rest took ~4 s, 1 s between handled frames, each gap over the chip's 600 ms: had the hub
    // counted the time it held the socket, the chip would have gone stale (and its alert fired) in each.
    expect(performance.now() - t0).toBeGreaterThan(2_500);
    expect(await staleEvents()).toEqual([]);
    expect(await status()).toBe('live');
    await eventually(async () => (await status()) === 'stale', 3_000, 'stale once read and silent');
    await eventually(async () => (await staleEvents()).includes('pending>firing'), 3_000, 'the stale alert fires');
  });
});

describe('/series answer budget', () => {
  it('a request over the cell budget gets a 400 that says how to narrow it; one within it is answered (streamed)', async () => {
    const h = await start({ maxSeriesCells: 1_000 });
    const now = Date.now();
    const lines: string[] = [];
    for (let c = 0; c < 3; c++) for (let t = now - 300_000; t <= now; t += 1000) lines.push(line(`LP-${c}`, t));
    expect((await write(h, lines.join('\n'))).status).toBe(204);

    const over = await h.get('/api/v1/series?from=now-5m&step=1s&fields=utilPct,powerW');
    expect(over.status).toBe(400);
    expect(over.body.code).toBe('bad_request');
    expect(over.body.message).toMatch(/^the answer would hold \d+ values \(step 1s: 30\d points per series × 3 series × 2 fields\), more than the hub answers at once \(1000\); narrow the request: fewer chips .*fewer fields, a coarser step \(step=\d+s fits\), or a shorter range/);

    const ok = await h.get('/api/v1/series?from=now-5m&step=10s&fields=utilPct,powerW&chip=LP-0');
    expect(ok.status).toBe(200);
    expect(ok.body.series).toEqual([expect.objectContaining({ label: 'LP-0', field: 'utilPct' }), expect.objectContaining({ label: 'LP-0', field: 'powerW' })]);
    expect(ok.body.data).toHaveLength(3);
    expect(ok.body.data[1].filter((v: number | null) => v === 50).length).toBeGreaterThan(25);

    const csv = await fetch(`http://127.0.0.1:${h.port}/api/v1/series?from=now-5m&step=10s&fields=powerW&chip=LP-1&format=csv`, { headers: h.auth('viewer') });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const text = await csv.text();
    expect(text.split('\r\n')[0]).toBe('ts,LP-1/powerW');
    expect(text.split('\r\n').length).toBeGreaterThan(30);
  });
});
