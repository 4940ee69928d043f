/**
 * agents/hub-link.ts against a fake hub: a real `ws` WebSocketServer on port 0 speaking the
 * protocol of schema/protocol.ts (hello -> welcome, batch -> ack or error), with a real on-disk
 * Spool. Every frame the link sends is checked against the protocol schema.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { HubLink, type HubLinkOptions } from '../../agents/hub-link.ts';
import { Spool } from '../../agents/spool.ts';
import { silentLogger } from '../../common/logger.ts';
import type { BackoffPolicy } from '../../schema/backoff.ts';
import { agentMessageSchema, type BatchMessage, type HubToAgentMessage } from '../../schema/protocol.ts';
import { freePort } from '../../bench/support/free-port.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';
import { chipInfo, hello, sample } from '../helpers/frames.ts';
import { BINARY_BATCH_FEATURE, decodeBatchFrame } from '../../schema/batch-frame.ts';

const BACKOFF: BackoffPolicy = { initialMs: 20, maxMs: 100, factor: 2, jitter: 'equal' };
const CHIP = chipInfo(0).chipId;
const T = Date.now() - 60_000;

/** One agent connection as the fake hub saw it. */
class Conn {
  readonly frames: any[] = [];
  /** How each frame came: JSON text or a binary batch frame. */
  readonly encodings: ('json' | 'binary')[] = [];
  closeCode: number | null = null;
  constructor(
    readonly ws: WebSocket,
    readonly path: string,
    readonly headers: IncomingHttpHeaders,
  ) {}
  get batches(): BatchMessage[] {
    return this.frames.filter((f) => f.type === 'batch');
  }
  get seqs(): number[] {
    return this.batches.map((b) => b.seq);
  }
  reply(m: HubToAgentMessage): void {
    this.ws.send(JSON.stringify(m));
  }
  ack(seq: number, stored = 1): void {
    this.reply({ v: 1, type: 'ack', seq, stored });
  }
}

/** A hub that welcomes every hello and answers batches through `onBatch` (default: ack at once). */
class FakeHub {
  readonly conns: Conn[] = [];
  /** Frames that did not match the protocol schema (must stay empty). */
  readonly invalid: unknown[] = [];
  onBatch: (conn: Conn, msg: BatchMessage) => void = (conn, msg) => conn.ack(msg.seq, msg.samples.length);
  /** What `welcome` lists (none: a hub that predates the features). */
  features: string[] | undefined = undefined;

  private constructor(readonly wss: WebSocketServer) {
    wss.on('connection', (ws, req) => {
      const conn = new Conn(ws, req.url ?? '', req.headers);
      this.conns.push(conn);
      ws.on('close', (code) => (conn.closeCode = code));
      ws.on('message', (data, isBinary) => {
        let frame;
        if (isBinary) {
          const dec = decodeBatchFrame(data as Buffer);
          frame = dec.ok ? dec.rec : { undecodable: dec.message };
        } else frame = JSON.parse(data.toString());
        if (!agentMessageSchema.safeParse(frame).success) this.invalid.push(frame);
        conn.frames.push(frame);
        conn.encodings.push(isBinary ? 'binary' : 'json');
        if (frame.type === 'hello') conn.reply({ v: 1, type: 'welcome', hubVersion: 'fake', maxBatchSamples: 10_000, ...(this.features ? { features: this.features } : {}) });
        else if (frame.type === 'batch') this.onBatch(conn, frame);
      });
    });
  }

