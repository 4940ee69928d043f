/**
 * What a job sends to the agent's work endpoint: one report or an array of them, in the shape of
 * `workReportSchema` (schema/work.ts) with `ts` optional (default: when the agent received it),
 * checked without zod (schema/work-check.ts: the agent does not load it).
 */
import { checkWorkReport } from '../../schema/work-check.ts';
import { MAX_WORK_PER_BATCH } from '../../schema/work-limits.ts';
import type { WorkReport } from '../../schema/work.ts';

/** Largest request body (HTTP) or line (Unix socket) the endpoint reads. */
export const MAX_WORK_BODY_BYTES = 64 * 1024;

export type WorkInput = { ok: true; reports: WorkReport[] } | { ok: false; error: string };

/** Parse and validate a body or line; the error names the offending field (`[2].counters.tokens: …`). */
export function parseWorkInput(text: string, now: number): WorkInput {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `body is not JSON: ${(err as Error).message}` };
  }
  const many = Array.isArray(value);
  const items: unknown[] = many ? (value as unknown[]) : [value];
  if (items.length === 0) return { ok: false, error: 'an empty array: nothing to report' };
  if (items.length > MAX_WORK_PER_BATCH) return { ok: false, error: `at most ${MAX_WORK_PER_BATCH} reports per request` };
  const reports: WorkReport[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const r = checkWorkReport(item, now, true);
    if (!r.ok) {
      const where = `${many ? `[${i}]` : ''}${many && r.path ? '.' : ''}${r.path}`;
      return { ok: false, error: where ? `${where}: ${r.message}` : r.message };
    }
    reports.push(r.report);
  }
  return { ok: true, reports };
}
