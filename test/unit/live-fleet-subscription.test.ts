/** Filtered and compact fleet subscriptions: the filter core, the compact frame, and what the fan-out sends each subscriber. */
import { describe, expect, it } from 'vitest';
import type { ChipView } from '../../schema/protocol.ts';
import { liveClientMessageSchema } from '../../schema/protocol.ts';
import { fleetSub } from '../../server/live/fleet-subscription.ts';
import { encodeFleetUpdate, encode, fleetColumns } from '../../server/live/live-frames.ts';
import { LiveFanout, type LiveSocket } from '../../server/live/live-fanout.ts';
import { sample } from '../helpers/frames.ts';
import { applyFleetColumns } from '../../client/src/fleet-update.ts';
import { minFlushIntervalMs } from '../../client/src/fleet-controller.ts';
import { syntheticFleet } from '../helpers/synthetic-fleet.ts';

const T = 1_760_000_000_000;

class FakeSocket implements LiveSocket {
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: Buffer[] = [];
  send(data: Buffer): void {
    this.sent.push(data);
  }
  get frames(): any[] {
    return this.sent.map((b) => JSON.parse(b.toString()));
  }
}

const view = (chipId: string, host: string, vendor: 'nvidia' | 'aws', model: string, instanceType: string | null): ChipView => ({
  chipId, vendor, model, index: 0, cores: null, memTotalBytes: 8e10, ratedPowerW: 700, host, instanceType, agentId: host, status: 'live', latest: null,
});
const FLEET = [view('g1', 'p5-1', 'nvidia', 'H100', 'p5.48xlarge'), view('g2', 'p5-2', 'nvidia', 'H100', 'p5.48xlarge'), view('n1', 'trn2-1', 'aws', 'Trainium2', 'trn2.48xlarge')];

describe('fleet subscription filter', () => {
  it.each([
    [undefined, ['g1', 'g2', 'n1']],
    [{}, ['g1', 'g2', 'n1']],
    [{ vendor: ['aws'] }, ['n1']],
    [{ model: ['H100', 'B200'] }, ['g1', 'g2']],
    [{ instanceType: ['trn2.48xlarge'] }, ['n1']],
    [{ host: 'P5-2' }, ['g2']],
    [{ vendor: ['nvidia'], host: '-1' }, ['g1']],
    [{ vendor: [] as string[], host: '  ' }, ['g1', 'g2', 'n1']],
  ])('%j', (filter, ids) => {
    const s = fleetSub(filter, false);
    expect(FLEET.filter((c) => !s.match || s.match(c)).map((c) => c.chipId)).toEqual(ids);
  });

  it('equal filters share a key; forms and filters differ', () => {
    expect(fleetSub({ vendor: ['b', 'a'] }, true).key).toBe(fleetSub({ vendor: ['a', 'b', 'a'] }, true).key);
    expect(fleetSub({ vendor: ['a'] }, true).key).not.toBe(fleetSub({ vendor: ['a'] }, false).key);
    expect(fleetSub(undefined, false).key).toBe('u');
    expect(fleetSub({}, true).key).toBe('c');
  });

  it('the subscribe frame takes a filter and compact, and refuses anything else', () => {
    const ok = { v: 1, type: 'subscribe', sub: { topic: 'fleet', filter: { vendor: ['aws'], host: 'trn' }, compact: true } };
    expect(liveClientMessageSchema.safeParse(ok).success).toBe(true);
    expect(liveClientMessageSchema.safeParse({ v: 1, type: 'subscribe', sub: { topic: 'fleet' } }).success).toBe(true);
    expect(liveClientMessageSchema.safeParse({ ...ok, sub: { ...ok.sub, compact: false } }).success).toBe(false);
    expect(liveClientMessageSchema.safeParse({ ...ok, sub: { ...ok.sub, filter: { rack: 'x' } } }).success).toBe(false);
  });
});

describe('fleet-columns frame', () => {
  it('carries each chip once by slot, times as offsets, values rounded', () => {
    const slots = new Map([['a', 4], ['b', 7]]);
    const m = fleetColumns(
      [sample('a', T + 5, { utilPct: 12.345, powerW: 400.26, tempC: null, memUsedBytes: 3 * 2 ** 20 + 10 }), sample('b', T, { flags: { powerEstimated: true } }), sample('a', T + 9, { utilPct: 50 }), sample('zz', T)],
      T + 100,
      (id) => slots.get(id),
    );
    expect(m).toEqual({
      v: 1, type: 'fleet-columns', sentAt: T + 100, t0: T,
      slot: [4, 7], dt: [9, 0], utilPct: [50, 50], powerW: [400.3, 400.3], tempC: [55, 55], memUsedMiB: [954, 954], flags: [0, 1],
    });
    expect(fleetColumns([], T, () => 0)).toMatchObject({ slot: [], t0: 0 });
  });

  it('is under half the bytes of fleet-update for 10,000 chips', () => {
    const samples = syntheticFleet(10_000).map((c, i) => ({ ...c.latest!, chipId: `GPU-${String(i).padStart(8, '0')}-aaaa-bbbb-cccc-dddddddddddd`, powerW: c.latest!.powerW! + 0.123 }));
    const plain = encodeFleetUpdate(samples, T).length;
    const compact = encode(fleetColumns(samples, T, (id) => Number(id.slice(4, 12)))).length;
    expect(compact).toBeLessThan(plain / 2);
    expect(compact / samples.length).toBeLessThan(40);
  });
});

