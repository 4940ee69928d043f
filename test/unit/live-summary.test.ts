/**
 * The `summary` topic (fleetSummary, LiveFanout's summary tick), the `alerts` topic's filter in
 * LiveFanout, the exact filter fields (`hostExact`, `chipId`) and the client's routing of both.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AlertEventAnswer } from '../../schema/api-answers.ts';
import { liveClientMessageSchema, type ChipView, type SummaryMessage } from '../../schema/protocol.ts';
import { fleetSub } from '../../server/live/fleet-subscription.ts';
import { LiveFanout, type LiveSocket } from '../../server/live/live-fanout.ts';
import { fleetSummary } from '../../server/live/live-summary.ts';
import { routeTo, subscriptionKey } from '../../client/src/live-connection.ts';
import { firingCount, worstFiring } from '../../client/src/summary-controller.ts';

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

const view = (chipId: string, host: string, status: ChipView['status'], util: number | null, power: number | null, over: Partial<ChipView> = {}): ChipView => ({
  chipId,
  vendor: 'nvidia',
  model: 'H100',
  index: 0,
  cores: 132,
  memTotalBytes: 8e10,
  ratedPowerW: 700,
  host,
  instanceType: 'p5.48xlarge',
  agentId: host,
  status,
  latest: { ts: 1, chipId, utilPct: util, memUtilPct: null, memUsedBytes: null, memTotalBytes: null, powerW: power, powerLimitW: 700, tempC: null, energyJ: null },
  ...over,
});

const FLEET: ChipView[] = [
  view('g0', 'p5-1', 'live', 90, 600),
  view('g1', 'p5-1', 'live', 1, 100), // idle but powered
  view('g2', 'p5-10', 'live', null, 50), // no utilization
  view('g3', 'p5-10', 'stale', 80, 500), // not live: no power, no utilization
  view('t0', 'trn2-1', 'offline', 0, 0, { vendor: 'aws', model: 'Trainium2', instanceType: 'trn2.48xlarge' }),
  view('t1', 'trn2-1', 'live', 3, 0, { vendor: 'aws', model: 'Trainium2', instanceType: 'trn2.48xlarge' }), // idle, no power: not "powered"
];

describe('fleetSummary', () => {
  it('counts chips by status, live power and utilization, idle but powered, alerts by phase and severity', () => {
    const s = fleetSummary(
      FLEET,
      [
        { phase: 'firing', severity: 'critical' },
        { phase: 'firing', severity: 'info' },
        { phase: 'pending', severity: 'warning' },
        { phase: 'resolved', severity: 'critical' },
      ],
      42,
    );
    expect(s).toEqual({
      v: 1,
      type: 'summary',
      at: 42,
      chips: { total: 6, live: 4, stale: 1, offline: 1 },
      powerW: 750,
      avgUtilPct: (90 + 1 + 3) / 3,
      idlePowered: 1,
      idlePowerW: 100,
      alerts: { firing: { critical: 1, warning: 0, info: 1 }, pending: { critical: 0, warning: 1, info: 0 } },
    } satisfies SummaryMessage);
    expect(worstFiring(s)).toBe('critical');
    expect(firingCount(s)).toBe(2);
    expect(fleetSummary([], [], 0)).toMatchObject({ chips: { total: 0 }, powerW: 0, avgUtilPct: null });
    expect(worstFiring(fleetSummary([], [], 0))).toBeNull();
  });
});

describe('summary topic in LiveFanout', () => {
  afterEach(() => vi.useRealTimers());

  it('computes one summary per tick whatever the number of subscribers, sends the same bytes to each, and stops with the last', () => {
    vi.useFakeTimers();
    const reads = { chips: 0, alerts: 0 };
    const fanout = new LiveFanout(() => FLEET, { summaryMs: 1000 });
    fanout.setSummarySource({
      chips: () => (reads.chips++, FLEET),
      alerts: () => (reads.alerts++, [{ phase: 'firing' as const, severity: 'warning' as const }]),
    });
    const subs = Array.from({ length: 50 }, () => new FakeSocket());
    const other = new FakeSocket();
    fanout.add(other);
    fanout.setFleet(other, true);
    other.sent.length = 0;
    for (const ws of subs) {
      fanout.add(ws);
      fanout.setSummary(ws, true);
    }
    // Each got the newest summary at once: computed for the first, reused by the others.
    expect(fanout.stats.summaries).toBe(1);
    expect(subs.every((ws) => ws.sent.length === 1 && ws.sent[0] === subs[0].sent[0])).toBe(true);
    expect(subs[0].frames[0]).toMatchObject({ type: 'summary', chips: { total: 6, live: 4 }, alerts: { firing: { warning: 1 } } });

    vi.advanceTimersByTime(3000);
    expect(fanout.stats.summaries).toBe(4);
    expect(reads).toEqual({ chips: 4, alerts: 4 });
    expect(subs.every((ws) => ws.sent.length === 4)).toBe(true);
    expect(new Set(subs.map((ws) => ws.sent[3])).size).toBe(1);
    expect(other.sent).toEqual([]);

    // A lagging subscriber skips a summary (latest wins), the others still get it.
    subs[1].bufferedAmount = 2 << 20;
    vi.advanceTimersByTime(1000);
    expect(subs[1].sent.length).toBe(4);
    expect(subs[0].sent.length).toBe(5);

    for (const ws of subs.slice(1)) fanout.remove(ws);
    fanout.setSummary(subs[0], false);
    vi.advanceTimersByTime(5000);
    expect(fanout.stats.summaries).toBe(5);
    expect(subs[0].sent.length).toBe(5);
  });

  it('without a source, summarizes the fleet snapshot', () => {
    const fanout = new LiveFanout(() => FLEET);
    const ws = new FakeSocket();
    fanout.add(ws);
    fanout.setSummary(ws, true);
    fanout.remove(ws);
    expect(ws.frames[0]).toMatchObject({ type: 'summary', chips: { total: 6 }, alerts: { firing: { critical: 0 } } });
  });
});

describe('alerts topic filter in LiveFanout', () => {
  const event = (chipId: string, ruleId = 'hot'): AlertEventAnswer => ({
    ruleId,
    chipId,
    from: 'inactive',
    to: 'firing',
    at: 1,
    severity: 'warning',
    labels: {},
    annotations: {},
    fingerprint: `${ruleId}/${chipId}`,
    startsAt: 1,
    endsAt: null,
    value: 1,
  });

  it('sends each subscriber the transitions of its chips only, one frame per distinct filter, none when none are its', async () => {
    const fanout = new LiveFanout(() => FLEET, { alertCoalesceMs: 5 });
    const sock = (filter?: Parameters<LiveFanout['setAlerts']>[2]) => {
      const ws = new FakeSocket();
      fanout.add(ws);
      fanout.setAlerts(ws, true, filter);
      return ws;
    };
    const all = sock();
    const aws = sock({ vendor: ['aws'] });
    const aws2 = sock({ vendor: ['aws'] });
    const host = sock({ hostExact: ['p5-1'] });
    const sub = sock({ host: 'p5-1' }); // substring: p5-1 and p5-10
    const chip = sock({ chipId: ['g2'] });
    const nobody = sock({ model: ['MI300X'] });
    expect(fanout.alertFilter(all)).toBeUndefined();
    expect(['g0', 't1', 'gone'].map(fanout.alertFilter(aws)!)).toEqual([false, true, false]);

    fanout.publishAlerts([event('g0'), event('t1'), event('g2'), event('gone')]);
    fanout.publishAlerts([event('g1', 'idle')]);
    await new Promise((r) => setTimeout(r, 30));
    const chips = (ws: FakeSocket) => ws.frames.flatMap((f) => f.events.map((e: { chipId: string }) => e.chipId));
    expect(chips(all)).toEqual(['g0', 't1', 'g2', 'gone', 'g1']);
    expect(chips(aws)).toEqual(['t1']);
    expect(aws.sent[0]).toBe(aws2.sent[0]);
    expect(chips(host)).toEqual(['g0', 'g1']);
    expect(chips(sub)).toEqual(['g0', 'g2', 'g1']);
    expect(chips(chip)).toEqual(['g2']);
    expect(nobody.sent).toEqual([]);
    expect([all, aws, host, sub, chip].every((ws) => ws.sent.length === 1)).toBe(true);

    // Subscribing again takes the new filter.
    fanout.setAlerts(aws, true, undefined);
    fanout.publishAlerts([event('g0')]);
    await new Promise((r) => setTimeout(r, 30));
    expect(chips(aws)).toEqual(['t1', 'g0']);
  });
});

describe('exact filter fields', () => {
  it('hostExact takes whole host names, chipId chip ids; both combine with the others; keys differ', () => {
    const ids = (f: Parameters<typeof fleetSub>[0]) => {
      const s = fleetSub(f, true);
      return FLEET.filter((c) => !s.match || s.match(c)).map((c) => c.chipId);
    };
    expect(ids({ hostExact: ['p5-1'] })).toEqual(['g0', 'g1']);
    expect(ids({ host: 'p5-1' })).toEqual(['g0', 'g1', 'g2', 'g3']);
    expect(ids({ hostExact: ['P5-1'] })).toEqual([]);
    expect(ids({ hostExact: ['p5-1', 'trn2-1'], vendor: ['aws'] })).toEqual(['t0', 't1']);
    expect(ids({ chipId: ['g3', 't0'] })).toEqual(['g3', 't0']);
    expect(ids({ chipId: ['g3'], hostExact: ['p5-1'] })).toEqual([]);
    expect(ids({ chipId: [], hostExact: [] })).toEqual(FLEET.map((c) => c.chipId));
    expect(fleetSub({ hostExact: ['a', 'b'] }, true).key).toBe(fleetSub({ hostExact: ['b', 'a'] }, true).key);
    expect(fleetSub({ hostExact: ['a'] }, true).key).not.toBe(fleetSub({ chipId: ['a'] }, true).key);
    expect(fleetSub({ host: 'a' }, true).key).not.toBe(fleetSub({ hostExact: ['a'] }, true).key);
    // A filter without the exact fields keeps its key of before.
    expect(fleetSub({ vendor: ['aws'] }, true).key).toBe('c[["aws"],[],[],""]');
  });

  it('the protocol takes them, the summary topic, and a filter on alerts', () => {
    const ok = (sub: unknown) => liveClientMessageSchema.safeParse({ v: 1, type: 'subscribe', sub }).success;
    expect(ok({ topic: 'fleet', filter: { hostExact: ['p5-1'], chipId: ['GPU-1'] }, compact: true })).toBe(true);
    expect(ok({ topic: 'alerts', filter: { vendor: ['aws'], host: 'trn' } })).toBe(true);
    expect(ok({ topic: 'alerts' })).toBe(true);
    expect(ok({ topic: 'summary' })).toBe(true);
    expect(ok({ topic: 'summary', filter: {} })).toBe(false);
    expect(ok({ topic: 'alerts', filter: { hostExact: 'p5-1' } })).toBe(false);
    expect(ok({ topic: 'alerts', compact: true })).toBe(false);
  });
});

describe('client routing of summary frames', () => {
  const summary = fleetSummary(FLEET, [], 1);
  it('goes to summary handlers only; summary handlers get nothing else but errors', () => {
    expect(subscriptionKey({ topic: 'summary' })).toBe('summary');
    expect(subscriptionKey({ topic: 'alerts', filter: { vendor: ['aws'] } })).toBe('alerts');
    expect(routeTo({ topic: 'summary' }, summary)).toBe(summary);
    for (const t of [{ topic: 'fleet' as const }, { topic: 'alerts' as const }, { topic: 'samples' as const }, { topic: 'chip' as const, chipId: 'g0' }]) expect(routeTo(t, summary)).toBeNull();
    const err = { v: 1 as const, type: 'error' as const, code: 'bad_frame' as const, message: 'x' };
    expect(routeTo({ topic: 'summary' }, err)).toBe(err);
    expect(routeTo({ topic: 'summary' }, { v: 1, type: 'status', changes: [] })).toBeNull();
    expect(routeTo({ topic: 'alerts', filter: { vendor: ['aws'] } }, { v: 1, type: 'alert', events: [] })).not.toBeNull();
  });
});
