/**
 * server/alerts/rule-eval.ts: field values (derived ones computed, missing ones null, never 0), the
 * ECC delta against the previous sample, selectors, the verdict with hysteresis and `and`
 * conditions, and which clock an observation is timed by.
 */
import { describe, expect, it } from 'vitest';
import { alertRuleSchema, type AlertRuleInput, type RuleField } from '../../schema/alert-rules.ts';
import type { Sample } from '../../schema/sample.ts';
import { evaluateSample, fieldValue, selectorMatches, silenceDeadline, usesEstimatedPower, verdict, type AlertChip } from '../../server/alerts/rule-eval.ts';

const T0 = 1_700_000_000_000;
const GiB = 2 ** 30;
const h100: AlertChip = { chipId: 'GPU-1', vendor: 'nvidia', model: 'H100', host: 'p5-a' };
const trn2: AlertChip = { chipId: 'i-1-neuron0', vendor: 'aws', model: 'Trainium2', host: 'trn2-a' };
const sample = (over: Partial<Sample> = {}): Sample => ({
  ts: T0,
  chipId: 'GPU-1',
  utilPct: 50,
  memUtilPct: 20,
  memUsedBytes: 20 * GiB,
  memTotalBytes: 80 * GiB,
  powerW: 350,
  powerLimitW: 700,
  tempC: 60,
  energyJ: 1000,
  ...over,
});
const rule = (over: Partial<AlertRuleInput> = {}) => alertRuleSchema.parse({ id: 'r', name: 'R', field: 'tempC', op: '>=', threshold: 85, ...over });

describe('fieldValue', () => {
  const cases: [string, RuleField, Partial<Sample>, AlertChip, Partial<Sample> | null, number | null][] = [
    ['a sample field', 'tempC', {}, h100, null, 60],
    ['a missing sample field is null, not 0', 'tempC', { tempC: null }, h100, null, null],
    ['an absent optional field is null', 'smClockMhz', {}, h100, null, null],
    ['powerPctOfLimit', 'powerPctOfLimit', {}, h100, null, 50],
    ['powerPctOfLimit without a limit', 'powerPctOfLimit', { powerLimitW: null }, h100, null, null],
    ['powerPctOfLimit with a 0 W limit', 'powerPctOfLimit', { powerLimitW: 0 }, h100, null, null],
    ['powerPctOfLimit without power', 'powerPctOfLimit', { powerW: null }, h100, null, null],
    ['memUsedPct', 'memUsedPct', {}, h100, null, 25],
    ['memUsedPct without a total', 'memUsedPct', { memTotalBytes: null }, h100, null, null],
    ['powerPctOfIdleFloor of an H100 (76 W idle)', 'powerPctOfIdleFloor', { powerW: 114 }, h100, null, 150],
    ['powerPctOfIdleFloor of a Trainium2 (15 W idle)', 'powerPctOfIdleFloor', { powerW: 30 }, trn2, null, 200],
    ['powerPctOfIdleFloor of an unknown model', 'powerPctOfIdleFloor', {}, { ...h100, model: 'MI300X' }, null, null],
    ['ECC delta: new errors since the previous sample', 'eccUncorrectedDelta', { eccUncorrected: 5 }, h100, { ts: T0 - 1000, eccUncorrected: 3 }, 2],
    ['ECC delta: no change', 'eccUncorrectedDelta', { eccUncorrected: 3 }, h100, { ts: T0 - 1000, eccUncorrected: 3 }, 0],
    ['ECC delta: a reset counts the errors since it', 'eccUncorrectedDelta', { eccUncorrected: 1 }, h100, { ts: T0 - 1000, eccUncorrected: 7 }, 1],
    ['ECC delta: no previous sample', 'eccUncorrectedDelta', { eccUncorrected: 3 }, h100, null, null],
    ['ECC delta: previous without the counter', 'eccUncorrectedDelta', { eccUncorrected: 3 }, h100, { ts: T0 - 1000 }, null],
    ['ECC delta: this sample without the counter', 'eccUncorrectedDelta', {}, h100, { ts: T0 - 1000, eccUncorrected: 3 }, null],
    ['ECC delta: a "previous" that is not older', 'eccUncorrectedDelta', { eccUncorrected: 5 }, h100, { ts: T0, eccUncorrected: 3 }, null],
    ['missedIntervals on a sample', 'missedIntervals', {}, h100, null, 0],
    ['agentDisconnected on a sample', 'agentDisconnected', {}, h100, null, 0],
  ];
  it.each(cases)('%s', (_name, field, over, chip, prev, expected) => {
    expect(fieldValue(field, sample(over), chip, prev && sample(prev))).toBe(expected);
  });
});

