import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_WRITE_BYTES } from '../../server/routes/write-routes.ts';
import { startHub } from '../../server/hub.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';

let hub: TestHub;
beforeEach(async () => {
  hub = await startTestHub();
});
afterEach(async () => {
  await hub.stop();
});

async function write(body: string | Blob, query = '', headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${hub.port}/api/v1/write${query}`, { method: 'POST', body, headers: { 'content-type': 'text/plain; charset=utf-8', ...hub.auth('agent'), ...headers } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const T = Date.now() - 2_000;
const ns = (ms: number) => `${ms}000000`;
const G1 = 'chip,host=gpu-node-1,chip=GPU-11111111-aaaa,vendor=nvidia,model=H100,instance_type=p5.48xlarge';
const G2 = 'chip,host=gpu-node-1,chip=GPU-22222222-bbbb,vendor=nvidia,model=H100';
const N0 = 'chip,host=trn-node-1,chip=i-0abc-neuron0,vendor=aws,model=Trainium2';
const BODY = [
  '# telegraf output',
  `${G1} util_pct=97,mem_util_pct=41.5,mem_used_bytes=74690871296i,mem_total_bytes=85520809984i,power_w=612.45,power_limit_w=700,temp_c=61,energy_j=1.2345e6,sm_clock_mhz=1980i ${ns(T)}`,
  `${G2} util_pct=3,power_w=88.5 ${ns(T)}`,
  `${N0} util_pct=55.25,power_w=300,nc0_util=50,nc1_util=60.5 ${ns(T)}`,
  `${G1} util_pct=98,power_w=615 ${ns(T + 1000)}`,
].join('\n');

/** A stored sample with absent optional fields as null (stores differ in omitting them). */
const full = (s: object) => ({ smClockMhz: null, eccCorrected: null, eccUncorrected: null, ...s });
const stored = async (chipId: string, from: number, to: number) => (await hub.store.chipSamples(chipId, from, to, 10)).map(full);

/** Chip ids a live frame carries (`fleet-update` columns, or full `samples`). */
const frameChips = (f: any): string[] => (f.type === 'fleet-update' ? f.chipIds : f.type === 'samples' ? f.samples.map((s: any) => s.chipId) : []);

describe('POST /api/v1/write', () => {
  it('stores every point with its exact values, answers 204 after commit, and pushes them live', async () => {
    const live = await hub.ws('/ws/live');
    live.send({ v: 1, type: 'subscribe', sub: { topic: 'fleet' } });
    await live.waitFor((f) => f.type === 'fleet-snapshot');

    const res = await write(BODY);
    expect(res.status).toBe(204);
    expect(await hub.store.countSamples()).toBe(4);
    expect(await stored('GPU-11111111-aaaa', T, T + 1000)).toEqual([
      full({ ts: T, chipId: 'GPU-11111111-aaaa', utilPct: 97, memUtilPct: 41.5, memUsedBytes: 74690871296, memTotalBytes: 85520809984, powerW: 612.45, powerLimitW: 700, tempC: 61, energyJ: 1234500, smClockMhz: 1980 }),
      full({ ts: T + 1000, chipId: 'GPU-11111111-aaaa', utilPct: 98, memUtilPct: null, memUsedBytes: null, memTotalBytes: null, powerW: 615, powerLimitW: null, tempC: null, energyJ: null }),
    ]);
    expect(await stored('i-0abc-neuron0', T, T)).toEqual([
      full({ ts: T, chipId: 'i-0abc-neuron0', utilPct: 55.25, memUtilPct: null, memUsedBytes: null, memTotalBytes: null, powerW: 300, powerLimitW: null, tempC: null, energyJ: null, extras: { nc0_util: 50, nc1_util: 60.5 } }),
    ]);

    const inv = await live.waitFor((f) => f.type === 'inventory' && f.chips.some((c: any) => c.chipId === 'i-0abc-neuron0'));
    expect(inv.chips[0]).toMatchObject({ host: 'trn-node-1', agentId: 'lp-trn-node-1', vendor: 'aws', model: 'Trainium2' });
    await live.waitFor((f) => frameChips(f).includes('GPU-22222222-bbbb'));
    const pushed = new Set(live.frames.flatMap(frameChips));
    expect([...pushed].sort()).toEqual(['GPU-11111111-aaaa', 'GPU-22222222-bbbb', 'i-0abc-neuron0']);

    const { body } = await hub.get('/api/v1/chips');
    expect(body.chips.map((c: any) => [c.host, c.chipId, c.index, c.status, c.agentId, c.instanceType, c.latest?.ts])).toEqual([
      ['gpu-node-1', 'GPU-11111111-aaaa', 0, 'live', 'lp-gpu-node-1', 'p5.48xlarge', T + 1000],
      ['gpu-node-1', 'GPU-22222222-bbbb', 1, 'live', 'lp-gpu-node-1', 'p5.48xlarge', T],
      ['trn-node-1', 'i-0abc-neuron0', 0, 'live', 'lp-trn-node-1', null, T],
    ]);
    // Inventory figures come from the points that carry them.
    expect(body.chips[0]).toMatchObject({ memTotalBytes: 85520809984, ratedPowerW: 700, cores: null });
    expect(body.chips[1]).toMatchObject({ memTotalBytes: null, ratedPowerW: null });
    const agents = (await hub.get('/api/v1/agents')).body.agents;
    expect(agents.map((a: any) => [a.agentId, a.connected, a.chips, a.version])).toEqual([
      ['lp-gpu-node-1', true, 2, 'line-protocol'],
      ['lp-trn-node-1', true, 1, 'line-protocol'],
    ]);
  });

  it('takes a host up again after a hub restart without registering it again; a changed host is registered', async () => {
    expect((await write(BODY)).status).toBe(204);
    const lastSeen = async (store: TestHub['store']) => new Map((await store.listChips()).map((c) => [c.chipId, c.lastSeen]));
    const before = await lastSeen(hub.store);
    const dbPath = hub.dbPath;
    await hub.close();
    await new Promise((r) => setTimeout(r, 20));
    const next = await startHub({ port: 0, host: '127.0.0.1', db: dbPath });
    hub = { ...hub, stop: async () => {} } as TestHub; // closed below; its files go with the OS temp dir
    try {
      const agent = next.tokens.create('agent', 'after restart').token;
      const again = async (body: string) =>
        (await fetch(`${next.url}/api/v1/write`, { method: 'POST', body, headers: { 'content-type': 'text/plain', authorization: `Bearer ${agent}` } })).status;
      // Loaded from the store, the chips are offline until their host writes.
      expect(next.fleet.get('GPU-11111111-aaaa')?.status).toBe('offline');
      expect(await again(`${G2} util_pct=4 ${ns(T + 2000)}`)).toBe(204);
      // The host counts as connected again: the chip written is live, the other one stale until written (as for a
      // host registered anew); its registration is not written again.
      expect(next.fleet.get('GPU-22222222-bbbb')?.status).toBe('live');
      expect(next.fleet.get('GPU-11111111-aaaa')?.status).toBe('stale');
      expect(next.fleet.isPushAgent('lp-gpu-node-1')).toBe(true);
      const after = await lastSeen(next.store);
      expect(after.get('GPU-11111111-aaaa')).toBe(before.get('GPU-11111111-aaaa'));
      expect(after.get('GPU-22222222-bbbb')).toBe(before.get('GPU-22222222-bbbb'));
      expect(await next.store.chipSamples('GPU-22222222-bbbb', T + 2000, T + 2000, 10)).toHaveLength(1);
      // A host whose chips changed (a new chip) is registered: written to the store.
      expect(await again(`${N0} util_pct=1 ${ns(T + 2000)}\nchip,host=trn-node-1,chip=i-0abc-neuron1,vendor=aws,model=Trainium2 util_pct=2 ${ns(T + 2000)}`)).toBe(204);
      const changed = await lastSeen(next.store);
      expect(changed.get('i-0abc-neuron0')).toBeGreaterThan(before.get('i-0abc-neuron0')!);
      expect(changed.get('i-0abc-neuron1')).toBeDefined();
      expect(next.fleet.get('i-0abc-neuron1')?.status).toBe('live');
    } finally {
      await next.close();
    }
  });

  it('stores the same points once when they are written twice', async () => {
    expect((await write(BODY)).status).toBe(204);
    expect((await write(BODY)).status).toBe(204);
    expect(await hub.store.countSamples()).toBe(4);
    expect(await hub.store.chipSamples('GPU-11111111-aaaa', 0, Date.now(), 10)).toHaveLength(2);
  });

  it('rejects a request with one bad line among good ones: 400 naming the line, nothing stored', async () => {
    const bad = BODY.split('\n');
    bad.splice(3, 0, `${G2},rack=r7 util_pct=1 ${ns(T)}`);
    const res = await write(bad.join('\n'));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ code: 'bad_request', message: 'line 4: unknown tag "rack"; accepted: host, chip, vendor, model, instance_type', requestId: expect.any(String) });
    const range = await write(`${BODY}\n${G2} power_w=-5`);
    expect(range.body.message).toBe('line 6: field "power_w": -5 is below 0');
    expect(await hub.store.countSamples()).toBe(0);
    expect((await hub.get('/api/v1/chips')).body.chips).toEqual([]);
  });

  it('keeps nothing of a request when the store fails to commit it', async () => {
    const store = hub.store as { insertBatches: (...a: any[]) => Promise<unknown> };
    const real = store.insertBatches;
    store.insertBatches = async () => {
      throw new Error('disk full');
    };
    const res = await write(BODY);
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('internal');
    store.insertBatches = real;
    expect(await hub.store.countSamples()).toBe(0);
    expect((await write(BODY)).status).toBe(204);
    expect(await hub.store.countSamples()).toBe(4);
  });

  it('answers 413 too_large for a body over 16 MiB, by Content-Length and when streamed', async () => {
    const line = `${G2} util_pct=1 ${ns(T)}\n`;
    const big = line.repeat(Math.ceil((MAX_WRITE_BYTES + 1) / line.length));
    const res = await write(big);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: 'too_large', requestId: expect.any(String) });

    const chunk = new TextEncoder().encode(line.repeat(4096));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(ctl) {
        if (sent > MAX_WRITE_BYTES + chunk.length) return ctl.close();
        sent += chunk.length;
        ctl.enqueue(chunk);
      },
    });
    const streamed = await fetch(`http://127.0.0.1:${hub.port}/api/v1/write`, { method: 'POST', body: stream, headers: hub.auth('agent'), duplex: 'half' } as RequestInit).catch((err: Error) => err);
    // The hub answers 413 mid-upload; the client either reads it or sees the socket closed.
    if (!(streamed instanceof Error)) expect(streamed.status).toBe(413);
    expect(await hub.store.countSamples()).toBe(0);
    expect((await hub.get('/healthz')).status).toBe(200);
  });

  it('counts an upload its client abandons mid-body as a refused request (bad_request), stores none of it and goes on', async () => {
    const { connect } = await import('node:net');
    const abandon = () =>
      new Promise<void>((resolve) => {
        const s = connect(hub.port, '127.0.0.1', () => {
          const auth = Object.entries(hub.auth('agent')).map(([k, v]) => `${k}: ${v}\r\n`).join('');
          s.write(`POST /api/v1/write HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 100000\r\n\r\n${G2} util_pct=1 ${ns(T)}\n`);
          setTimeout(() => s.destroy(), 100);
        });
        s.on('error', () => undefined);
        s.on('close', () => resolve());
      });
    await Promise.all([abandon(), abandon(), abandon()]);
    const refused = async () => {
      const text = String((await hub.get('/metrics')).body);
      return Number(/fleetscope_ingest_rejected_total\{way="line_protocol",reason="bad_request"[^}]*\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    for (let i = 0; i < 50 && (await refused()) < 3; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await refused()).toBe(3);
    expect(await hub.store.countSamples()).toBe(0);
    expect((await write(`${G2} util_pct=2 ${ns(T)}`)).status).toBe(204);
    expect(await stored('GPU-22222222-bbbb', T - 1, T + 1)).toEqual([expect.objectContaining({ ts: T, utilPct: 2 })]);
  });

  it('decodes large bodies that arrive in many pieces, several at once, each exactly (multi-byte characters split across pieces)', async () => {
    // ~170 KB per request, sent in 4,099-byte pieces: pieces end inside the 2-byte "ü".
    const body = (host: number) =>
      Array.from({ length: 1000 }, (_, i) => `chip,host=node-${host},chip=GPU-${host}-${i % 8},vendor=nvidia,model=H100-${'ü'.repeat(20)} util_pct=${host},power_w=${i} ${ns(T - 1000 + i)}`).join('\n');
    const pieces = (text: string) => {
      const bytes = new TextEncoder().encode(text);
      return new ReadableStream<Uint8Array>({
        start(ctl) {
          for (let at = 0; at < bytes.length; at += 4099) ctl.enqueue(bytes.slice(at, at + 4099));
          ctl.close();
        },
      });
    };
    const send = (host: number) =>
      fetch(`http://127.0.0.1:${hub.port}/api/v1/write?precision=ns`, { method: 'POST', body: pieces(body(host)), headers: hub.auth('agent'), duplex: 'half' } as RequestInit & { duplex: 'half' });
    const answers = await Promise.all([1, 2, 3].map(send));
    expect(await Promise.all(answers.map(async (r) => [r.status, await r.text()]))).toEqual([[204, ""], [204, ""], [204, ""]]);
    expect(await hub.store.countSamples()).toBe(3000);
    expect((await hub.store.listChips()).filter((c) => c.model === `H100-${'ü'.repeat(20)}`)).toHaveLength(24);
    for (const host of [1, 2, 3]) {
      const got = await hub.store.chipSamples(`GPU-${host}-3`, 0, Date.now(), 1000);
      expect(got).toHaveLength(125);
      expect(got.every((s) => s.utilPct === host)).toBe(true);
      expect(got.map((s) => s.powerW)).toEqual(Array.from({ length: 125 }, (_, k) => 3 + 8 * k));
    }
  });

  it('takes ?precision= and gzip bodies, and explains a bad precision', async () => {
    expect((await write(`${G2} util_pct=7 ${Math.floor(T / 1000)}`, '?precision=s')).status).toBe(204);
    expect((await write(new Blob([gzipSync(`${G2} util_pct=8 ${T + 1}`)]), '?precision=ms', { 'content-encoding': 'gzip' })).status).toBe(204);
    expect((await hub.store.chipSamples('GPU-22222222-bbbb', 0, Date.now(), 10)).map((s) => [s.ts, s.utilPct])).toEqual([
      [Math.floor(T / 1000) * 1000, 7],
      [T + 1, 8],
    ]);
    const res = await write(`${G2} util_pct=7`, '?precision=h');
    expect(res).toMatchObject({ status: 400, body: { code: 'bad_request', message: 'precision must be one of ns, us, ms, s, got "h"' } });
  });
});
