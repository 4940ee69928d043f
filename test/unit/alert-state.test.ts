/**
 * server/alerts/alert-state.ts, driven through rule-eval's verdicts: a run of observations and
 * expiries (times in seconds) gives exactly the expected transitions. Pending that clears before
 * `for`, firing by observation and by expiry, flapping held by hysteresis, `clear.for`, missing
 * values, backfill (no firing for the past, can resolve), out-of-order input, restore in every state.
 */
import { describe, expect, it } from 'vitest';
import { alertRuleSchema, type AlertRule, type AlertRuleInput } from '../../schema/alert-rules.ts';
import { deadline, expire, INACTIVE, observe, restoreState, serializeState, type AlertState } from '../../server/alerts/alert-state.ts';
import { ruleTiming, verdict } from '../../server/alerts/rule-eval.ts';

const rule = (over: Partial<AlertRuleInput> = {}): AlertRule => alertRuleSchema.parse({ id: 'hot', name: 'Hot', field: 'tempC', op: '>=', threshold: 85, for: '60s', ...over });
/** ≥ 85 for 60 s; clears below 80 (hysteresis). */
const HOT = rule({ clear: { threshold: 80 } });
/** ≥ 85 for 60 s; clears below 85 at once (no hysteresis). */
const PLAIN = rule();
/** ≥ 85 at once. */
const AT_ONCE = rule({ for: '0s' });
/** ≥ 85 for 60 s; clears below 80 held for 30 s. */
const SLOW_CLEAR = rule({ clear: { threshold: 80, for: '30s' } });

/** [seconds, value] a live observation, [seconds, value, 'backfill'], or ['expire', seconds]. */
type Step = [number, number | null] | [number, number | null, 'backfill'] | ['expire', number];

/** Run the steps from `start`; transitions as `from→to@seconds`. */
function run(r: AlertRule, steps: Step[], start: AlertState = INACTIVE): { state: AlertState; log: string[] } {
  const timing = ruleTiming(r);
  let state = start;
  const log: string[] = [];
  for (const step of steps) {
    const res =
      step[0] === 'expire'
        ? expire(state, step[1] * 1000, timing)
        : observe(state, { ts: step[0] * 1000, value: step[1], verdict: verdict(r, step[1]), backfill: step[2] === 'backfill' }, timing);
    state = res.state;
    log.push(...res.transitions.map((t) => `${t.from}→${t.to}@${t.at / 1000}`));
  }
  return { state, log };
}

const FIRING: Step[] = [[0, 90], [60, 90]];

