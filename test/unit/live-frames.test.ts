import { describe, expect, it } from 'vitest';
import type { ChipView, FleetUpdateMessage, LiveServerMessage, LiveTopic } from '../../schema/protocol.ts';
import type { Sample } from '../../schema/sample.ts';
import { encodeSamples, fleetUpdate, groupByChip } from '../../server/live/live-frames.ts';
import { applyFleetUpdate } from '../../client/src/fleet-update.ts';
import { route, topicKey } from '../../client/src/live-routing.ts';
import { chipInfo, sample } from '../helpers/frames.ts';

const T = 1_760_000_000_000;

describe('fleetUpdate', () => {
  const cases: [string, Sample[], Pick<FleetUpdateMessage, 'chipIds' | 'ts' | 'utilPct' | 'powerW' | 'tempC' | 'memUsedBytes' | 'flags'>][] = [
    ['empty tick', [], { chipIds: [], ts: [], utilPct: [], powerW: [], tempC: [], memUsedBytes: [], flags: [] }],
    [
      'one chip, nulls stay null, flags as bits',
      [sample('a', T, { utilPct: null, tempC: null, powerW: 120.5, memUsedBytes: 3e9, flags: { powerEstimated: true } })],
      { chipIds: ['a'], ts: [T], utilPct: [null], powerW: [120.5], tempC: [null], memUsedBytes: [3e9], flags: [1] },
    ],
    [
      'newest sample of a chip wins, first-seen order kept',
      [sample('a', T, { utilPct: 1 }), sample('b', T, { utilPct: 2 }), sample('a', T + 100, { utilPct: 3 }), sample('a', T + 50, { utilPct: 4 })],
      { chipIds: ['a', 'b'], ts: [T + 100, T], utilPct: [3, 2], powerW: [400.25, 400.25], tempC: [55, 55], memUsedBytes: [1e9, 1e9], flags: [0, 0] },
    ],
    ['equal ts: the later one wins', [sample('a', T, { utilPct: 1 }), sample('a', T, { utilPct: 9 })], { chipIds: ['a'], ts: [T], utilPct: [9], powerW: [400.25], tempC: [55], memUsedBytes: [1e9], flags: [0] }],
  ];
  it.each(cases)('%s', (_n, samples, columns) => {
    const msg = fleetUpdate(samples, 123.456);
    expect(msg).toEqual({ v: 1, type: 'fleet-update', sentAt: 123.456, ...columns });
    expect(JSON.parse(JSON.stringify(msg))).toEqual(msg);
  });
});

describe('encodeSamples', () => {
  const five = Array.from({ length: 5 }, (_, i) => sample('a', T + i));
  it.each([
    [5, [5]],
    [2, [2, 2, 1]],
    [1, [1, 1, 1, 1, 1]],
    [100, [5]],
  ])('max %i per frame -> frames of %j, in order', (max, sizes) => {
    const frames = encodeSamples(five, 7, max).map((b) => JSON.parse(b.toString()));
    expect(frames.map((f) => f.samples.length)).toEqual(sizes);
    expect(frames.every((f) => f.type === 'samples' && f.v === 1 && f.sentAt === 7)).toBe(true);
    expect(frames.flatMap((f) => f.samples)).toEqual(five);
  });
});

it('groupByChip keeps only subscribed chips, in order', () => {
  const s = [sample('a', T), sample('b', T), sample('a', T + 1), sample('c', T)];
  const groups = groupByChip(s, new Map([['a', 1], ['c', 1], ['z', 1]]));
  expect([...groups.entries()]).toEqual([
    ['a', [s[0], s[2]]],
    ['c', [s[3]]],
  ]);
  expect(groupByChip(s, new Map()).size).toBe(0);
});

describe('applyFleetUpdate (browser)', () => {
  const view = (i: number, latest: Sample | null): ChipView => ({ ...chipInfo(i), host: 'h', instanceType: null, agentId: 'a', status: 'live', latest });
  const prev = sample('GPU-test-0', T, { memTotalBytes: 8e10, powerLimitW: 700 });

  it('applies newer values, keeps static fields, ignores older and unknown chips', () => {
    const map = new Map<string, ChipView>([
      ['GPU-test-0', view(0, prev)],
      ['GPU-test-1', view(1, sample('GPU-test-1', T + 500))],
      ['GPU-test-2', view(2, null)],
    ]);
    const before1 = map.get('GPU-test-1');
    const msg = fleetUpdate(
      [
        sample('GPU-test-0', T + 100, { utilPct: 77, powerW: null, flags: { powerEstimated: true } }),
        sample('GPU-test-1', T + 400),
        sample('GPU-test-2', T + 100, { tempC: null }),
        sample('GPU-unknown', T + 100),
      ],
      1,
    );
    expect(applyFleetUpdate(map, JSON.parse(JSON.stringify(msg)))).toBe(2);
    expect(map.get('GPU-test-0')!.latest).toEqual({
      ts: T + 100, chipId: 'GPU-test-0', utilPct: 77, memUtilPct: null, memUsedBytes: 1e9, memTotalBytes: 8e10,
      powerW: null, powerLimitW: 700, tempC: 55, energyJ: null, flags: { powerEstimated: true },
    });
    expect(map.get('GPU-test-1')).toBe(before1);
    expect(map.get('GPU-test-2')!.latest).toMatchObject({ ts: T + 100, tempC: null, memTotalBytes: null, powerW: 400.25 });
    expect(map.get('GPU-test-2')!.latest).not.toHaveProperty('flags');
    expect(map.has('GPU-unknown')).toBe(false);
  });
});

describe('route', () => {
  const s = (id: string) => sample(id, T);
  const msgs: LiveServerMessage[] = [
    { v: 1, type: 'samples', samples: [s('x'), s('y')] },
    fleetUpdate([s('x')], 1),
    { v: 1, type: 'chip-history', chipId: 'x', samples: [] },
    { v: 1, type: 'status', changes: [{ chipId: 'y', status: 'stale' }] },
    { v: 1, type: 'error', code: 'internal', message: 'm' },
  ];
  const cases: [LiveTopic, string, (string | null)[]][] = [
    [{ topic: 'fleet' }, 'fleet', ['samples', 'fleet-update', null, 'status', 'error']],
    [{ topic: 'samples' }, 'samples', ['samples', null, null, null, 'error']],
    [{ topic: 'chip', chipId: 'x' }, 'chip:x', ['samples', null, 'chip-history', null, 'error']],
  ];
  it.each(cases)('%j', (topic, key, types) => {
    expect(topicKey(topic)).toBe(key);
    expect(msgs.map((m) => route(topic, m)?.type ?? null)).toEqual(types);
  });
  it('filters samples to the chip', () => {
    const r = route({ topic: 'chip', chipId: 'x' }, msgs[0]);
    expect(r).toEqual({ v: 1, type: 'samples', samples: [s('x')] });
  });
});