describe('selectorMatches', () => {
  const cases: [string, object, boolean][] = [
    ['no keys: every chip', {}, true],
    ['its vendor', { vendor: ['aws', 'nvidia'] }, true],
    ['another vendor', { vendor: ['aws'] }, false],
    ['its model and host', { model: ['H100'], host: ['p5-b', 'p5-a'] }, true],
    ['its model but another host', { model: ['H100'], host: ['p5-b'] }, false],
    ['its chip id', { chip: ['GPU-1'] }, true],
    ['model names are exact', { model: ['h100'] }, false],
  ];
  it.each(cases)('%s -> %s', (_name, selector, expected) => {
    expect(selectorMatches(selector, h100)).toBe(expected);
  });
});

describe('verdict', () => {
  const hot = rule({ clear: { threshold: 80 } });
  const below = rule({ field: 'utilPct', op: '<', threshold: 5, clear: { threshold: 10 } });
  const idle = rule({ field: 'utilPct', op: '<', threshold: 5, and: [{ field: 'powerPctOfIdleFloor', op: '>', threshold: 150 }] });
  const cases: [string, ReturnType<typeof rule>, number | null, (number | null)[], string][] = [
    ['at the threshold', hot, 85, [], 'breach'],
    ['in the band', hot, 82, [], 'between'],
    ['at the clear threshold is still in the band', hot, 80, [], 'between'],
    ['past the clear threshold', hot, 79.9, [], 'clear'],
    ['no value', hot, null, [], 'unknown'],
    ['without a clear threshold, below the threshold clears', rule(), 84, [], 'clear'],
    ['"<": under', below, 4, [], 'breach'],
    ['"<": band', below, 7, [], 'between'],
    ['"<": over the clear threshold', below, 11, [], 'clear'],
    ['"and" holds too', idle, 1, [200], 'breach'],
    ['"and" fails: clear', idle, 1, [120], 'clear'],
    ['"and" unknown', idle, 1, [null], 'unknown'],
    ['own value clears even with "and" unknown', idle, 50, [null], 'clear'],
    ['"=="', rule({ field: 'agentDisconnected', op: '==', threshold: 1 }), 1, [], 'breach'],
    ['"!=" fails', rule({ op: '!=', threshold: 1 }), 1, [], 'clear'],
  ];
  it.each(cases)('%s', (_name, r, value, andValues, expected) => {
    expect(verdict(r, value, andValues)).toBe(expected);
  });
});

describe('evaluateSample', () => {
  it('times sample fields by the sample and liveness fields by the hub, and carries backfill', () => {
    const s = sample({ tempC: 90, flags: { backfill: true } });
    expect(evaluateSample(rule(), s, h100, null, T0 + 5000)).toEqual({ ts: T0, value: 90, verdict: 'breach', backfill: true });
    const stale = rule({ field: 'missedIntervals', op: '>', threshold: 3 });
    expect(evaluateSample(stale, s, h100, null, T0 + 5000)).toEqual({ ts: T0 + 5000, value: 0, verdict: 'clear', backfill: true });
  });

  it('evaluates "and" conditions on the same sample', () => {
    const idle = rule({ field: 'utilPct', op: '<', threshold: 5, and: [{ field: 'powerPctOfIdleFloor', op: '>', threshold: 150 }] });
    expect(evaluateSample(idle, sample({ utilPct: 1, powerW: 130 }), h100, null, T0).verdict).toBe('breach');
    expect(evaluateSample(idle, sample({ utilPct: 1, powerW: 78 }), h100, null, T0).verdict).toBe('clear');
  });
});

describe('silenceDeadline', () => {
  const cases: [string, '>' | '>=', number, number | null][] = [
    ['">= 3" at three intervals', '>=', 3, T0 + 3000],
    ['"> 3" just after three intervals', '>', 3, T0 + 3001],
    ['"> 2.5"', '>', 2.5, T0 + 2501],
  ];
  it.each(cases)('%s', (_name, op, threshold, expected) => {
    expect(silenceDeadline(rule({ field: 'missedIntervals', op, threshold }), T0, 1000)).toBe(expected);
  });
  it('is null for a rule on another field', () => {
    expect(silenceDeadline(rule(), T0, 1000)).toBeNull();
  });
});

describe('usesEstimatedPower', () => {
  const est = sample({ flags: { powerEstimated: true } });
  const cases: [string, Partial<AlertRuleInput>, Sample, boolean][] = [
    ['a power rule on an estimated sample', { field: 'powerPctOfLimit', threshold: 98 }, est, true],
    ['a power rule on a measured sample', { field: 'powerPctOfLimit', threshold: 98 }, sample(), false],
    ['a power condition in "and"', { field: 'utilPct', op: '<', threshold: 5, and: [{ field: 'powerPctOfIdleFloor', op: '>', threshold: 150 }] }, est, true],
    ['a rule that reads no power', {}, est, false],
  ];
  it.each(cases)('%s -> %s', (_name, over, s, expected) => {
    expect(usesEstimatedPower(rule(over), s)).toBe(expected);
  });
});
