/**
 * A work report checked by hand, without zod: what the agent's work endpoint and job labels use, so
 * the agent does not load zod (~15 MB of its memory). It accepts exactly what `workReportSchema`
 * (schema/work.ts) accepts — test/unit/work-check.test.ts compares the two on generated inputs — and
 * names the first offending field the way the schema's issues do (`counters.tokens: …`).
 */
import { MIN_TS } from './sample-limits.ts';
import { MAX_WORK_CHIPS, MAX_WORK_COUNTERS, MAX_WORK_LABELS } from './work-limits.ts';
import type { WorkReport } from './work.ts';

export type WorkCheck = { ok: true; report: WorkReport } | { ok: false; path: string; message: string };

const JOB = /^[A-Za-z0-9._:/@+=-]+$/;
const UNIT = /^[A-Za-z][A-Za-z0-9_]*$/;
const CHIP = /^[A-Za-z0-9._:-]+$/;
const KEYS = new Set(['ts', 'job', 'counters', 'chips', 'labels']);

/** Code points, as zod counts string lengths. */
const length = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};
const isPlainObject = (x: unknown): x is Record<string, unknown> => {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
};
const fail = (path: string, message: string): WorkCheck => ({ ok: false, path, message });

/** `x` as a work report; with `tsOptional`, a missing `ts` is `now`. */
export function checkWorkReport(x: unknown, now: number, tsOptional = false): WorkCheck {
  if (!isPlainObject(x)) return fail('', 'a report is a JSON object {job, counters, chips?, labels?, ts?}');
  for (const k of Object.keys(x)) if (!KEYS.has(k)) return fail('', `unknown key "${k}"; a report has job, counters, chips, labels and ts`);
  let ts = now;
  if (x.ts !== undefined || !tsOptional) {
    if (typeof x.ts !== 'number' || !Number.isSafeInteger(x.ts)) return fail('ts', 'ts is a whole number of ms since the epoch');
    if (x.ts < MIN_TS) return fail('ts', `ts is before 2000-01-01 (${MIN_TS})`);
    ts = x.ts;
  }
  const job = x.job;
  if (typeof job !== 'string') return fail('job', 'job is a string');
  if (length(job) < 1 || length(job) > 128 || !JOB.test(job)) return fail('job', 'job must be 1-128 characters: letters, digits, . _ : / @ + = -');
  if (!isPlainObject(x.counters)) return fail('counters', 'counters is an object of unit: number');
  const counters: Record<string, number> = {};
  // `__proto__` keys are left out unread, as zod's records do.
  const units = Object.keys(x.counters).filter((k) => k !== '__proto__');
  for (const unit of units) {
    if (length(unit) > 64 || !UNIT.test(unit)) return fail(`counters.${unit}`, 'a unit is a letter, then letters, digits or _ (tokens, steps, samples)');
    const v = x.counters[unit];
    if (typeof v !== 'number' || !Number.isFinite(v)) return fail(`counters.${unit}`, 'a counter is a number');
    if (v < 0 || v > 1e18) return fail(`counters.${unit}`, 'a counter is from 0 to 1e18');
    counters[unit] = v;
  }
  if (units.length > MAX_WORK_COUNTERS) return fail('counters', `at most ${MAX_WORK_COUNTERS} counters per report`);
  const report: WorkReport = { ts, job, counters };
  if (x.chips !== undefined) {
    if (!Array.isArray(x.chips)) return fail('chips', 'chips is an array of chip ids');
    if (x.chips.length < 1 || x.chips.length > MAX_WORK_CHIPS) return fail('chips', `chips lists 1 to ${MAX_WORK_CHIPS} chip ids`);
    for (let i = 0; i < x.chips.length; i++) {
      const c: unknown = x.chips[i];
      if (typeof c !== 'string' || length(c) < 1 || length(c) > 128 || !CHIP.test(c)) return fail(`chips[${i}]`, 'a chip id is URL-safe: letters, digits, . _ : -');
    }
    report.chips = [...(x.chips as string[])];
  }
  if (x.labels !== undefined) {
    if (!isPlainObject(x.labels)) return fail('labels', 'labels is an object of name: text');
    const labels: Record<string, string> = {};
    const names = Object.keys(x.labels).filter((k) => k !== '__proto__');
    for (const name of names) {
      if (length(name) < 1 || length(name) > 64) return fail(`labels.${name}`, 'a label name has 1 to 64 characters');
      const v = x.labels[name];
      if (typeof v !== 'string' || length(v) > 256) return fail(`labels.${name}`, 'a label value is text of at most 256 characters');
      labels[name] = v;
    }
    if (names.length > MAX_WORK_LABELS) return fail('labels', `at most ${MAX_WORK_LABELS} labels per report`);
    report.labels = labels;
  }
  return { ok: true, report };
}

/** A job id as the schema takes it. */
export function isJobId(s: string): boolean {
  return length(s) >= 1 && length(s) <= 128 && JOB.test(s);
}