describe('alert state machine', () => {
  const scenarios: [string, AlertRule, Step[], string[]][] = [
    ['a breach makes it pending', HOT, [[0, 90]], ['inactive→pending@0']],
    ['pending that clears before `for` goes back to inactive, and its timer no longer fires', HOT, [[0, 90], [30, 70], ['expire', 60]], ['inactive→pending@0', 'pending→inactive@30']],
    ['pending needs a breach throughout: the hysteresis band ends it too', HOT, [[0, 90], [30, 82]], ['inactive→pending@0', 'pending→inactive@30']],
    ['fires at an observation once `for` has passed', HOT, [[0, 90], [30, 90], [60, 90]], ['inactive→pending@0', 'pending→firing@60']],
    ['fires at the expiry of `for`', HOT, [[0, 90], ['expire', 59.999], ['expire', 60]], ['inactive→pending@0', 'pending→firing@60']],
    ['`for` 0 fires at the first breach', AT_ONCE, [[0, 90]], ['inactive→pending@0', 'pending→firing@0']],
    ['a new breach run restarts `for`', HOT, [[0, 90], [30, 70], [40, 90], [70, 90], [100, 90]], ['inactive→pending@0', 'pending→inactive@30', 'inactive→pending@40', 'pending→firing@100']],
    ['flapping around the threshold is held by hysteresis', HOT, [...FIRING, [61, 84], [62, 86], [63, 81], [64, 85], [65, 80]], ['inactive→pending@0', 'pending→firing@60']],
    ['…and resolves once past the clear threshold', HOT, [...FIRING, [61, 84], [62, 79]], ['inactive→pending@0', 'pending→firing@60', 'firing→resolved@62']],
    ['without hysteresis the same flapping resolves and re-arms', PLAIN, [...FIRING, [61, 84], [62, 86]], ['inactive→pending@0', 'pending→firing@60', 'firing→resolved@61', 'resolved→pending@62']],
    ['`clear.for`: resolves once clear for 30 s; a breach restarts the count', SLOW_CLEAR, [...FIRING, [70, 70], [90, 90], [100, 70], [129, 70], ['expire', 129.999], ['expire', 130]], ['inactive→pending@0', 'pending→firing@60', 'firing→resolved@130']],
    ['`clear.for`: the band restarts the count too', SLOW_CLEAR, [...FIRING, [70, 70], [90, 82], [100, 70], [125, 70], [130, 70]], ['inactive→pending@0', 'pending→firing@60', 'firing→resolved@130']],
    ['resolved returns to inactive at the next clear value', HOT, [...FIRING, [61, 70], [62, 70]], ['inactive→pending@0', 'pending→firing@60', 'firing→resolved@61', 'resolved→inactive@62']],
    ['resolved returns to inactive in the hysteresis band too', HOT, [...FIRING, [61, 70], [62, 82]], ['inactive→pending@0', 'pending→firing@60', 'firing→resolved@61', 'resolved→inactive@62']],
    ['a missing value leaves a resolved alert as it is', HOT, [...FIRING, [61, 70], [62, null]], ['inactive→pending@0', 'pending→firing@60', 'firing→resolved@61']],
    ['resolved becomes pending again at a breach', HOT, [...FIRING, [61, 70], [62, 90]], ['inactive→pending@0', 'pending→firing@60', 'firing→resolved@61', 'resolved→pending@62']],
    ['a missing value ends pending (no evidence of a continuous breach)', HOT, [[0, 90], [30, null], ['expire', 60]], ['inactive→pending@0', 'pending→inactive@30']],
    ['a missing value neither resolves a firing alert nor clears it', HOT, [...FIRING, [61, null], [62, null]], ['inactive→pending@0', 'pending→firing@60']],
    ['a missing value restarts a `clear.for` count', SLOW_CLEAR, [...FIRING, [70, 70], [80, null], [100, 70], ['expire', 100], [130, 70]], ['inactive→pending@0', 'pending→firing@60', 'firing→resolved@130']],
    ['an observation older than the latest is dropped', HOT, [[0, 90], [30, 90], [20, 70], [60, 90]], ['inactive→pending@0', 'pending→firing@60']],
    ['backfill: a breach makes it pending, but neither an observation nor the expiry fires it', HOT, [[0, 90, 'backfill'], [90, 90, 'backfill'], ['expire', 120]], ['inactive→pending@0']],
    ['backfill: `for` 0 does not fire either', AT_ONCE, [[0, 90, 'backfill']], ['inactive→pending@0']],
    ['backfill: a live breach continuing the run fires at once', HOT, [[0, 90, 'backfill'], [90, 90, 'backfill'], [100, 90]], ['inactive→pending@0', 'pending→firing@100']],
    ['backfill: a clear value ends pending', HOT, [[0, 90, 'backfill'], [10, 70, 'backfill']], ['inactive→pending@0', 'pending→inactive@10']],
    ['backfill: resolves a firing alert', HOT, [...FIRING, [70, 70, 'backfill']], ['inactive→pending@0', 'pending→firing@60', 'firing→resolved@70']],
    ['backfill: a `clear.for` count ends by expiry', SLOW_CLEAR, [...FIRING, [70, 70, 'backfill'], ['expire', 100]], ['inactive→pending@0', 'pending→firing@60', 'firing→resolved@100']],
  ];
  it.each(scenarios)('%s', (_name, r, steps, expected) => {
    expect(run(r, steps).log).toEqual(expected);
  });

  it('a transition carries the value that caused it (an expiry: the latest one)', () => {
    const timing = ruleTiming(HOT);
    const pending = observe(INACTIVE, { ts: 0, value: 91, verdict: 'breach', backfill: false }, timing).state;
    const later = observe(pending, { ts: 30_000, value: 93, verdict: 'breach', backfill: false }, timing).state;
    expect(expire(later, 60_000, timing).transitions).toEqual([{ from: 'pending', to: 'firing', at: 60_000, value: 93 }]);
  });

  const deadlines: [string, AlertRule, Step[], number | null][] = [
    ['inactive: none', HOT, [], null],
    ['pending: when `for` runs out', HOT, [[10, 90]], 70_000],
    ['pending on backfill: none (it cannot fire)', HOT, [[10, 90, 'backfill']], null],
    ['firing, not clearing: none', HOT, FIRING, null],
    ['firing, clearing: when `clear.for` runs out', SLOW_CLEAR, [...FIRING, [70, 70]], 100_000],
  ];
  it.each(deadlines)('deadline, %s', (_name, r, steps, expected) => {
    expect(deadline(run(r, steps).state, ruleTiming(r))).toBe(expected);
  });
});

