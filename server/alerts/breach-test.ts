/**
 * A rule's breach test compiled once, for the engine's hot path: whether a sample breaches the
 * rule (`verdict(...) === 'breach'` of rule-eval.ts) without allocating and without looking the
 * field or operator up by name for every sample. Fields and operators become small integers read
 * by integer switches in one function (value and comparison together: the value is never boxed):
 * a few ns per rule and sample, where string switches (a rule's strings come from parsed JSON, so
 * each `case` compares characters), a closure per rule (megamorphic calls) or a value returned
 * from a helper (a heap number per call) cost several times more.
 */
import type { AlertRule, ComparisonOp, RuleField } from '../../schema/alert-rules.ts';
import type { Sample } from '../../schema/sample.ts';
import { fieldValue, type AlertChip, type PreviousReading } from './rule-eval.ts';

const FIELD_CODES: Readonly<Record<RuleField, number>> = {
  utilPct: 0,
  memUtilPct: 1,
  memUsedBytes: 2,
  memTotalBytes: 3,
  powerW: 4,
  powerLimitW: 5,
  tempC: 6,
  energyJ: 7,
  smClockMhz: 8,
  eccCorrected: 9,
  eccUncorrected: 10,
  powerPctOfLimit: 11,
  memUsedPct: 12,
  eccUncorrectedDelta: 13,
  powerPctOfIdleFloor: 14,
  missedIntervals: 15,
  agentDisconnected: 16,
};
const OP_CODES: Readonly<Record<ComparisonOp, number>> = { '>': 0, '>=': 1, '<': 2, '<=': 3, '==': 4, '!=': 5 };

/** One comparison of a compiled test: field code, operator code, threshold. */
export interface CompiledCondition {
  readonly field: number;
  readonly op: number;
  readonly threshold: number;
}

/** A rule's breach test: its own condition and its `and` conditions. */
export interface CompiledTest extends CompiledCondition {
  readonly and: readonly CompiledCondition[];
}

const condition = (field: RuleField, op: ComparisonOp, threshold: number): CompiledCondition => ({ field: FIELD_CODES[field], op: OP_CODES[op], threshold });

/** The rule's test (a plain literal of one shape: the hot path's loads stay monomorphic). */
export function compileTest(rule: Pick<AlertRule, 'field' | 'op' | 'threshold' | 'and'>): CompiledTest {
  return { field: FIELD_CODES[rule.field], op: OP_CODES[rule.op], threshold: rule.threshold, and: rule.and.map((c) => condition(c.field, c.op, c.threshold)) };
}

/**
 * Whether one condition holds for the sample: its field's value (as rule-eval.ts fieldValue reads
 * it) known and past the threshold. Load and comparison stay in one function, so the value is
 * never boxed on its way out.
 */
export function conditionHolds(c: CompiledCondition, s: Sample, chip: AlertChip, prev: PreviousReading | null): boolean {
  let v: number | null | undefined;
  switch (c.field) {
    case 0:
      v = s.utilPct;
      break;
    case 1:
      v = s.memUtilPct;
      break;
    case 2:
      v = s.memUsedBytes;
      break;
    case 3:
      v = s.memTotalBytes;
      break;
    case 4:
      v = s.powerW;
      break;
    case 5:
      v = s.powerLimitW;
      break;
    case 6:
      v = s.tempC;
      break;
    case 7:
      v = s.energyJ;
      break;
    case 8:
      v = s.smClockMhz;
      break;
    case 9:
      v = s.eccCorrected;
      break;
    case 10:
      v = s.eccUncorrected;
      break;
    case 11: {
      // rule-eval.ts pctOf, inline (a double returned from a call would be boxed)
      const part = s.powerW;
      const whole = s.powerLimitW;
      v = part == null || whole == null || whole <= 0 ? null : (part / whole) * 100;
      break;
    }
    case 12: {
      const part = s.memUsedBytes;
      const whole = s.memTotalBytes;
      v = part == null || whole == null || whole <= 0 ? null : (part / whole) * 100;
      break;
    }
    case 13:
      v = fieldValue('eccUncorrectedDelta', s, chip, prev);
      break;
    case 14:
      v = fieldValue('powerPctOfIdleFloor', s, chip, prev);
      break;
    default:
      v = 0; // liveness fields: a sample just arrived
  }
  if (v === null || v === undefined) return false;
  const t = c.threshold;
  switch (c.op) {
    case 0:
      return v > t;
    case 1:
      return v >= t;
    case 2:
      return v < t;
    case 3:
      return v <= t;
    case 4:
      return v === t;
    default:
      return v !== t;
  }
}

/**
 * Whether the sample breaches the rule: its value and every `and` value known and past their
 * thresholds. (The threshold is at least as strict as the clear threshold, alert-rules.ts checks
 * it, so this is the verdict `breach`.)
 */
export function breaches(c: CompiledTest, s: Sample, chip: AlertChip, prev: PreviousReading | null): boolean {
  if (!conditionHolds(c, s, chip, prev)) return false;
  const and = c.and;
  for (let i = 0; i < and.length; i++) if (!conditionHolds(and[i]!, s, chip, prev)) return false;
  return true;
}
