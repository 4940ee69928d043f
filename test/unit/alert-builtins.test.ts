/**
 * server/alerts/builtin-rules.ts and idle-floors.ts: the built-ins are valid and on; a rules file
 * adjusts or turns them off, with errors named under `builtins.<id>`; the idle floors agree with
 * the simulated sources they were copied from; and each built-in, fed samples (and the staleness
 * timer, and connection events) the way the hub will, fires and resolves when it should.
 */
import { describe, expect, it } from 'vitest';
import { NEURON_DEVICE_TYPES } from '../../agents/sources/neuron-monitor-report.ts';
import { IDLE_PCT, NEURON_MODELS } from '../../agents/sources/sim-neuron.ts';
import { NVML_MODELS } from '../../agents/sources/sim-nvml.ts';
import { BUILTIN_RULE_IDS, rulesFileSchema, type AlertRule } from '../../schema/alert-rules.ts';
import type { Sample } from '../../schema/sample.ts';
import { alertLabels } from '../../server/alerts/alert-labels.ts';
import { INACTIVE, expire, observe, type AlertState } from '../../server/alerts/alert-state.ts';
import { applyOverride, BUILTIN_RULES, resolveRules } from '../../server/alerts/builtin-rules.ts';
import { IDLE_FLOOR_W, idleFloorW } from '../../server/alerts/idle-floors.ts';
import { evaluateSample, missedIntervals, observeValue, ruleTiming, silenceDeadline, usesEstimatedPower, type AlertChip } from '../../server/alerts/rule-eval.ts';
import { TimerWheel } from '../../server/alerts/timer-wheel.ts';

const T0 = 1_700_000_000_000;
const S = 1000;
const h100: AlertChip = { chipId: 'GPU-1', vendor: 'nvidia', model: 'H100', host: 'p5-a' };
const trn2: AlertChip = { chipId: 'i-1-neuron0', vendor: 'aws', model: 'Trainium2', host: 'trn2-a' };
const gpu = (over: Partial<Sample>): Sample => ({
  ts: T0, chipId: 'GPU-1', utilPct: 99, memUtilPct: 30, memUsedBytes: 1e10, memTotalBytes: 8e10,
  powerW: 400, powerLimitW: 700, tempC: 60, energyJ: 0, eccUncorrected: 0, ...over,
});
/** Neuron: no temperature, power an estimate. */
const neuron = (over: Partial<Sample>): Sample => gpu({ chipId: trn2.chipId, tempC: null, powerLimitW: 500, flags: { powerEstimated: true }, ...over });

/** Feed the samples of one chip to one rule (each with the one before); transitions as `to@seconds after T0`. */
function feed(rule: AlertRule, chip: AlertChip, samples: Sample[]): string[] {
  const timing = ruleTiming(rule);
  let state: AlertState = INACTIVE;
  const log: string[] = [];
  samples.forEach((s, i) => {
    const step = observe(state, evaluateSample(rule, s, chip, samples[i - 1] ?? null, s.ts), timing);
    state = step.state;
    log.push(...step.transitions.map((t) => `${t.to}@${(t.at - T0) / S}`));
  });
  return log;
}
/** One sample a second for `seconds` s from T0 (sample i at T0 + i s). */
const every = (seconds: number, make: (i: number) => Partial<Sample>, base = gpu): Sample[] => Array.from({ length: seconds + 1 }, (_, i) => base({ ts: T0 + i * S, ...make(i) }));