describe('restore', () => {
  /** Reach a phase, store it as JSON, restore it, then go on. */
  const cases: [string, AlertRule, Step[], AlertState['phase'], Step[], string[]][] = [
    ['inactive: a breach makes it pending', HOT, [], 'inactive', [[100, 90]], ['inactive→pending@100']],
    ['pending: keeps its start; the expiry does not fire on evidence from before the restart', HOT, [[0, 90]], 'pending', [['expire', 60]], []],
    ['pending: a live breach once `for` has passed fires', HOT, [[0, 90]], 'pending', [[70, 90]], ['pending→firing@70']],
    ['pending: a clear value ends it', HOT, [[0, 90]], 'pending', [[70, 70]], ['pending→inactive@70']],
    ['firing: a breach does not fire it again', HOT, FIRING, 'firing', [[70, 90], ['expire', 200]], []],
    ['firing: a clear value resolves it', HOT, FIRING, 'firing', [[70, 70]], ['firing→resolved@70']],
    ['firing while clearing: the count goes on, and its expiry resolves', SLOW_CLEAR, [...FIRING, [70, 70]], 'firing', [['expire', 100]], ['firing→resolved@100']],
    ['resolved: a clear value makes it inactive', HOT, [...FIRING, [61, 70]], 'resolved', [[70, 70]], ['resolved→inactive@70']],
    ['resolved: a breach makes it pending', HOT, [...FIRING, [61, 70]], 'resolved', [[70, 90]], ['resolved→pending@70']],
  ];
  it.each(cases)('%s', (_name, r, before, phase, after, expected) => {
    const reached = run(r, before).state;
    const restored = restoreState(JSON.parse(JSON.stringify(serializeState(reached))))!;
    expect(restored.phase).toBe(phase);
    expect({ ...restored, fresh: reached.fresh }).toEqual(reached);
    expect(run(r, after, restored).log).toEqual(expected);
  });

  const refused: [string, unknown][] = [
    ['not an object', 'firing'],
    ['another version', { ...serializeState(INACTIVE), v: 2 }],
    ['an unknown phase', { ...serializeState(INACTIVE), phase: 'alerting' }],
    ['firing without firedAt', { ...serializeState(INACTIVE), phase: 'firing', since: 0 }],
    ['pending without since', { ...serializeState(INACTIVE), phase: 'pending' }],
  ];
  it.each(refused)('refuses %s', (_name, raw) => {
    expect(restoreState(raw)).toBeNull();
  });
});
