import { describe, expect, it } from 'vitest';
import type { ChipView } from '../../schema/protocol.ts';
import { LiveFanout, type LiveSocket } from '../../server/live/live-fanout.ts';
import { sample } from '../helpers/frames.ts';

const T = 1_760_000_000_000;

/** A socket that records what it is sent; `bufferedAmount` is set by the test. */
class FakeSocket implements LiveSocket {
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: Buffer[] = [];
  send(data: Buffer, opts: { binary: boolean }): void {
    expect(opts.binary).toBe(false);
    this.sent.push(data);
  }
  get frames(): any[] {
    return this.sent.map((b) => JSON.parse(b.toString()));
  }
  types(): string[] {
    return this.frames.map((f) => f.type);
  }
}

const tick = () => new Promise((r) => setImmediate(r));
const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
};

function setup(opts = {}) {
  const snapshots = { n: 0 };
  const fanout = new LiveFanout(() => {
    snapshots.n++;
    return [] as ChipView[];
  }, opts);
  const socket = (subs: { fleet?: boolean; firehose?: boolean; chips?: string[] }) => {
    const ws = new FakeSocket();
    fanout.add(ws);
    if (subs.fleet) fanout.setFleet(ws, true);
    if (subs.firehose) fanout.setFirehose(ws, true);
    for (const c of subs.chips ?? []) fanout.setChip(ws, c, true);
    ws.sent.length = 0;
    return ws;
  };
  /** Resolves after the next flush (pacing may put it on a timer rather than the next tick). */
  const flushed = async () => {
    const n = fanout.stats.flushes;
    await until(() => fanout.stats.flushes > n);
  };
  return { fanout, socket, snapshots, flushed };
}