describe('built-in rules', () => {
  it('are valid, on, and one per built-in id', () => {
    expect(Object.keys(BUILTIN_RULES).sort()).toEqual([...BUILTIN_RULE_IDS].sort());
    for (const [id, r] of Object.entries(BUILTIN_RULES)) expect([r.id, r.enabled]).toEqual([id, true]);
  });

  it('resolve to the built-ins, adjusted, then the file own rules', () => {
    const file = rulesFileSchema.parse({
      builtins: { thermal: { threshold: 90, clear: { threshold: 85 } }, 'idle-powered': { enabled: false } },
      rules: [{ id: 'mem', name: 'MemFull', field: 'memUsedPct', op: '>', threshold: 95 }],
    });
    const r = resolveRules(file);
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(r.rules.map((x) => x.id)).toEqual([...BUILTIN_RULE_IDS, 'mem']);
    const byId = new Map(r.rules.map((x) => [x.id, x]));
    expect(byId.get('thermal')).toEqual({ ...BUILTIN_RULES.thermal, threshold: 90, clear: { threshold: 85 } });
    expect(byId.get('idle-powered')!.enabled).toBe(false);
    expect(byId.get('stale')).toBe(BUILTIN_RULES.stale);
  });

  it.each([
    ['a clear threshold the new threshold passes', { thermal: { threshold: 70 } }, ['builtins.thermal.clear.threshold: must be at most threshold (70) for op >=']],
    ['a clear threshold on a rule with "=="', { 'agent-offline': { clear: { threshold: 0 } } }, ['builtins.agent-offline.clear.threshold: a clear threshold needs op >, >=, < or <=, not ==']],
  ])('refuse an override that makes the rule inconsistent: %s', (_name, builtins, errors) => {
    expect(resolveRules(rulesFileSchema.parse({ builtins }))).toEqual({ ok: false, errors });
  });

  it('an override replaces a field whole', () => {
    const r = applyOverride('thermal', { clear: { for: '5m' } });
    expect(r.ok && r.rules[0]!.clear).toEqual({ for: '5m' });
  });
});

describe('idle floors', () => {
  it.each(Object.values(NVML_MODELS).map((m) => [m.model, m.idleW]))('%s: the idle power of sim-nvml (%s W)', (model, w) => {
    expect(IDLE_FLOOR_W[model]).toBe(w);
  });
  it.each(Object.values(NEURON_MODELS).map((m) => [m.model, m.ratedW]))('%s: sim-neuron idle %% of the rated %s W', (model, rated) => {
    expect(IDLE_FLOOR_W[model]).toBeCloseTo((IDLE_PCT / 100) * rated, 6);
    expect(Object.values(NEURON_DEVICE_TYPES).some((t) => t.model === model)).toBe(true);
  });
  it('is looked up case-insensitively; unknown models have none', () => {
    expect([idleFloorW('h100'), idleFloorW('TRAINIUM2'), idleFloorW('MI300X')]).toEqual([76, 15, null]);
  });
});

describe('each built-in on the samples of a chip', () => {
  const cases: [string, AlertRule, AlertChip, Sample[], string[]][] = [
    ['thermal: 86 °C for a minute fires', BUILTIN_RULES.thermal, h100, every(60, () => ({ tempC: 86 })), ['pending@0', 'firing@60']],
    ['thermal: 84 °C never', BUILTIN_RULES.thermal, h100, every(90, () => ({ tempC: 84 })), []],
    ['thermal: resolves below 80 °C only', BUILTIN_RULES.thermal, h100, every(63, (i) => ({ tempC: i <= 60 ? 86 : i === 61 ? 81 : i === 62 ? 83 : 79 })), ['pending@0', 'firing@60', 'resolved@63']],
    ['thermal: Neuron reports no temperature, never fires', BUILTIN_RULES.thermal, trn2, every(120, () => ({}), neuron), []],
    ['power-at-limit: 690 of 700 W for 30 s', BUILTIN_RULES['power-at-limit'], h100, every(30, () => ({ powerW: 690 })), ['pending@0', 'firing@30']],
    ['power-at-limit: 97 % never', BUILTIN_RULES['power-at-limit'], h100, every(60, () => ({ powerW: 679 })), []],
    ['power-at-limit: a Neuron estimate fires too', BUILTIN_RULES['power-at-limit'], trn2, every(30, () => ({ powerW: 495 }), neuron), ['pending@0', 'firing@30']],
    ['idle-powered: 1 % busy at 130 W (H100 idle 76 W) for 15 min', BUILTIN_RULES['idle-powered'], h100, every(900, () => ({ utilPct: 1, powerW: 130 })), ['pending@0', 'firing@900']],
    ['idle-powered: 1 % busy at idle power never', BUILTIN_RULES['idle-powered'], h100, every(900, () => ({ utilPct: 1, powerW: 78 })), []],
    ['idle-powered: a model without an idle floor never', BUILTIN_RULES['idle-powered'], { ...h100, model: 'MI300X' }, every(900, () => ({ utilPct: 1, powerW: 130 })), []],
    ['idle-powered: busy again resolves', BUILTIN_RULES['idle-powered'], h100, every(901, (i) => ({ utilPct: i < 901 ? 1 : 80, powerW: 130 })), ['pending@0', 'firing@900', 'resolved@901']],
    ['ecc-uncorrected: the first increase fires at once, and it stays for an hour', BUILTIN_RULES['ecc-uncorrected'], h100, every(3605, (i) => ({ eccUncorrected: i < 5 ? 0 : 1 })), ['pending@5', 'firing@5']],
    ['ecc-uncorrected: a constant count never', BUILTIN_RULES['ecc-uncorrected'], h100, every(60, () => ({ eccUncorrected: 4 })), []],
    ['ecc-uncorrected: resolves an hour after the last increase', BUILTIN_RULES['ecc-uncorrected'], h100, every(3606, (i) => ({ eccUncorrected: i < 5 ? 0 : 1 })), ['pending@5', 'firing@5', 'resolved@3606']],
  ];
  it.each(cases)('%s', (_name, rule, chip, samples, expected) => {
    expect(feed(rule, chip, samples)).toEqual(expected);
  });

  it('power-at-limit on Neuron says the power is an estimate; on NVIDIA it does not', () => {
    const rule = BUILTIN_RULES['power-at-limit'];
    const labels = (chip: AlertChip, s: Sample) => alertLabels(rule, chip, { powerEstimated: usesEstimatedPower(rule, s) });
    expect(labels(trn2, neuron({})).powerEstimated).toBe('true');
    expect(labels(h100, gpu({})).powerEstimated).toBeUndefined();
  });
});

