/**
 * A chip's latest sample kept as a copy overwritten in place (server/latest-sample.ts): after
 * every sample of a sequence the copy equals that sample exactly (same keys, no extra field,
 * same JSON), it is never the sample object or any of its parts, and it is reused while the
 * samples keep their shape. The fleet state keeps no committed sample object.
 */
import { describe, expect, it } from 'vitest';
import { keepLatest } from '../../server/latest-sample.ts';
import { FleetState } from '../../server/fleet-state.ts';
import type { Sample } from '../../schema/sample.ts';
import { chipInfo, sample } from '../helpers/frames.ts';

const T0 = 1_750_000_000_000;
const base = (over: Partial<Sample> = {}): Sample => ({ ...sample('GPU-0', T0, { powerW: 312.5, energyJ: 1e7 + 0.25 }), ...over });

/** Each row: a sequence of samples, and after each one whether the copy is the one kept before (reused). */
const cases: [string, Sample[], boolean[]][] = [
  ['same shape, values move', [base(), base({ ts: T0 + 1000, powerW: 401.25, utilPct: 77.5 }), base({ ts: T0 + 2000, powerW: null, tempC: null })], [false, true, true]],
  ['a value back from null', [base({ powerW: null }), base({ ts: T0 + 1000, powerW: 650.75 })], [false, true]],
  ['an optional field appears, then goes', [base(), base({ ts: T0 + 1000, smClockMhz: 1980 }), base({ ts: T0 + 2000, smClockMhz: 1755 }), base({ ts: T0 + 3000 })], [false, false, true, false]],
  ['ECC counters kept and changed', [base({ eccCorrected: 0, eccUncorrected: 0 }), base({ ts: T0 + 1000, eccCorrected: 2, eccUncorrected: 1 })], [false, true]],
  ['flags: same keys reused, other keys copied anew', [base({ flags: { powerEstimated: true } }), base({ ts: T0 + 1000, flags: { powerEstimated: false } }), base({ ts: T0 + 2000, flags: { powerEstimated: true, energyDerived: true } })], [false, true, false]],
  ['extras: same keys reused, a key more or fewer copied anew', [base({ extras: { nc0: 1.5, nc1: 2 } }), base({ ts: T0 + 1000, extras: { nc0: 0.25, nc1: 99 } }), base({ ts: T0 + 2000, extras: { nc0: 3 } }), base({ ts: T0 + 3000, extras: { nc0: 3, nc9: 4 } })], [false, true, false, false]],
  ['extras appear and go', [base(), base({ ts: T0 + 1000, extras: { a: 1 } }), base({ ts: T0 + 2000 })], [false, false, false]],
  ['an extras key named __proto__ stays a plain property', [base({ extras: JSON.parse('{"__proto__": 1, "b": 2}') as Record<string, number> }), base({ ts: T0 + 1000, extras: JSON.parse('{"__proto__": 5, "b": 6}') as Record<string, number> })], [false, true]],
];

describe('keepLatest', () => {
  it.each(cases)('%s', (_name, seq, reused) => {
    let owned: Sample | null = null;
    seq.forEach((s, i) => {
      const before = owned;
      const copy = keepLatest(owned, s);
      expect(copy === before, `sample ${i}: copy reused`).toBe(reused[i]);
      expect(copy).not.toBe(s);
      if (s.flags) expect(copy.flags).not.toBe(s.flags);
      if (s.extras) expect(copy.extras).not.toBe(s.extras);
      expect(copy, `sample ${i}`).toStrictEqual(s);
      expect(Object.keys(copy)).toEqual(Object.keys(s));
      expect(JSON.stringify(copy)).toBe(JSON.stringify(s));
      if (s.extras) expect(Object.getPrototypeOf(copy.extras)).toBe(Object.prototype);
      owned = copy;
    });
  });

  it('copies of random samples equal each sample in turn', () => {
    let seed = 11;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const pick = <T>(...xs: T[]) => xs[rand(xs.length)]!;
    let owned: Sample | null = null;
    for (let i = 0; i < 3000; i++) {
      const s = base({ ts: T0 + i * 1000, utilPct: pick(null, 0, rand(10000) / 100), powerW: pick(null, rand(70000) / 100), memUsedBytes: pick(0, 2 ** 33 + rand(1000)), tempC: pick(null, rand(90)) });
      if (rand(3) === 0) s.smClockMhz = rand(2000);
      if (rand(4) === 0) s.eccUncorrected = rand(3);
      if (rand(4) === 0) s.flags = pick({ powerEstimated: true }, { powerEstimated: true, energyDerived: true }, { energyDerived: false });
      if (rand(4) === 0) s.extras = pick<Record<string, number>>({ nc0: rand(100) / 4 }, { nc0: rand(100) / 4, nc1: rand(5) });
      owned = keepLatest(owned, s);
      expect(owned).toStrictEqual(s);
      expect(JSON.stringify(owned)).toBe(JSON.stringify(s));
    }
  });
});

describe('the fleet keeps copies', () => {
  it("a chip's latest equals the newest committed sample and is not that object", () => {
    const fleet = new FleetState();
    fleet.agentConnected({ agentId: 'a', agentVersion: 't', intervalMs: 1000, host: { hostname: 'h', instanceId: null, instanceType: null }, chips: [chipInfo(0)] });
    const id = chipInfo(0).chipId;
    const s1 = sample(id, T0, { powerW: 100.5 });
    const s2 = sample(id, T0 + 1000, { powerW: 200.25 });
    fleet.applySamples([s1], T0);
    fleet.applySamples([s2], T0 + 1000);
    const latest = fleet.get(id)!.latest!;
    expect(latest).toStrictEqual(s2);
    expect(latest).not.toBe(s2);
    // An older sample after it changes nothing; the sample objects are not written.
    fleet.applySamples([sample(id, T0 + 500, { powerW: 1 })], T0 + 1001);
    expect(fleet.get(id)!.latest).toStrictEqual(s2);
    expect(s1.powerW).toBe(100.5);
    expect(s2.powerW).toBe(200.25);
  });
});
