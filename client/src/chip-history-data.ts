/**
 * One chip's history for plotting, from `GET /api/v1/series` answers: the averages,
 * plus min and max columns (for a band) when those answers have the same buckets.
 * Pure: no I/O, no DOM.
 */
import type { SeriesAnswer } from '../../schema/api-answers.ts';

/** The fields the chip history view asks for, in this order. */
export const HISTORY_FIELDS = ['utilPct', 'powerW', 'tempC', 'memUsedBytes'] as const;
export type ChipHistoryField = (typeof HISTORY_FIELDS)[number];

export type Column = (number | null)[];

export interface FieldHistory {
  avg: Column;
  /** Per-bucket minimum / maximum, aligned with `avg`; null when not available. */
  min: Column | null;
  max: Column | null;
}

export interface ChipHistory {
  /** Bucket starts in seconds since epoch (uPlot's time unit in these charts). */
  xs: number[];
  step: string;
  stepMs: number;
  tier: string;
  from: number;
  to: number;
  fields: Record<ChipHistoryField, FieldHistory>;
  /** Buckets holding at least one value of any field. */
  filled: number;
  /** Whether min/max columns are present. */
  band: boolean;
}

function isSeriesAnswer(a: unknown): a is SeriesAnswer {
  const b = a as SeriesAnswer | null;
  return (
    !!b &&
    typeof b.stepMs === 'number' &&
    typeof b.step === 'string' &&
    Array.isArray(b.series) &&
    Array.isArray(b.data) &&
    Array.isArray(b.data[0]) &&
    b.data.length === b.series.length + 1
  );
}

/** The column of `field` for `chipId` in `answer`, or an all-null one. */
function column(answer: SeriesAnswer, chipId: string, field: string): Column {
  const i = answer.series.findIndex((s) => s.field === field && (s.chipId === undefined || s.chipId === chipId));
  return i >= 0 ? answer.data[i + 1] : new Array<number | null>(answer.data[0].length).fill(null);
}

/** `other`'s column of `field` re-indexed onto `xsMs` (null where it has no such bucket). */
function aligned(other: SeriesAnswer, chipId: string, field: string, xsMs: readonly number[]): Column {
  const col = column(other, chipId, field);
  const ts = other.data[0] as number[];
  const same = ts.length === xsMs.length && ts.every((t, i) => t === xsMs[i]);
  if (same) return col;
  const at = new Map<number, number>();
  ts.forEach((t, i) => at.set(t, i));
  return xsMs.map((t) => {
    const i = at.get(t);
    return i === undefined ? null : (col[i] ?? null);
  });
}

/**
 * Builds the plot model from the `avg` answer and, optionally, the `min` and `max`
 * answers for the same range; those are used only when their step matches.
 * Throws when `avg` is not a series answer.
 */
export function chipHistory(chipId: string, avg: unknown, min?: unknown, max?: unknown): ChipHistory {
  if (!isSeriesAnswer(avg)) throw new Error('The hub sent a history answer this page cannot read');
  const xsMs = avg.data[0] as number[];
  const band = isSeriesAnswer(min) && isSeriesAnswer(max) && min.stepMs === avg.stepMs && max.stepMs === avg.stepMs;
  const fields = {} as Record<ChipHistoryField, FieldHistory>;
  const filledAt = new Uint8Array(xsMs.length);
  for (const f of HISTORY_FIELDS) {
    const a = column(avg, chipId, f);
    a.forEach((v, i) => {
      if (v != null) filledAt[i] = 1;
    });
    fields[f] = {
      avg: a,
      min: band ? aligned(min as SeriesAnswer, chipId, f, xsMs) : null,
      max: band ? aligned(max as SeriesAnswer, chipId, f, xsMs) : null,
    };
  }
  return {
    xs: xsMs.map((t) => t / 1000),
    step: avg.step,
    stepMs: avg.stepMs,
    tier: avg.tier,
    from: avg.from,
    to: avg.to,
    fields,
    filled: filledAt.reduce((n, v) => n + v, 0),
    band,
  };
}

/** `col` with every number multiplied by `k` (nulls kept). */
export function scaled(col: Column | null, k: number): Column | null {
  return col ? col.map((v) => (v == null ? null : v * k)) : null;
}