describe('LiveFanout', () => {
  it('coalesces every batch published in one tick into one frame per topic, the same buffer for all', async () => {
    const { fanout, socket } = setup();
    const fleet = [socket({ fleet: true }), socket({ fleet: true })];
    const hose = [socket({ firehose: true }), socket({ firehose: true })];
    const chipA = [socket({ chips: ['a'] }), socket({ chips: ['a'], fleet: true })];
    const idle = socket({});
    for (let i = 0; i < 10; i++) fanout.publishSamples([sample('a', T + i), sample('b', T + i)]);
    expect(fleet[0].sent).toHaveLength(0); // queued until the tick
    await tick();
    expect(fanout.stats.flushes).toBe(1);
    for (const ws of fleet) expect(ws.types()).toEqual(['fleet-update']);
    expect(fleet[0].sent[0]).toBe(fleet[1].sent[0]);
    expect(fleet[0].frames[0]).toMatchObject({ chipIds: ['a', 'b'], ts: [T + 9, T + 9] });
    expect(typeof fleet[0].frames[0].sentAt).toBe('number');
    for (const ws of hose) expect(ws.types()).toEqual(['samples']);
    expect(hose[0].sent[0]).toBe(hose[1].sent[0]);
    expect(hose[0].frames[0].samples).toHaveLength(20);
    expect(chipA[0].types()).toEqual(['samples']);
    expect(chipA[0].frames[0].samples.map((s: any) => [s.chipId, s.ts])).toEqual(Array.from({ length: 10 }, (_, i) => ['a', T + i]));
    expect(chipA[1].types()).toEqual(['samples', 'fleet-update']); // chip first: the detail view sees the full sample first
    expect(chipA[1].sent[0]).toBe(chipA[0].sent[0]);
    expect(idle.sent).toHaveLength(0);
  });

  it('splits a big firehose tick into frames of at most maxFrameSamples', async () => {
    const { fanout, socket } = setup({ maxFrameSamples: 3 });
    const ws = socket({ firehose: true, chips: ['a'] });
    fanout.publishSamples(Array.from({ length: 7 }, (_, i) => sample('a', T + i)));
    await tick();
    expect(ws.frames.map((f) => f.samples.length)).toEqual([3, 3, 1]); // no separate chip frame
  });

  it('coalesces status changes into the tick after the fleet-update; inventory goes at once', async () => {
    const { fanout, socket, flushed } = setup();
    const ws = socket({ fleet: true });
    const hose = socket({ firehose: true });
    fanout.publishSamples([sample('a', T)]);
    fanout.publishStatus([{ chipId: 'b', status: 'live' }, { chipId: 'c', status: 'stale' }]);
    fanout.publishStatus([]);
    fanout.publishInventory([]);
    fanout.publishInventory([{ chipId: 'd' } as ChipView]);
    fanout.publishStatus([{ chipId: 'b', status: 'stale' }]);
    fanout.publishSamples([sample('b', T)]);
    expect(ws.types()).toEqual(['inventory']);
    await tick();
    expect(ws.types()).toEqual(['inventory', 'fleet-update', 'status']);
    expect(ws.frames[1].chipIds).toEqual(['a', 'b']);
    expect(ws.frames[2].changes).toEqual([{ chipId: 'c', status: 'stale' }, { chipId: 'b', status: 'stale' }]);
    expect(hose.types()).toEqual(['samples']);
    fanout.publishStatus([{ chipId: 'a', status: 'offline' }]);
    await flushed();
    expect(ws.types()).toEqual(['inventory', 'fleet-update', 'status', 'status']);
  });

  it('a lagging socket skips frames without holding up others, then gets a fresh snapshot', async () => {
    const { fanout, socket, snapshots, flushed } = setup({ highWaterBytes: 1000, lowWaterBytes: 100 });
    const fast = socket({ fleet: true, firehose: true });
    const slow = socket({ fleet: true, firehose: true });
    slow.bufferedAmount = 5000;
    for (let i = 0; i < 5; i++) {
      fanout.publishSamples([sample('a', T + i)]);
      await flushed();
    }
    expect(fast.types()).toEqual(Array(5).fill(['fleet-update', 'samples']).flat());
    expect(slow.sent).toHaveLength(0);
    expect(fanout.stats.skipped).toBe(10);
    slow.bufferedAmount = 500; // below high water but above low water: still lagging
    fanout.publishSamples([sample('a', T + 10)]);
    await flushed();
    expect(slow.sent).toHaveLength(0);
    const before = snapshots.n;
    slow.bufferedAmount = 0; // drained: the lag timer notices without new samples
    await until(() => slow.sent.length > 0);
    expect(slow.types()).toEqual(['fleet-snapshot']);
    expect(snapshots.n).toBe(before + 1);
    fanout.publishSamples([sample('a', T + 20)]);
    await flushed();
    expect(slow.types()).toEqual(['fleet-snapshot', 'fleet-update', 'samples']);
  });

  it('a lagging compact (dashboard) socket catches up with one frame of every chip\'s newest values; after a missed inventory, with a snapshot', async () => {
    const view = (chipId: string, ts: number, utilPct: number): ChipView => ({
      chipId, vendor: 'nvidia', model: 'H100', index: 0, cores: null, memTotalBytes: null, ratedPowerW: 700,
      host: 'h1', instanceType: null, agentId: 'a1', status: 'live', latest: sample(chipId, ts, { utilPct }),
    });
    let fleet = [view('a', T, 1), view('b', T, 1)];
    const fanout = new LiveFanout(() => fleet, { highWaterBytes: 1000, lowWaterBytes: 100 });
    const ws = new FakeSocket();
    fanout.add(ws);
    fanout.setFleet(ws, true, undefined, true);
    const snap = ws.frames[0];
    expect(snap.type).toBe('fleet-snapshot');
    const chipOf = new Map<number, string>(snap.chips.map((c: ChipView, i: number) => [snap.slots[i], c.chipId]));
    ws.sent.length = 0;
    ws.bufferedAmount = 5000;
    for (let i = 1; i <= 5; i++) {
      fleet = [view('a', T + i, 10 + i), view('b', T + i, 20 + i)];
      fanout.publishSamples(fleet.map((c) => c.latest!));
      await until(() => fanout.stats.skipped >= i);
    }
    expect(ws.sent).toHaveLength(0);
    ws.bufferedAmount = 0; // drained: the lag timer notices
    await until(() => ws.sent.length > 0);
    expect(ws.types()).toEqual(['fleet-columns']);
    const f = ws.frames[0];
    const values = Object.fromEntries(f.slot.map((slot: number, i: number) => [chipOf.get(slot), [f.t0 + f.dt[i], f.utilPct[i]]]));
    expect(values).toEqual({ a: [T + 5, 15], b: [T + 5, 25] });

    // Lagging again while a chip joins: the inventory frame is skipped, so a whole snapshot rejoins it.
    ws.sent.length = 0;
    ws.bufferedAmount = 5000;
    const skipped = fanout.stats.skipped;
    fanout.publishSamples([sample('a', T + 6, { utilPct: 16 })]);
    await until(() => fanout.stats.skipped > skipped);
    fleet = [...fleet, view('c', T + 6, 1)];
    fanout.publishInventory([fleet[2]]);
    ws.bufferedAmount = 0;
    await until(() => ws.sent.length > 0);
    expect(ws.types()).toEqual(['fleet-snapshot']);
    expect(ws.frames[0].chips.map((c: ChipView) => c.chipId)).toEqual(['a', 'b', 'c']);
  });

  it('sends a long tick in slices, lets other work run in between, and keeps ticks in order', async () => {
    const { fanout, socket } = setup();
    const slow = Array.from({ length: 20 }, () => {
      const ws = socket({ fleet: true });
      const send = ws.send.bind(ws);
      ws.send = (data, opts) => {
        const until = performance.now() + 1; // 1 ms per send: a 20 ms tick
        while (performance.now() < until);
        send(data, opts);
      };
      return ws;
    });
    let ranBetween = false;
    fanout.publishSamples([sample('a', T)]);
    setImmediate(() => {
      ranBetween = slow.at(-1)!.sent.length === 0;
      fanout.publishSamples([sample('a', T + 1)]); // queued while the first tick is still sending
    });
    await until(() => slow.every((ws) => ws.sent.length === 2));
    expect(ranBetween).toBe(true);
    for (const ws of slow) expect(ws.frames.map((f) => f.ts[0])).toEqual([T, T + 1]);
  });

  it('forgets closed and removed sockets, and chip unsubscribes', async () => {
    const { fanout, socket } = setup();
    const a = socket({ chips: ['a', 'b'] });
    const closed = socket({ fleet: true });
    closed.readyState = 3;
    fanout.setChip(a, 'a', false);
    fanout.publishSamples([sample('a', T), sample('b', T)]);
    await tick();
    expect(a.frames.map((f) => f.samples.map((s: any) => s.chipId))).toEqual([['b']]);
    expect(closed.sent).toHaveLength(0);
    fanout.remove(a);
    fanout.remove(closed);
    expect(fanout.size).toBe(0);
    fanout.publishSamples([sample('b', T + 1)]);
    await tick();
    expect(a.sent).toHaveLength(1);
  });
});