describe('liveness built-ins', () => {
  const INTERVAL = 1000;

  it('stale → live: the staleness timer fires it after 3 silent intervals, the next sample resolves it', () => {
    const rule = BUILTIN_RULES.stale;
    const timing = ruleTiming(rule);
    const wheel = new TimerWheel({ tickMs: 100, slots: 64, now: T0 });
    let state: AlertState = INACTIVE;
    let last = T0;
    const log: string[] = [];
    const apply = (step: ReturnType<typeof observe>) => {
      state = step.state;
      log.push(...step.transitions.map((t) => `${t.to}@${t.at - T0}`));
    };
    const sampleAt = (at: number) => {
      last = at;
      apply(observe(state, evaluateSample(rule, gpu({ ts: at }), h100, null, at), timing));
      wheel.schedule('stale:GPU-1', silenceDeadline(rule, last, INTERVAL)!);
    };
    const tick = (now: number) => {
      for (const due of wheel.advance(now)) apply(observe(state, observeValue(rule, due.at, missedIntervals(due.at, last, INTERVAL)), timing));
    };
    sampleAt(T0);
    tick(T0 + 2500); // samples late but not stale yet
    sampleAt(T0 + 2500);
    tick(T0 + 5500); // 3 intervals since the last sample: not over 3 yet
    expect(log).toEqual([]);
    tick(T0 + 6000);
    expect(log).toEqual(['pending@5501', 'firing@5501']);
    tick(T0 + 60_000); // silence goes on: nothing more, and it stays firing
    sampleAt(T0 + 61_000);
    expect(log).toEqual(['pending@5501', 'firing@5501', 'resolved@61000']);
  });

  /** Connection events of the chip's agent: it closed (agentDisconnected 1), it said hello again (0), or the `for` timer went off. */
  type Event = ['closed' | 'hello' | 'expire', number];
  it.each([
    ['back within 60 s: never fires', [['closed', 0], ['hello', 30], ['expire', 60]], ['pending@0', 'inactive@30000']],
    ['away for 60 s: fires by the expiry, resolves when back', [['closed', 0], ['expire', 59.999], ['expire', 60], ['hello', 90]], ['pending@0', 'firing@60000', 'resolved@90000']],
  ] as [string, Event[], string[]][])('agent-offline, %s', (_name, events, expected) => {
    const rule = BUILTIN_RULES['agent-offline'];
    const timing = ruleTiming(rule);
    let state: AlertState = INACTIVE;
    const log: string[] = [];
    for (const [what, seconds] of events) {
      const at = T0 + seconds * S;
      const step = what === 'expire' ? expire(state, at, timing) : observe(state, observeValue(rule, at, what === 'closed' ? 1 : 0), timing);
      state = step.state;
      log.push(...step.transitions.map((t) => `${t.to}@${t.at - T0}`));
    }
    expect(log).toEqual(expected);
  });
});
