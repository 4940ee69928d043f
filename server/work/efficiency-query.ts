/**
 * GET /api/v1/efficiency answered from validated parameters: read the work rows of the range from
 * the finest tier that holds it and is cheap enough, cut them to the range and the selected chips,
 * read each job's chips' energy over the job's span (the tier /energy would choose for it; spans
 * are widened to a grid of 1 % of the range, at most 10 s, and jobs with the same widened span read
 * together), and build the report (efficiency-report.ts).
 *
 * Work tier: raw increments when the range starts within the raw retention and is at most
 * WORK_RAW_MAX_RANGE_MS long; else the 1m buckets when they still hold `from` and the range is at
 * most WORK_1M_MAX_RANGE_MS; else the 1h buckets.
 */
import type { EfficiencyAnswer } from '../../schema/api-answers.ts';
import { readRangeSummaries } from '../history/bucket-reader.ts';
import { selectChips, type ChipRef } from '../history/chip-selection.ts';
import type { Prices } from '../history/prices.ts';
import { resolveRange } from '../history/query-range.ts';
import type { EfficiencyQuery } from '../history/query-schemas.ts';
import type { Tier } from '../history/tier-choice.ts';
import { fieldIndex } from '../rollups/rollup-bucket.ts';
import type { Retention, Store } from '../store/store.ts';
import { efficiencyRows, jobChipKey, jobSpans, WorkTally, type SpanFigures } from './efficiency-report.ts';

const HOUR = 3_600_000;
export const EFFICIENCY_DEFAULT_RANGE_MS = 24 * HOUR;
export const WORK_RAW_MAX_RANGE_MS = 2 * HOUR;
export const WORK_1M_MAX_RANGE_MS = 7 * 24 * HOUR;
/** Spans are widened to a grid of 1 % of the range, but no coarser than this. */
export const SPAN_GRID_MAX_MS = 10_000;
const POWER = fieldIndex('powerW');
const UTIL = fieldIndex('utilPct');

export function chooseWorkTier(from: number, to: number, now: number, retention: Retention): Tier {
  if (from >= now - retention.rawMs && to - from <= WORK_RAW_MAX_RANGE_MS) return 'raw';
  if (from >= now - retention.m1Ms && to - from <= WORK_1M_MAX_RANGE_MS) return '1m';
  return '1h';
}

/** Neuron sources estimate power (and derive energy from it). */
export const estimatesPower = (chip: ChipRef): boolean => chip.vendor === 'aws';

export async function queryEfficiency(store: Store, q: EfficiencyQuery, now: number, prices: Prices): Promise<EfficiencyAnswer> {
  const { from, to } = resolveRange(q.from, q.to, now, EFFICIENCY_DEFAULT_RANGE_MS, true);
  const groupBy = q.groupBy ?? 'job';
  const chips = selectChips(await store.listChips(), q);
  const byId = new Map(chips.map((c) => [c.chipId, c]));
  const tier = chooseWorkTier(from, to, now, store.retention);
  const tally = new WorkTally(from, to);
  if (tier === 'raw') tally.addIncrements(await store.workIncrements(from, to));
  else tally.addBuckets(await store.workBuckets(tier, from, to));
  const jobs = q.job ? new Set(q.job) : null;
  const units = q.unit ? new Set(q.unit) : null;
  const work = tally.rows().filter((w) => byId.has(w.chipId) && (jobs === null || jobs.has(w.job)) && (units === null || units.has(w.unit)));

  // Jobs whose spans agree to within 1 % of the range, at most 10 s, share one read of their chips'
  // figures (a fleet of jobs running through the range: one read, not one per job). A wider grid
  // would count a job's chips' time after its last report (a 24 h range: up to 14 min).
  const grid = Math.max(1, Math.min(SPAN_GRID_MAX_MS, Math.floor((to - from) / 100)));
  const reads = new Map<string, { from: number; to: number; jobs: { job: string; chipIds: Set<string> }[] }>();
  for (const [job, span] of jobSpans(work)) {
    // The span's last report time is in it (the range's `to` is not).
    const a = from + Math.floor((span.from - from) / grid) * grid;
    const b = Math.min(to, from + Math.ceil((span.to + 1 - from) / grid) * grid);
    const key = `${a}-${b}`;
    const r = reads.get(key) ?? reads.set(key, { from: a, to: Math.max(b, a + 1), jobs: [] }).get(key)!;
    r.jobs.push({ job, chipIds: span.chipIds });
  }
  const spans = new Map<string, SpanFigures>();
  for (const r of reads.values()) {
    const chipIds = new Set(r.jobs.flatMap((j) => [...j.chipIds]));
    const read = await readRangeSummaries(store, [...chipIds].map((id) => byId.get(id)!), r.from, r.to, now, ['powerW', 'utilPct', 'energyJ']);
    for (const { job, chipIds: ids } of r.jobs) {
      for (const chipId of ids) {
        const s = read.summaries.get(chipId);
        if (!s) continue;
        const p = s.merged.f[POWER];
        const u = s.merged.f[UTIL];
        spans.set(jobChipKey(job, chipId), {
          energyJ: s.merged.energyJ,
          energyPairs: s.merged.energyPairs,
          chipMs: s.chipMs,
          powerSum: p?.sum ?? 0,
          powerCnt: p?.cnt ?? 0,
          utilSum: u?.sum ?? 0,
          utilCnt: u?.cnt ?? 0,
        });
      }
    }
  }
  const rows = efficiencyRows({ work, spans, chips: byId, groupBy, prices, powerEstimated: estimatesPower });
  return { from, to, tier, groupBy, prices, rows };
}