describe('alert transitions', () => {
  const event = (chipId: string, from: string, to: string, at: number) => ({
    ruleId: 'r', chipId, from, to, at, value: 1, severity: 'warning', labels: { chip: chipId }, annotations: {}, fingerprint: chipId, startsAt: at, endsAt: null,
  }) as any;

  it('published within the window travel in one frame, in order, to every alerts subscriber and no one else', async () => {
    const fanout = new LiveFanout(() => [], { alertCoalesceMs: 40 });
    const subscriber = new FakeSocket();
    const other = new FakeSocket();
    fanout.add(subscriber);
    fanout.add(other);
    fanout.setAlerts(subscriber, true);
    fanout.publishAlerts([event('a', 'inactive', 'pending', T)]);
    fanout.publishAlerts([event('b', 'inactive', 'pending', T + 1), event('a', 'pending', 'inactive', T + 2)]);
    fanout.publishAlerts([event('a', 'inactive', 'pending', T + 3)]);
    expect(subscriber.sent).toEqual([]);
    await until(() => subscriber.sent.length > 0);
    expect(subscriber.types()).toEqual(['alert']);
    expect(subscriber.frames[0].events.map((e: any) => `${e.chipId}:${e.from}>${e.to}`)).toEqual(['a:inactive>pending', 'b:inactive>pending', 'a:pending>inactive', 'a:inactive>pending']);
    expect(other.sent).toEqual([]);
    // The next window starts with the next transition.
    fanout.publishAlerts([event('b', 'pending', 'firing', T + 4)]);
    await until(() => subscriber.sent.length === 2);
    expect(subscriber.frames[1].events.map((e: any) => e.to)).toEqual(['firing']);
  });
});

