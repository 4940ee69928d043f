/**
 * The engine's compiled breach test (server/alerts/breach-test.ts) says `breach` exactly when
 * rule-eval.ts does, for every field and operator, with missing values, derived fields and `and`
 * conditions: random rules against random samples, and a table of edge cases.
 */
import { describe, expect, it } from 'vitest';
import { alertRuleSchema, COMPARISON_OPS, RULE_FIELDS, type AlertRule, type RuleField } from '../../schema/alert-rules.ts';
import type { Sample } from '../../schema/sample.ts';
import { breaches, compileTest } from '../../server/alerts/breach-test.ts';
import { evaluateSample, type AlertChip } from '../../server/alerts/rule-eval.ts';

const CHIP: AlertChip = { chipId: 'c0', vendor: 'nvidia', model: 'H100', host: 'h0' };
const SAMPLE_ONLY = RULE_FIELDS.filter((f) => f !== 'missedIntervals' && f !== 'agentDisconnected');

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomSample(r: () => number, ts: number): Sample {
  const maybe = (v: number) => (r() < 0.2 ? null : v);
  const s: Sample = {
    ts,
    chipId: CHIP.chipId,
    utilPct: maybe(Math.round(r() * 100)),
    memUtilPct: maybe(r() * 100),
    memUsedBytes: maybe(Math.round(r() * 8e10)),
    memTotalBytes: maybe(r() < 0.1 ? 0 : 8e10),
    powerW: maybe(r() * 700),
    powerLimitW: maybe(r() < 0.1 ? 0 : 700),
    tempC: maybe(Math.round(r() * 100)),
    energyJ: maybe(r() * 1e6),
  };
  if (r() < 0.7) s.smClockMhz = maybe(Math.round(r() * 2000));
  if (r() < 0.7) s.eccCorrected = maybe(Math.round(r() * 3));
  if (r() < 0.7) s.eccUncorrected = maybe(Math.round(r() * 3));
  return s;
}

const thresholdFor = (r: () => number, f: RuleField) => (f.endsWith('Pct') || f.startsWith('power') ? Math.round(r() * 150) : f.startsWith('ecc') ? Math.round(r() * 2) : Math.round(r() * 1e3));

function randomRule(r: () => number, i: number): AlertRule {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const field = pick(SAMPLE_ONLY);
  const and = Array.from({ length: Math.floor(r() * 3) }, () => {
    const f = pick(SAMPLE_ONLY);
    return { field: f, op: pick(COMPARISON_OPS), threshold: thresholdFor(r, f) };
  });
  return alertRuleSchema.parse({ id: `r${i}`, name: `R${i}`, field, op: pick(COMPARISON_OPS), threshold: thresholdFor(r, field), and });
}

describe('compiled breach test', () => {
  it('agrees with evaluateSample on random rules and samples', () => {
    const r = rng(42);
    let breached = 0;
    for (let i = 0; i < 400; i++) {
      const rule = randomRule(r, i);
      const test = compileTest(rule);
      for (let k = 0; k < 50; k++) {
        const prev = r() < 0.3 ? null : randomSample(r, 1_000_000 + k);
        const s = randomSample(r, 2_000_000 + k);
        const expected = evaluateSample(rule, s, CHIP, prev, 0).verdict === 'breach';
        if (expected) breached++;
        expect(breaches(test, s, CHIP, prev), `${JSON.stringify(rule)} on ${JSON.stringify(s)}`).toBe(expected);
      }
    }
    expect(breached).toBeGreaterThan(1000);
  });

  const base: Sample = { ts: 2, chipId: 'c0', utilPct: 2, memUtilPct: 0, memUsedBytes: 7e10, memTotalBytes: 8e10, powerW: 690, powerLimitW: 700, tempC: 90, energyJ: 1, eccUncorrected: 5 };
  const prev: Sample = { ...base, ts: 1, eccUncorrected: 3 };
  it.each([
    ['a value over its threshold', { field: 'tempC', op: '>=', threshold: 85 }, base, true],
    ['a null value', { field: 'tempC', op: '>=', threshold: 85 }, { ...base, tempC: null }, false],
    ['an absent optional value', { field: 'smClockMhz', op: '<', threshold: 5000 }, base, false],
    ['% of the power limit', { field: 'powerPctOfLimit', op: '>=', threshold: 98 }, base, true],
    ['% of a zero power limit', { field: 'powerPctOfLimit', op: '>=', threshold: 0 }, { ...base, powerLimitW: 0 }, false],
    ['% of memory used', { field: 'memUsedPct', op: '>', threshold: 87 }, base, true],
    ['new uncorrected ECC errors', { field: 'eccUncorrectedDelta', op: '>', threshold: 0 }, base, true],
    ['% of the idle floor with an and', { field: 'utilPct', op: '<', threshold: 5, and: [{ field: 'powerPctOfIdleFloor', op: '>', threshold: 150 }] }, base, true],
    ['a failing and', { field: 'utilPct', op: '<', threshold: 5, and: [{ field: 'tempC', op: '<', threshold: 50 }] }, base, false],
    ['== and !=', { field: 'utilPct', op: '==', threshold: 2, and: [{ field: 'tempC', op: '!=', threshold: 89 }] }, base, true],
  ] as [string, Partial<AlertRule>, Sample, boolean][])('%s', (_name, over, s, expected) => {
    const rule = alertRuleSchema.parse({ id: 'x', name: 'X', ...over });
    expect(evaluateSample(rule, s, CHIP, prev, 0).verdict === 'breach').toBe(expected);
    expect(breaches(compileTest(rule), s, CHIP, prev)).toBe(expected);
  });

  it('covers every field a rule may test', () => {
    for (const field of RULE_FIELDS) expect(() => compileTest({ field, op: '>', threshold: 0, and: [] })).not.toThrow();
    expect(compileTest({ field: 'tempC', op: '>', threshold: 1, and: [] })).toEqual({ field: 6, op: 0, threshold: 1, and: [] });
  });
});
