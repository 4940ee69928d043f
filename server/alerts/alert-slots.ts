/**
 * The alert engine's state per chip (alert-engine.ts): the rules that select a chip, as a pick
 * shared by every chip they select alike, and the chip's slots — one per (rule, chip) alert, made
 * only when its rule first has something to hold for the chip — with the lookups on them.
 */
import type { AlertRule } from '../../schema/alert-rules.ts';
import type { ChipView } from '../../schema/protocol.ts';
import type { AlertState, AlertTiming } from './alert-state.ts';
import { compileTest, type CompiledTest } from './breach-test.ts';
import { ruleTiming } from './rule-eval.ts';
import type { AgentStale } from './stale-timers.ts';

/** What a rule watches: samples, a chip's silence, or its agent's connection. */
export type RuleKind = 'sample' | 'missed' | 'disconnected';

export interface CompiledRule {
  rule: AlertRule;
  timing: AlertTiming;
  kind: RuleKind;
  /** Whether a sample breaches the rule (the hot path's test while the alert is inactive). */
  test: CompiledTest;
}

/** One (rule, chip) alert. `state` null: inactive. */
export interface Slot {
  rule: CompiledRule;
  readonly chip: ChipEntry;
  state: AlertState | null;
  /** Fixed when it went pending (or restored). */
  labels: Record<string, string> | null;
  /** What `labels` were made from when it last went pending (null: restored or not yet). */
  labelsOf: { rule: AlertRule; view: ChipView; estimated: boolean } | null;
  fingerprint: string;
  /** Has an expiry in the wheel. */
  timer: boolean;
  /** Position of its rule in its chip's `pick` list of the rule's kind (-1: the rule does not select the chip now). */
  index: number;
}

/**
 * The enabled rules that select a chip, by kind: one object shared by every chip they select
 * alike (most chips of a fleet share a few), so a chip holds no lists of its own.
 */
export interface RulePick {
  readonly sample: readonly CompiledRule[];
  /** `sample`'s tests, the hot path's (shared, so they stay in cache). */
  readonly tests: readonly CompiledTest[];
  readonly missed: readonly CompiledRule[];
  readonly disconnected: readonly CompiledRule[];
}
export const NO_RULES: RulePick = { sample: [], tests: [], missed: [], disconnected: [] };
export const NO_SLOTS: readonly Slot[] = [];

export interface ChipEntry {
  readonly chipId: string;
  /** The fleet's view of the chip when `slots` were chosen (null: unknown chip). */
  view: ChipView | null;
  /** `AlertEngine.version` when checked last; `rulesVersion` when `slots` were chosen. */
  version: number;
  rulesVersion: number;
  /** Enabled rules selecting the chip, by kind. */
  pick: RulePick;
  /**
   * The chip's slots, one per rule id, made when a rule first has something to hold for the chip
   * (a state, or labels that a flapping alert reuses) and kept while its rule selects the chip (a
   * slot holding a state stays until it ends). Most (chip, rule) pairs never get one: at 100,000
   * chips one per pair took ~80 MB. A few, so an array searched (`slotOf`, `slotAt`), replaced
   * whole when it changes (most chips share the one empty array).
   */
  slots: readonly Slot[];
  /** How many of the chip's sample-rule slots hold a state (0: the hot path only tests). */
  activeSample: number;
  /**
   * What rules read of the latest evaluated sample (its time and ECC counter, for the ECC delta),
   * overwritten in place by the next: the sample itself is not held. Samples no newer than its
   * `ts` are dropped (-Infinity: none yet).
   */
  prev: { ts: number; eccUncorrected: number | null };
  /** Hub time the chip's agent was last seen to connect (staleness counts from it before any sample). */
  connectedAt: number | null;
  /** Has a staleness deadline (`staleDue`), timed by its agent's entry `staleGroup` (stale-timers.ts). */
  staleTimer: boolean;
  staleDue: number;
  staleGroup: AgentStale | null;
}

export const kindOf = (rule: AlertRule): RuleKind => (rule.field === 'missedIntervals' ? 'missed' : rule.field === 'agentDisconnected' ? 'disconnected' : 'sample');
export const compile = (rule: AlertRule): CompiledRule => ({ rule, timing: ruleTiming(rule), kind: kindOf(rule), test: compileTest(rule) });

/** The chip's slot of `ruleId`, if it has one. */
export function slotOf(e: ChipEntry, ruleId: string): Slot | undefined {
  for (const slot of e.slots) if (slot.rule.rule.id === ruleId) return slot;
  return undefined;
}

/** The chip's slot of the `index`-th rule of `kind` in its pick, if it has one. */
export function slotAt(e: ChipEntry, kind: RuleKind, index: number): Slot | undefined {
  for (const slot of e.slots) if (slot.index === index && slot.rule.kind === kind) return slot;
  return undefined;
}

/** The rule of `ruleId` in `pick` and its position in its kind's list, or null. */
export function findInPick(pick: RulePick, ruleId: string): { cr: CompiledRule; index: number } | null {
  for (const list of [pick.sample, pick.missed, pick.disconnected]) {
    const index = list.findIndex((cr) => cr.rule.id === ruleId);
    if (index >= 0) return { cr: list[index]!, index };
  }
  return null;
}

/** Make `slot` the chip's slot of its rule (in place of one it had). */
export function putSlot(e: ChipEntry, slot: Slot): void {
  e.slots = [...e.slots.filter((s) => s.rule.rule.id !== slot.rule.rule.id), slot];
}

/** The chip no longer has a slot of `ruleId`. */
export function dropSlot(e: ChipEntry, ruleId: string): void {
  if (e.slots.some((s) => s.rule.rule.id === ruleId)) e.slots = e.slots.filter((s) => s.rule.rule.id !== ruleId);
}
