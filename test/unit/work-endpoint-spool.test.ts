/**
 * Work reports on their way from the agent's endpoint to the hub: the spool keeps them with their
 * batch (in memory and on disk, across a restart), segments written before `work` existed still
 * load, and the hub link puts them into the batch frame.
 */
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { Spool, type SpoolOptions } from '../../agents/spool.ts';
import { HubLink } from '../../agents/hub-link.ts';
import { silentLogger } from '../../common/logger.ts';
import { batchSchema } from '../../schema/protocol.ts';
import type { WorkReport } from '../../schema/work.ts';
import { hello, sample } from '../helpers/frames.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';
import { eventually } from '../helpers/ws-client.ts';

const T0 = Date.now() - 10_000;
let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.cleanup());

const opts = (over: Partial<SpoolOptions> = {}): SpoolOptions => ({ dir: tmp.dir, maxBytes: 10 * 1024 * 1024, maxBatches: 100, segmentBatches: 5, log: silentLogger, ...over });
const WORK: WorkReport[] = [
  { ts: T0, job: 'slurm-1', counters: {} , labels: { user: 'ada' } },
  { ts: T0 + 1, job: 'slurm-1', counters: { tokens: 4096, steps: 2 }, chips: ['GPU-x'] },
];

describe('spool with work reports', () => {
  it.each([
    ['on disk', () => opts()],
    ['in memory', () => opts({ dir: null })],
  ])('keeps work with its batch (%s); batches without work have no work field', (_name, mk) => {
    const sp = new Spool(mk());
    sp.append([sample('GPU-x', T0)], T0, WORK);
    sp.append([sample('GPU-x', T0 + 1000)], T0 + 1000);
    sp.append([sample('GPU-x', T0 + 2000)], T0 + 2000, []);
    const recs = sp.unackedAfter(-1, 10);
    expect(recs[0].work).toEqual(WORK);
    expect('work' in recs[1]).toBe(false);
    expect('work' in recs[2]).toBe(false);
    sp.close();
  });

  it('reads work back from disk after a restart, and loads segments written before work existed', () => {
    // A segment as an older agent wrote it: no work field anywhere; then one with work, and a bad one.
    const old = [0, 1].map((seq) => JSON.stringify({ seq, producedAt: T0, samples: [sample('GPU-x', T0 + seq)] }));
    const withWork = JSON.stringify({ seq: 2, producedAt: T0, samples: [sample('GPU-x', T0 + 2)], work: WORK });
    const badWork = JSON.stringify({ seq: 3, producedAt: T0, samples: [sample('GPU-x', T0 + 3)], work: 'nope' });
    writeFileSync(join(tmp.dir, 'seg-000000000000.jsonl'), [...old, withWork, badWork].join('\n') + '\n');
    const sp = new Spool(opts());
    const recs = sp.unackedAfter(-1, 10);
    expect(recs.map((r) => r.seq)).toEqual([0, 1, 2, 3]);
    expect(recs[0].work).toBeUndefined();
    expect(recs[2].work).toEqual(WORK);
    expect(recs[3].work).toBeUndefined();
    expect(recs[3].samples).toHaveLength(1);
    expect(sp.corruptLines).toBe(0);
    sp.append([sample('GPU-x', T0 + 4)], T0, [WORK[1]]);
    sp.close();
    const again = new Spool(opts());
    expect(again.unackedAfter(3, 10)[0].work).toEqual([WORK[1]]);
    again.close();
  });
});

describe('hub link with work reports', () => {
  /** A fake hub acking every batch; `features` in its welcome. Returns the batch frames it got. */
  async function linkTo(features: string[] | undefined): Promise<any[]> {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    const frames: any[] = [];
    wss.on('connection', (ws) => {
      ws.on('message', (d) => {
        const f = JSON.parse(d.toString());
        frames.push(f);
        if (f.type === 'hello') ws.send(JSON.stringify({ v: 1, type: 'welcome', hubVersion: 'fake', maxBatchSamples: 10_000, ...(features ? { features } : {}) }));
        if (f.type === 'batch') ws.send(JSON.stringify({ v: 1, type: 'ack', seq: f.seq, stored: 1 }));
      });
    });
    const spool = new Spool(opts({ dir: null }));
    const chipId = hello().chips[0].chipId;
    spool.append([sample(chipId, T0)], Date.now(), WORK);
    spool.append([sample(chipId, T0 + 1000)], Date.now());
    const link = new HubLink({ hubs: [`http://127.0.0.1:${(wss.address() as AddressInfo).port}`], hello: hello(), spool, log: silentLogger });
    link.start();
    try {
      await eventually(() => spool.pendingBatches === 0, 5000, 'both batches acked');
      return frames.filter((f) => f.type === 'batch');
    } finally {
      await link.stop();
      spool.close();
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
    }
  }

  it("puts a batch's work into its frame, valid by the protocol, for a hub that takes work", async () => {
    const batches = await linkTo(['work']);
    expect(batches).toHaveLength(2);
    expect(batches[0].work).toEqual(WORK);
    expect('work' in batches[1]).toBe(false);
    for (const b of batches) expect(batchSchema.safeParse(b).success).toBe(true);
  });

  it('leaves work out for a hub whose welcome does not list it (an older hub would refuse the batch whole)', async () => {
    const batches = await linkTo(undefined);
    expect(batches).toHaveLength(2);
    for (const b of batches) expect('work' in b).toBe(false);
  });
});
