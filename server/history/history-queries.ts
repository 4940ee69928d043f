/**
 * /series, /energy and /top answered from validated parameters: resolve the range, choose the
 * tier, select and group chips, read buckets, assemble. Route handlers call these; the store is
 * only read through bucket-reader.ts, rollupsInto() and listChips(). The answers' shapes are
 * schema/api-answers.ts.
 */
import type { EnergyAnswer, SeriesAnswer, TopAnswer } from '../../schema/api-answers.ts';
import { bucketStart } from '../rollups/rollup-fields.ts';
import type { Store } from '../store/store.ts';
import { readRangeSummaries, readRawInto } from './bucket-reader.ts';
import { groupChips, groupFleetKeys, narrowsBelowModel, selectChips } from './chip-selection.ts';
import { energyReport } from './energy-report.ts';
import type { Prices } from './prices.ts';
import { resolveRange } from './query-range.ts';
import type { EnergyQuery, SeriesQuery, TopQuery } from './query-schemas.ts';
import { SeriesBuilder, type LazyColumns } from './series-assembly.ts';
import type { HistoryField } from './step-buckets.ts';
import { chooseSeriesStep, DEFAULT_MAX_POINTS, DEFAULT_MAX_SERIES_CELLS, rawSampleEstimate, tierBucketMs } from './tier-choice.ts';
import { formatDuration } from './time-spec.ts';
import { topChips } from './top-chips.ts';

const HOUR = 3_600_000;
export const DEFAULT_SERIES_FIELDS: HistoryField[] = ['utilPct', 'powerW'];
export const SERIES_DEFAULT_RANGE_MS = HOUR;
export const ENERGY_DEFAULT_RANGE_MS = 24 * HOUR;
export const TOP_DEFAULT_RANGE_MS = HOUR;

/** `maxCells`: most values in the answer (points × series × fields; DEFAULT_MAX_SERIES_CELLS). */
export async function querySeries(store: Store, q: SeriesQuery, now: number, maxCells = DEFAULT_MAX_SERIES_CELLS): Promise<SeriesAnswer> {
  const { head, columns } = await querySeriesLazy(store, q, now, maxCells);
  return { ...head, ...materialize(columns) };
}

/** A /series answer whose columns are built when read (for a paced, streamed response). */
export interface LazySeriesAnswer {
  head: Omit<SeriesAnswer, 'series' | 'data'>;
  columns: LazyColumns;
}

function materialize(c: LazyColumns): Pick<SeriesAnswer, 'series' | 'data'> {
  return { series: c.series, data: [c.xs, ...c.series.map((_, i) => c.column(i))] };
}

/** querySeries with the columns left unbuilt: `{ ...head, series, data }` is the same answer. */
export async function querySeriesLazy(store: Store, q: SeriesQuery, now: number, maxCells = DEFAULT_MAX_SERIES_CELLS): Promise<LazySeriesAnswer> {
  const { from, to } = resolveRange(q.from, q.to, now, SERIES_DEFAULT_RANGE_MS, false);
  const chips = selectChips(await store.listChips(), q);
  const groupBy = q.groupBy ?? 'none';
  // Rollup tiers answer model/vendor/fleet groups from the fleet rollups (a key per model).
  const fleetGroups = (groupBy === 'model' || groupBy === 'vendor' || groupBy === 'fleet') && !narrowsBelowModel(q) ? groupFleetKeys(chips, groupBy) : null;
  const load = {
    rollupKeys: fleetGroups ? new Set(fleetGroups.flatMap((g) => g.keys)).size : chips.length,
    rawSamples: rawSampleEstimate(chips.map((c) => c.intervalMs), from, to),
  };
  const chipGroups = groupChips(chips, groupBy);
  const fields = q.fields ?? DEFAULT_SERIES_FIELDS;
  const answer = { series: Math.max(chipGroups.length, fleetGroups?.length ?? 0), fields: fields.length, maxCells };
  const { tier, stepMs } = chooseSeriesStep({ from, to, now, retention: store.retention, maxPoints: q.maxPoints ?? DEFAULT_MAX_POINTS, stepMs: q.step, load, answer });
  const useFleet = tier !== 'raw' && fleetGroups !== null;
  const groups = useFleet ? fleetGroups : chipGroups;
  const agg = q.agg ?? 'avg';
  const builder = new SeriesBuilder({ from, to, stepMs, fields, agg, groups });
  const [first, last] = [bucketStart(from, stepMs), bucketStart(to, stepMs) + stepMs - 1];
  // Rollup tiers go straight from stored rows into the answer's columns (no bucket objects).
  if (tier !== 'raw') await store.rollupsInto(tier, builder.keys(), bucketStart(first, tierBucketMs(tier)), last, fields, (key, cols) => builder.add(key, cols));
  else {
    const intervals = new Map(chips.map((c) => [c.chipId, c.intervalMs]));
    const wanted = builder.keys().map((chipId) => ({ chipId, intervalMs: intervals.get(chipId) ?? 1000 }));
    await readRawInto(store, wanted, stepMs, first, last, fields, (key, cols) => builder.add(key, cols));
  }
  return { head: { from, to, step: formatDuration(stepMs), stepMs, tier, agg, groupBy, fields, source: useFleet ? 'fleet-rollups' : 'chips' }, columns: builder.lazyColumns() };
}

export async function queryEnergy(store: Store, q: EnergyQuery, now: number, prices: Prices): Promise<EnergyAnswer> {
  const { from, to } = resolveRange(q.from, q.to, now, ENERGY_DEFAULT_RANGE_MS, true);
  const chips = selectChips(await store.listChips(), q);
  const r = await readRangeSummaries(store, chips, from, to, now, ['powerW', 'utilPct', 'energyJ']);
  const groupBy = q.groupBy ?? 'chip';
  const report = energyReport({ chips, summaries: r.summaries, groupBy, prices });
  return { from, to, tier: r.tier, coveredFrom: r.coveredFrom, coveredTo: r.coveredTo, groupBy, prices, ...report };
}

export async function queryTop(store: Store, q: TopQuery, now: number): Promise<TopAnswer> {
  const { from, to } = resolveRange(q.from, q.to, now, TOP_DEFAULT_RANGE_MS, true);
  const chips = selectChips(await store.listChips(), q);
  const field = q.field ?? 'utilPct';
  const r = await readRangeSummaries(store, chips, from, to, now, [field]);
  const agg = q.agg ?? 'avg';
  const order = q.order ?? 'desc';
  const k = q.k ?? 10;
  const top = topChips({ chips, summaries: r.summaries, field, agg, k, order });
  return { from, to, tier: r.tier, coveredFrom: r.coveredFrom, coveredTo: r.coveredTo, field, agg, order, k, chips: top };
}
