/**
 * One rule against one chip: whether the rule watches the chip, the value of the rule's field for a
 * sample (derived fields computed; null when the chip does not report what is needed, never 0),
 * the verdict of the comparison with hysteresis, and the observation alert-state.ts consumes.
 */
import type { AlertRule, ComparisonOp, RuleField, RuleSelector } from '../../schema/alert-rules.ts';
import { LIVENESS_FIELDS } from '../../schema/alert-rules.ts';
import { durationMs } from '../../schema/duration.ts';
import type { ChipView } from '../../schema/protocol.ts';
import type { Sample } from '../../schema/sample.ts';
import type { AlertTiming, Observation, Verdict } from './alert-state.ts';
import { idleFloorW } from './idle-floors.ts';

/** What a rule needs to know of a chip (a ChipView has it). */
export type AlertChip = Pick<ChipView, 'chipId' | 'vendor' | 'model' | 'host'>;

/** Fields whose value is (or is computed from) `powerW`: estimated when the sample says its power is. */
const POWER_FIELDS: ReadonlySet<RuleField> = new Set(['powerW', 'powerPctOfLimit', 'powerPctOfIdleFloor']);

/** Whether the field is observed by the hub's timers and connection events (`missedIntervals`, `agentDisconnected`). */
export function isLivenessField(field: RuleField): boolean {
  return (LIVENESS_FIELDS as readonly string[]).includes(field);
}

/** Whether the selector takes the chip: every key present lists the chip's value. */
export function selectorMatches(selector: RuleSelector, chip: AlertChip): boolean {
  return (
    (!selector.vendor || selector.vendor.includes(chip.vendor)) &&
    (!selector.model || selector.model.includes(chip.model)) &&
    (!selector.host || selector.host.includes(chip.host)) &&
    (!selector.chip || selector.chip.includes(chip.chipId))
  );
}

const pctOf = (part: number | null, whole: number | null): number | null => (part === null || whole === null || whole <= 0 ? null : (part / whole) * 100);

/**
 * What rules read of a chip's previous sample: its time and uncorrected ECC counter (a sample
 * is one; the alert engine keeps just these, not the sample).
 */
export interface PreviousReading {
  readonly ts: number;
  readonly eccUncorrected?: number | null;
}

/**
 * New uncorrected ECC errors since the previous sample: null without both counters; after a
 * counter reset (it went down) the count since the reset, as Prometheus' increase() reads one.
 */
function eccDelta(sample: Sample, prev: PreviousReading | null): number | null {
  const now = sample.eccUncorrected ?? null;
  const before = prev && prev.ts < sample.ts ? (prev.eccUncorrected ?? null) : null;
  if (now === null || before === null) return null;
  return now >= before ? now - before : now;
}

/**
 * The value of `field` for a sample of `chip`; `prev` is the chip's previous sample (for
 * `eccUncorrectedDelta`). A liveness field reads 0: a sample just arrived, over a connection.
 */
export function fieldValue(field: RuleField, sample: Sample, chip: AlertChip, prev: PreviousReading | null): number | null {
  switch (field) {
    case 'powerPctOfLimit':
      return pctOf(sample.powerW, sample.powerLimitW);
    case 'memUsedPct':
      return pctOf(sample.memUsedBytes, sample.memTotalBytes);
    case 'powerPctOfIdleFloor':
      return pctOf(sample.powerW, idleFloorW(chip.model));
    case 'eccUncorrectedDelta':
      return eccDelta(sample, prev);
    case 'missedIntervals':
    case 'agentDisconnected':
      return 0;
    default:
      return sample[field] ?? null;
  }
}

/** `a op b`. */
export function compare(op: ComparisonOp, a: number, b: number): boolean {
  switch (op) {
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '==':
      return a === b;
    case '!=':
      return a !== b;
  }
}

/**
 * How `value` (and the values of the rule's `and` conditions, in order) stand against the rule. A
 * value past the clear threshold (default: the threshold) clears; so does a failed `and`. Between
 * the two thresholds is the hysteresis band. A missing value is `unknown`, unless the rule's own
 * value already clears.
 */
export function verdict(rule: Pick<AlertRule, 'op' | 'threshold' | 'clear' | 'and'>, value: number | null, andValues: readonly (number | null)[] = []): Verdict {
  if (value === null) return 'unknown';
  if (!compare(rule.op, value, rule.clear.threshold ?? rule.threshold)) return 'clear';
  for (let i = 0; i < rule.and.length; i++) {
    const v = andValues[i] ?? null;
    if (v === null) return 'unknown';
    if (!compare(rule.and[i]!.op, v, rule.and[i]!.threshold)) return 'clear';
  }
  return compare(rule.op, value, rule.threshold) ? 'breach' : 'between';
}

/**
 * The observation of a rule for a sample of `chip`, received by the hub at `receivedAt`. Sample
 * fields are timed by the sample; liveness fields by the hub's clock, like the hub's timers.
 */
export function evaluateSample(rule: AlertRule, sample: Sample, chip: AlertChip, prev: PreviousReading | null, receivedAt: number): Observation {
  const value = fieldValue(rule.field, sample, chip, prev);
  const andValues = rule.and.map((c) => fieldValue(c.field, sample, chip, prev));
  return {
    ts: isLivenessField(rule.field) ? receivedAt : sample.ts,
    value,
    verdict: verdict(rule, value, andValues),
    backfill: sample.flags?.backfill === true,
  };
}

/** An observation of a value the hub measured itself at `ts` (a liveness field: a staleness timer, a connection event). */
export function observeValue(rule: AlertRule, ts: number, value: number | null): Observation {
  return { ts, value, verdict: verdict(rule, value), backfill: false };
}

/** Sampling intervals between `since` (the chip's last sample, or its hello) and `now`. */
export function missedIntervals(now: number, since: number, intervalMs: number): number {
  return (now - since) / intervalMs;
}

/**
 * When a `missedIntervals` rule first breaches for a chip last heard from at `since`: the time to
 * set the staleness timer to. Null for rules on other fields.
 */
export function silenceDeadline(rule: Pick<AlertRule, 'field' | 'op' | 'threshold'>, since: number, intervalMs: number): number | null {
  if (rule.field !== 'missedIntervals') return null;
  const at = since + Math.ceil(rule.threshold * intervalMs);
  return rule.op === '>' ? at + 1 : at;
}

/** The rule's `for` and `clear.for` in ms (the schema checked they are durations). */
export function ruleTiming(rule: Pick<AlertRule, 'for' | 'clear'>): AlertTiming {
  return { forMs: durationMs(rule.for) ?? 0, clearForMs: durationMs(rule.clear.for ?? '0') ?? 0 };
}

/** Whether the rule reads power and the sample's power is an estimate (Neuron): the alert must say so. */
export function usesEstimatedPower(rule: Pick<AlertRule, 'field' | 'and'>, sample: Sample): boolean {
  return sample.flags?.powerEstimated === true && (POWER_FIELDS.has(rule.field) || rule.and.some((c) => POWER_FIELDS.has(c.field)));
}