describe('LiveFanout with a live bus: tap and watcher', () => {
  function recorded() {
    const { fanout, socket, flushed } = setup();
    const seen: string[] = [];
    fanout.tap = {
      samples: (b) => seen.push(`samples ${b.map((s) => s.chipId).join(',')}`),
      status: (c) => seen.push(`status ${c.map((x) => `${x.chipId}=${x.status}`).join(',')}`),
      inventory: (c) => seen.push(`inventory ${c.map((x) => x.chipId).join(',')}`),
    };
    fanout.watcher = {
      chip: (id, on) => seen.push(`watch ${id} ${on}`),
      firehose: (on) => seen.push(`firehose ${on}`),
      alerts: (on) => seen.push(`alerts ${on}`),
    };
    return { fanout, socket, flushed, seen };
  }

  it.each([
    ['first viewer of a chip, then a second, then both leave', (f: LiveFanout, a: FakeSocket, b: FakeSocket) => {
      f.setChip(a, 'x', true);
      f.setChip(b, 'x', true);
      f.setChip(a, 'x', false);
      f.remove(b);
    }, ['watch x true', 'watch x false']],
    ['a socket closing drops its chips, firehose and alerts', (f: LiveFanout, a: FakeSocket) => {
      f.setChip(a, 'x', true);
      f.setChip(a, 'y', true);
      f.setFirehose(a, true);
      f.setAlerts(a, true);
      f.remove(a);
    }, ['watch x true', 'watch y true', 'firehose true', 'alerts true', 'watch x false', 'watch y false', 'firehose false', 'alerts false']],
    ['firehose and alerts count subscribers, repeats change nothing', (f: LiveFanout, a: FakeSocket, b: FakeSocket) => {
      f.setFirehose(a, true);
      f.setFirehose(a, true);
      f.setFirehose(b, true);
      f.setFirehose(a, false);
      f.setAlerts(b, true);
      f.setFirehose(b, false);
      f.setAlerts(b, false);
      f.setAlerts(b, false);
    }, ['firehose true', 'alerts true', 'firehose false', 'alerts false']],
    ['unsubscribing a chip never watched says nothing', (f: LiveFanout, a: FakeSocket) => {
      f.setChip(a, 'x', false);
    }, []],
  ] as const)('watcher: %s', (_name, run, want) => {
    const { fanout, socket, seen } = recorded();
    const a = socket({});
    const b = socket({});
    run(fanout, a, b);
    expect(seen).toEqual(want);
  });

  it("the tap sees this hub's own changes (even with no viewers), not those from other hubs", () => {
    const { fanout, seen } = recorded();
    const view = { chipId: 'c' } as ChipView;
    fanout.publishSamples([sample('a', T)]);
    fanout.publishStatus([{ chipId: 'a', status: 'live' }]);
    fanout.publishInventory([view]);
    fanout.publishSamples([sample('r', T)], 'remote');
    fanout.publishStatus([{ chipId: 'r', status: 'live' }], 'remote');
    fanout.publishInventory([{ ...view, chipId: 'r' }], 'remote');
    expect(seen).toEqual(['samples a', 'status a=live', 'inventory c']);
  });

  it("other hubs' samples reach chip viewers and the firehose; their summaries' newest values reach fleet frames only", async () => {
    const { fanout, socket, flushed } = recorded();
    const fleet = socket({ fleet: true });
    const hose = socket({ firehose: true });
    const chip = socket({ chips: ['r1'] });
    fanout.publishSamples([sample('r1', T)], 'remote');
    fanout.publishFleetLatest([sample('r2', T, { utilPct: 7 })]);
    await flushed();
    expect(chip.frames.map((f) => [f.type, f.samples.map((s: any) => s.chipId)])).toEqual([['samples', ['r1']]]);
    expect(hose.frames.map((f) => [f.type, f.samples.map((s: any) => s.chipId)])).toEqual([['samples', ['r1']]]);
    expect(fleet.frames.map((f) => [f.type, f.chipIds, f.utilPct])).toEqual([['fleet-update', ['r1', 'r2'], [50, 7]]]);
    // A tick of summary values alone.
    fanout.publishFleetLatest([sample('r2', T + 1, { utilPct: 8 })]);
    await flushed();
    expect(fleet.frames.at(-1)).toMatchObject({ type: 'fleet-update', chipIds: ['r2'], utilPct: [8] });
    expect(chip.frames).toHaveLength(1);
    expect(hose.frames).toHaveLength(1);
  });
});