describe('LiveFanout with filtered and compact fleet subscriptions', () => {
  async function setup() {
    const fanout = new LiveFanout(() => FLEET);
    const open = (filter?: object, compact = false) => {
      const ws = new FakeSocket();
      fanout.add(ws);
      fanout.setFleet(ws, true, filter, compact);
      return ws;
    };
    const flushed = async () => {
      const n = fanout.stats.flushes;
      for (let i = 0; i < 200 && fanout.stats.flushes === n; i++) await new Promise((r) => setTimeout(r, 5));
    };
    return { fanout, open, flushed };
  }

  it('sends each subscriber only its chips: snapshot, updates, status, inventory; compact ones by slot', async () => {
    const { fanout, open, flushed } = await setup();
    const all = open();
    const aws = open({ vendor: ['aws'] });
    const aws2 = open({ vendor: ['aws'] });
    const p5c = open({ host: 'p5-' }, true);
    expect(all.frames[0].chips.map((c: ChipView) => c.chipId)).toEqual(['g1', 'g2', 'n1']);
    expect(all.frames[0].slots).toBeUndefined();
    expect(aws.frames[0].chips.map((c: ChipView) => c.chipId)).toEqual(['n1']);
    expect(p5c.frames[0].chips.map((c: ChipView) => c.chipId)).toEqual(['g1', 'g2']);
    const [s1, s2] = p5c.frames[0].slots;
    expect(s1).not.toBe(s2);

    fanout.publishSamples([sample('g1', T, { utilPct: 10 }), sample('n1', T, { utilPct: 20 })]);
    fanout.publishStatus([{ chipId: 'g2', status: 'stale' }]);
    await flushed();
    expect(all.frames.slice(1).map((f) => f.type)).toEqual(['fleet-update', 'status']);
    expect(all.frames[1].chipIds).toEqual(['g1', 'n1']);
    expect(aws.frames.slice(1).map((f) => [f.type, f.chipIds])).toEqual([['fleet-update', ['n1']]]);
    expect(aws2.sent[1]).toBe(aws.sent[1]); // one buffer per distinct subscription
    expect(p5c.frames.slice(1).map((f) => f.type)).toEqual(['fleet-columns', 'status']);
    expect(p5c.frames[1]).toMatchObject({ slot: [s1], utilPct: [10] });
    expect(p5c.frames[2].changes).toEqual([{ chipId: 'g2', status: 'stale' }]);

    // A new chip's inventory goes only to subscribers whose filter it passes (with its slot to compact ones).
    const g3 = view('g3', 'p5-3', 'nvidia', 'H100', 'p5.48xlarge');
    fanout.publishInventory([g3]);
    expect(all.frames.at(-1)).toMatchObject({ type: 'inventory', chips: [{ chipId: 'g3' }] });
    expect(aws.frames.at(-1).type).toBe('fleet-update');
    expect(p5c.frames.at(-1)).toMatchObject({ type: 'inventory', chips: [{ chipId: 'g3' }], slots: [expect.any(Number)] });

    // Subscribing again with another filter replaces the filter and sends that snapshot.
    fanout.setFleet(aws, true, { vendor: ['nvidia'] });
    expect(aws.frames.at(-1).chips.map((c: ChipView) => c.chipId)).toEqual(['g1', 'g2']);
  });
});

describe('the page applying compact frames', () => {
  it('maps slots to chips, keeps the newer sample, restores bytes and the limits', () => {
    const g1 = { ...FLEET[0], latest: { ...sample('g1', T), powerLimitW: 650, memTotalBytes: 9e10 } };
    const chips = new Map<string, ChipView>([['g1', g1], ['n1', FLEET[2]]]);
    const msg = fleetColumns([sample('g1', T + 1000, { utilPct: 70, memUsedBytes: 2 * 2 ** 30, flags: { powerEstimated: true } }), sample('n1', T + 5), sample('zz', T)], T + 2000, (id) => ({ g1: 3, n1: 0, zz: 9 })[id]);
    expect(applyFleetColumns(chips, ['n1', undefined, undefined, 'g1'], msg)).toBe(2);
    expect(chips.get('g1')!.latest).toMatchObject({ ts: T + 1000, utilPct: 70, memUsedBytes: 2 * 2 ** 30, powerLimitW: 650, memTotalBytes: 9e10, flags: { powerEstimated: true } });
    expect(chips.get('n1')!.latest).toMatchObject({ ts: T + 5, memTotalBytes: null });
    expect(applyFleetColumns(chips, ['n1', undefined, undefined, 'g1'], msg)).toBe(0); // not newer: kept
  });

  it.each([
    [24, 2.4],
    [1_000, 100],
    [10_000, 1000],
    [50_000, 1000],
  ])('a fleet of %s chips updates the view at most every %s ms', (n, ms) => expect(minFlushIntervalMs(n)).toBe(ms));
});