  static async start(port = 0): Promise<FakeHub> {
    const wss = new WebSocketServer({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    return new FakeHub(wss);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }
  get last(): Conn {
    return this.conns[this.conns.length - 1];
  }
  /** Every batch seq received, over all connections, in arrival order. */
  get allSeqs(): number[] {
    return this.conns.flatMap((c) => c.seqs);
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let tmp: ReturnType<typeof tempDir>;
let spool: Spool;
let hubs: FakeHub[];
let link: HubLink | null;
let acks: [number, number][];
let rejects: [number, string, string][];

beforeEach(() => {
  tmp = tempDir();
  spool = new Spool({ dir: tmp.dir, maxBytes: 10 * 1024 * 1024, maxBatches: 1000, segmentBatches: 4, log: silentLogger });
  hubs = [];
  link = null;
  acks = [];
  rejects = [];
});
afterEach(async () => {
  await link?.stop();
  for (const h of hubs) await h.close();
  spool.close();
  tmp.cleanup();
});

async function startHub(port = 0): Promise<FakeHub> {
  const h = await FakeHub.start(port);
  hubs.push(h);
  return h;
}

/** Appends `n` one-sample batches produced `ageMs` ago; returns their seqs. */
function put(n: number, ageMs = 0): number[] {
  return Array.from({ length: n }, () => {
    const seq = spool.nextSeq;
    return spool.append([sample(CHIP, T + seq * 1000)], Date.now() - ageMs).seq;
  });
}

function startLink(urls: string[], over: Partial<HubLinkOptions> = {}): HubLink {
  link = new HubLink({
    hubs: urls,
    hello: hello('agent-a', [chipInfo(0)]),
    spool,
    log: silentLogger,
    backoff: BACKOFF,
    onAck: (seq, stored) => acks.push([seq, stored]),
    onReject: (seq, code, message) => rejects.push([seq, code, message]),
    ...over,
  });
  link.start();
  return link;
}

describe('HubLink', () => {
  it('says hello first on /ws/agent with the token, sends spooled batches in order, removes each on ack', async () => {
    const hub = await startHub();
    put(6);
    const l = startLink([hub.url], { token: 's3cret' });
    await until('all acknowledged', () => spool.pendingBatches === 0);
    expect(l.connected).toBe(true);
    expect(hub.conns).toHaveLength(1);
    const c = hub.last;
    expect(c.path).toBe('/ws/agent');
    expect(c.headers.authorization).toBe('Bearer s3cret');
    expect(c.frames[0]).toEqual(hello('agent-a', [chipInfo(0)]));
    expect(c.seqs).toEqual([0, 1, 2, 3, 4, 5]);
    expect(c.batches[2].samples).toEqual([sample(CHIP, T + 2000)]);
    expect(acks).toEqual([0, 1, 2, 3, 4, 5].map((s) => [s, 1]));
    for (let s = 0; s < 6; s++) expect(spool.isAcked(s)).toBe(true);
    expect(spool.unackedAfter(-1, 100)).toEqual([]);

    // New batches go out on flush(), after the ones already sent.
    put(2);
    l.flush();
    await until('new batches acknowledged', () => spool.pendingBatches === 0);
    expect(c.seqs).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(hub.invalid).toEqual([]);
  });

  it('sends batches as binary frames to a hub that offers them, as JSON to one that does not or when told to', async () => {
    const offering = await startHub();
    offering.features = ['work', BINARY_BATCH_FEATURE];
    const older = await startHub();
    const report = () => ({ health: [{ kind: 'sim-nvml', state: 'ok' as const, restarts: 0, parseErrors: 0, lastError: null }], dropped: { batches: 0, samples: 0 } });
    const runs: [FakeHub, Partial<HubLinkOptions>][] = [[offering, {}], [older, {}], [offering, { frames: 'json' }]];
    const seen = [];
    for (const [hub, over] of runs) {
      const seqs = put(3);
      const l = startLink([hub.url], { report, ...over });
      await until('all acknowledged', () => spool.pendingBatches === 0);
      const c = hub.last;
      seen.push(c.encodings.join(','));
      expect(c.batches.map((b) => [b.seq, b.samples, b.health, b.dropped])).toEqual(seqs.map((q) => [q, [sample(CHIP, T + q * 1000)], report().health, report().dropped]));
      await l.stop();
      link = null;
    }
    expect(seen).toEqual(['json,binary,binary,binary', 'json,json,json,json', 'json,json,json,json']);
    expect(offering.invalid).toEqual([]);
  });

  it('keeps a batch in the spool until it is acknowledged, whatever the order of acks', async () => {
    const hub = await startHub();
    hub.onBatch = () => {};
    put(3);
    startLink([hub.url]);
    await until('three batches received', () => hub.last?.seqs.length === 3);
    await sleep(30);
    expect(spool.pendingBatches).toBe(3);
    expect(acks).toEqual([]);
    hub.last.ack(2, 7);
    await until('ack of 2', () => acks.length === 1);
    expect(acks).toEqual([[2, 7]]);
    expect(spool.isAcked(2)).toBe(true);
    expect(spool.unackedAfter(-1, 10).map((r) => r.seq)).toEqual([0, 1]);
    // A duplicate ack is not reported twice.
    hub.last.ack(2);
    hub.last.ack(0);
    await until('ack of 0', () => spool.isAcked(0));
    await sleep(20);
    expect(acks).toEqual([[2, 7], [0, 1]]);
    expect(spool.pendingBatches).toBe(1);
  });

  it('resends the unacknowledged batches (and only those) after the hub drops the connection', async () => {
    const hub = await startHub();
    hub.onBatch = () => {};
    put(4);
    const l = startLink([hub.url]);
    await until('four batches received', () => hub.last?.seqs.length === 4);
    const first = hub.last;
    first.ack(0);
    first.ack(2);
    await until('acks of 0 and 2', () => acks.length === 2);
    hub.onBatch = (conn, msg) => conn.ack(msg.seq, msg.samples.length);
    first.ws.terminate();

    await until('reconnected and drained', () => hub.conns.length === 2 && spool.pendingBatches === 0);
    const second = hub.last;
    expect(second.frames[0].type).toBe('hello');
    expect(second.seqs).toEqual([1, 3]);
    expect(acks.map(([s]) => s)).toEqual([0, 2, 1, 3]);
    expect(l.connected).toBe(true);
    expect(hub.invalid).toEqual([]);
  });

  it('keeps reconnecting with backoff while the hub is down, then delivers everything', async () => {
    const hub = await startHub();
    const port = Number(new URL(hub.url).port);
    put(2);
    startLink([hub.url]);
    await until('first two acknowledged', () => spool.pendingBatches === 0);
    await hub.close();
    hubs = [];
    put(3);
    await sleep(150); // several failed attempts (20..100 ms apart)
    expect(link!.connected).toBe(false);
    const back = await startHub(port);
    await until('delivered after the hub came back', () => spool.pendingBatches === 0);
    expect(back.allSeqs).toEqual([2, 3, 4]);
    expect(back.last.frames[0].type).toBe('hello');
  });

  it('rotates to the second hub URL when the first is down', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const hub = await startHub();
    put(3);
    const l = startLink([dead, hub.url]);
    expect(l.currentHub).toBe(dead);
    await until('delivered through the second hub', () => spool.pendingBatches === 0);
    expect(l.currentHub).toBe(hub.url);
    expect(hub.conns).toHaveLength(1);
    expect(hub.last.seqs).toEqual([0, 1, 2]);
  });

  it('moves on to the next hub URL on every reconnect, wrapping around', async () => {
    const a = await startHub();
    const b = await startHub();
    a.onBatch = b.onBatch = () => {};
    put(2);
    const l = startLink([a.url, b.url]);
    await until('connected to a', () => a.last?.seqs.length === 2);
    expect(l.currentHub).toBe(a.url);
    a.last.ws.terminate();
    await until('connected to b', () => b.last?.seqs.length === 2);
    expect(l.currentHub).toBe(b.url);
    expect(a.conns).toHaveLength(1);
    b.last.ack(0);
    await until('ack of 0 from b', () => acks.length === 1);
    b.last.ws.terminate();
    await until('back on a', () => a.conns.length === 2 && a.last.seqs.length === 1);
    expect(l.currentHub).toBe(a.url);
    expect(a.last.seqs).toEqual([1]);
    expect(b.conns).toHaveLength(1);
  });

  it('drops a batch the hub rejects for good: onReject, gone from the spool, never resent', async () => {
    const hub = await startHub();
    hub.onBatch = (conn, msg) => {
      if (msg.seq === 1) conn.reply({ v: 1, type: 'error', code: 'out_of_range', message: 'samples[0].utilPct: 140 is above 100', seq: 1 });
      else conn.ack(msg.seq, msg.samples.length);
    };
    put(4);
    const l = startLink([hub.url]);
    await until('all settled', () => spool.pendingBatches === 0);
    expect(rejects).toEqual([[1, 'out_of_range', 'samples[0].utilPct: 140 is above 100']]);
    expect(acks.map(([s]) => s)).toEqual([0, 2, 3]);
    expect(spool.isAcked(1)).toBe(true);
    expect(spool.unackedAfter(-1, 10)).toEqual([]);
    // Still the same connection, and the rejected batch is not sent again later.
    put(1);
    l.flush();
    await until('next batch acknowledged', () => spool.pendingBatches === 0);
    await sleep(30);
    expect(hub.conns).toHaveLength(1);
    expect(hub.allSeqs).toEqual([0, 1, 2, 3, 4]);
    expect(l.connected).toBe(true);
  });

  it.each(['bad_frame', 'unknown_chip', 'bad_json', 'too_large'] as const)('treats %s as a permanent rejection', async (code) => {
    const hub = await startHub();
    hub.onBatch = (conn, msg) => conn.reply({ v: 1, type: 'error', code, message: 'no', seq: msg.seq });
    put(2);
    startLink([hub.url]);
    await until('both rejected', () => rejects.length === 2);
    expect(rejects.map(([s, c]) => [s, c])).toEqual([[0, code], [1, code]]);
    expect(spool.pendingBatches).toBe(0);
    expect(hub.conns).toHaveLength(1);
  });

  it('resends a batch after a transient hub error, on a fresh connection (closed 1011)', async () => {
    const hub = await startHub();
    let failed = false;
    hub.onBatch = (conn, msg) => {
      if (msg.seq === 1 && !failed) {
        failed = true;
        conn.reply({ v: 1, type: 'error', code: 'internal', message: 'could not store the batch', seq: 1 });
      } else conn.ack(msg.seq, msg.samples.length);
    };
    put(3);
    startLink([hub.url]);
    await until('all acknowledged', () => spool.pendingBatches === 0);
    expect(rejects).toEqual([]);
    expect(hub.conns.length).toBe(2);
    await until('first connection closed', () => hub.conns[0].closeCode !== null);
    expect(hub.conns[0].closeCode).toBe(1011);
    expect(hub.conns[1].seqs).toContain(1);
    expect(acks.map(([s]) => s).sort()).toEqual([0, 1, 2]);
  });

  it('backs off while a hub welcomes but cannot store, and starts over once a batch is acknowledged', async () => {
    const hub = await startHub();
    let storing = false;
    hub.onBatch = (conn, msg) => {
      if (storing) conn.ack(msg.seq, msg.samples.length);
      else conn.reply({ v: 1, type: 'error', code: 'internal', message: 'disk full', seq: msg.seq });
    };
    put(1);
    // Delays 20, 40, 80, then 100 ms at most (half to all of each with jitter): in 600 ms a link that
    // started over at every welcome would connect ~30 times (10-20 ms each); backing off, at most 10.
    startLink([hub.url], { backoff: { initialMs: 20, maxMs: 100, factor: 2, jitter: 'none' } });
    await sleep(600);
    const failing = hub.conns.length;
    expect(failing).toBeGreaterThanOrEqual(4);
    expect(failing).toBeLessThanOrEqual(10);
    storing = true;
    await until('delivered', () => spool.pendingBatches === 0);
    expect(rejects).toEqual([]);
  });

  it('ignores an error frame without a seq and a frame that is not JSON', async () => {
    const hub = await startHub();
    hub.onBatch = (conn, msg) => {
      conn.ws.send('not json at all');
      conn.reply({ v: 1, type: 'error', code: 'bad_frame', message: 'something', seq: undefined });
      conn.ack(msg.seq, 1);
    };
    put(2);
    const l = startLink([hub.url]);
    await until('all acknowledged', () => spool.pendingBatches === 0);
    expect(rejects).toEqual([]);
    expect(acks.map(([s]) => s)).toEqual([0, 1]);
    expect(hub.conns).toHaveLength(1);
    expect(l.connected).toBe(true);
  });

  it('keeps at most `window` batches unacknowledged in flight', async () => {
    const hub = await startHub();
    hub.onBatch = () => {};
    put(8);
    const l = startLink([hub.url], { window: 3 });
    await until('three in flight', () => hub.last?.seqs.length === 3);
    await sleep(50);
    l.flush(); // the window is full: nothing more
    await sleep(50);
    const c = hub.last;
    expect(c.seqs).toEqual([0, 1, 2]);
    c.ack(1);
    await until('one more after an ack', () => c.seqs.length === 4);
    await sleep(50);
    expect(c.seqs).toEqual([0, 1, 2, 3]);
    c.ack(0);
    c.ack(2);
    await until('two more', () => c.seqs.length === 6);
    await sleep(50);
    expect(c.seqs).toEqual([0, 1, 2, 3, 4, 5]);
    hub.onBatch = (conn, msg) => conn.ack(msg.seq, 1);
    for (const s of [3, 4, 5]) c.ack(s);
    await until('drained', () => spool.pendingBatches === 0);
    expect(c.seqs).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('a rejection frees a window slot too', async () => {
    const hub = await startHub();
    hub.onBatch = () => {};
    put(3);
    startLink([hub.url], { window: 1 });
    await until('one in flight', () => hub.last?.seqs.length === 1);
    hub.last.reply({ v: 1, type: 'error', code: 'bad_frame', message: 'bad', seq: 0 });
    await until('next sent', () => hub.last.seqs.length === 2);
    await sleep(30);
    expect(hub.last.seqs).toEqual([0, 1]);
  });

  it('marks batches sent later than backfillAfterMs after they were produced as backfill', async () => {
    const hub = await startHub();
    put(1, 10_000); // seq 0: old
    put(1, 0); // seq 1: fresh
    startLink([hub.url]);
    await until('both acknowledged', () => spool.pendingBatches === 0);
    const [old, fresh] = hub.last.batches;
    expect(old).toMatchObject({ seq: 0, backfill: true });
    expect('backfill' in fresh).toBe(false);
    expect(hub.invalid).toEqual([]);
  });

  it('honours backfillAfterMs, and marks a batch resent after an outage as backfill', async () => {
    const hub = await startHub();
    hub.onBatch = () => {};
    put(1, 0);
    startLink([hub.url], { backfillAfterMs: 300 });
    await until('sent once', () => hub.last?.seqs.length === 1);
    expect('backfill' in hub.last.batches[0]).toBe(false);
    await sleep(350);
    hub.onBatch = (conn, msg) => conn.ack(msg.seq, 1);
    hub.last.ws.terminate();
    await until('resent and acknowledged', () => spool.pendingBatches === 0);
    expect(hub.conns).toHaveLength(2);
    expect(hub.last.batches[0]).toMatchObject({ seq: 0, backfill: true });
  });

  it('attaches the report (source health, spool drops) to every batch', async () => {
    const hub = await startHub();
    const health = [{ kind: 'nvidia-smi', state: 'ok' as const, restarts: 0, parseErrors: 0, lastError: null }];
    let dropped = 0;
    put(2);
    startLink([hub.url], { report: () => ({ health, dropped: { batches: dropped++, samples: 0 } }) });
    await until('acknowledged', () => spool.pendingBatches === 0);
    expect(hub.last.batches.map((b) => [b.seq, b.health, b.dropped])).toEqual([
      [0, health, { batches: 0, samples: 0 }],
      [1, health, { batches: 0, samples: 0 }], // one report per flush
    ]);
    expect(hub.invalid).toEqual([]);
  });

  it('sends an inventory update while connected and the new chips in later hellos', async () => {
    const hub = await startHub();
    const l = startLink([hub.url]);
    await until('connected', () => l.connected);
    const chips = [chipInfo(0), chipInfo(1)];
    l.setChips(chips);
    await until('inventory received', () => hub.last.frames.some((f) => f.type === 'inventory'));
    expect(hub.last.frames.find((f) => f.type === 'inventory')).toEqual({ v: 1, type: 'inventory', chips });
    hub.last.ws.terminate();
    await until('reconnected', () => hub.conns.length === 2 && hub.last.frames.length > 0);
    expect(hub.last.frames[0]).toEqual(hello('agent-a', chips));
    expect(hub.invalid).toEqual([]);
  });

  it('stop() closes with 1000 and does not reconnect', async () => {
    const hub = await startHub();
    put(1);
    const l = startLink([hub.url]);
    await until('acknowledged', () => spool.pendingBatches === 0);
    await l.stop();
    await until('closed on the hub', () => hub.last.closeCode !== null);
    expect(hub.last.closeCode).toBe(1000);
    expect(l.connected).toBe(false);
    await sleep(150);
    expect(hub.conns).toHaveLength(1);
  });

  it('stop() while waiting to reconnect cancels the reconnect', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const hub = await startHub();
    const l = startLink([dead, hub.url], { backoff: { ...BACKOFF, initialMs: 200, maxMs: 200 } });
    await sleep(30); // the first attempt failed; the next waits 100..200 ms
    await l.stop();
    await sleep(300);
    expect(hub.conns).toHaveLength(0);
  });
});
