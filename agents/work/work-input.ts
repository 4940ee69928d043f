/**
 * What a job sends to the agent's work endpoint: one report or an array of them, in the shape of
 * `workReportSchema` (schema/work.ts) with `ts` optional (default: when the agent received it).
 */
import type { z } from 'zod';
import { MAX_WORK_PER_BATCH, workReportSchema, type WorkReport } from '../../schema/work.ts';

/** Largest request body (HTTP) or line (Unix socket) the endpoint reads. */
export const MAX_WORK_BODY_BYTES = 64 * 1024;

const inputSchema = workReportSchema.partial({ ts: true });

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
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return { ok: false, error: `${many ? `[${i}]: ` : ''}a report is a JSON object {job, counters, chips?, labels?, ts?}` };
    const r = inputSchema.safeParse(item);
    if (!r.success) return { ok: false, error: describeIssue(r.error.issues[0], many ? i : null) };
    reports.push({ ...r.data, ts: r.data.ts ?? now });
  }
  return { ok: true, reports };
}

function describeIssue(issue: z.core.$ZodIssue, index: number | null): string {
  const path = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
  const where = `${index === null ? '' : `[${index}]${path && !path.startsWith('[') ? '.' : ''}`}${path}`;
  // A bad record key (a unit's or a label's name): zod keeps the reason one level down.
  const inner = issue.code === 'invalid_key' && issue.issues[0] ? issue.issues[0].message : null;
  const message = inner ?? issue.message;
  return where ? `${where}: ${message}` : message;
}
