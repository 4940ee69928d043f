/**
 * The sample log's rows: samples turned into one array per column and written with a single
 * `INSERT … SELECT FROM unnest(…)` (one round trip and one plan for any number of samples; a
 * (chip, ts) already logged is kept, the first insert wins), and log rows read back as samples.
 */
import type pg from 'pg';
import { OPTIONAL_SAMPLE_FIELDS, type Sample } from '../../../schema/sample.ts';
import { bitsToFlags, flagsToBits, SAMPLE_FLAG_BITS } from '../../../schema/sample-flags.ts';

/** Numeric columns of a log row, in table order, with the sample field each holds. */
export const LOG_VALUE_COLUMNS = [
  ['util_pct', 'utilPct'],
  ['mem_util_pct', 'memUtilPct'],
  ['mem_used_bytes', 'memUsedBytes'],
  ['mem_total_bytes', 'memTotalBytes'],
  ['power_w', 'powerW'],
  ['power_limit_w', 'powerLimitW'],
  ['temp_c', 'tempC'],
  ['energy_j', 'energyJ'],
  ['sm_clock_mhz', 'smClockMhz'],
  ['ecc_corrected', 'eccCorrected'],
  ['ecc_uncorrected', 'eccUncorrected'],
] as const;

const READ_COLUMNS = ['chip_id', 'ts', 'flags', 'present', ...LOG_VALUE_COLUMNS.map(([c]) => c), 'extras'];

/** The select list of a log row as the store reads it (columns of table alias `alias` when given). */
export const logSelect = (alias?: string): string => READ_COLUMNS.map((c) => (alias ? `${alias}.${c}` : c)).join(', ');

const INSERT_LOG = `INSERT INTO sample_log (chip_id, ts, received_at, flags, present, ${LOG_VALUE_COLUMNS.map(([c]) => c).join(', ')}, extras)
  SELECT c, t, $3, f, p, ${LOG_VALUE_COLUMNS.map((_, i) => `v${i}`).join(', ')}, x
    FROM unnest($1::text[], $2::bigint[], $4::smallint[], $5::smallint[], ${LOG_VALUE_COLUMNS.map((_, i) => `$${6 + i}::float8[]`).join(', ')}, $${6 + LOG_VALUE_COLUMNS.length}::jsonb[])
      AS u(c, t, f, p, ${LOG_VALUE_COLUMNS.map((_, i) => `v${i}`).join(', ')}, x)
  ON CONFLICT (chip_id, ts) DO NOTHING`;

/** The parameters of INSERT_LOG for these samples (`backfill`: per sample, flag it as backfill). */
export function logInsertParams(samples: readonly Sample[], backfill: (i: number) => boolean, receivedAt: number): unknown[] {
  const n = samples.length;
  const chip = new Array<string>(n);
  const ts = new Array<number>(n);
  const flags = new Array<number>(n);
  const present = new Array<number>(n);
  const values = LOG_VALUE_COLUMNS.map(() => new Array<number | null>(n));
  const extras = new Array<string | null>(n);
  for (let i = 0; i < n; i++) {
    const s = samples[i];
    chip[i] = s.chipId;
    ts[i] = s.ts;
    flags[i] = flagsToBits(s.flags) | (backfill(i) ? SAMPLE_FLAG_BITS.backfill : 0);
    let p = 0;
    // Optional fields whose presence (even as null) is kept: bit k of `present`.
    for (let k = 0; k < OPTIONAL_SAMPLE_FIELDS.length; k++) if (s[OPTIONAL_SAMPLE_FIELDS[k]] !== undefined) p |= 1 << k;
    present[i] = p;
    for (let c = 0; c < LOG_VALUE_COLUMNS.length; c++) values[c][i] = s[LOG_VALUE_COLUMNS[c][1]] ?? null;
    extras[i] = s.extras ? JSON.stringify(s.extras) : null;
  }
  return [chip, ts, receivedAt, flags, present, ...values, extras];
}

/** Write samples to the log in one statement on `client` (inside the caller's transaction). */
export async function insertLogRows(client: pg.Pool | pg.ClientBase, samples: readonly Sample[], backfill: (i: number) => boolean, receivedAt: number): Promise<void> {
  if (samples.length === 0) return;
  await client.query({ name: 'fleetscope-insert-log', text: INSERT_LOG, values: logInsertParams(samples, backfill, receivedAt) });
}

/** A log row as selected with logSelect(). */
export type LogRow = Record<string, unknown> & { chip_id: string; ts: number; flags: number; present: number; extras: Record<string, number> | null };

/** The sample a log row holds (exactly as it was written: nulls null, absent optional fields absent). */
export function sampleOfLogRow(r: LogRow): Sample {
  const s: Sample = {
    ts: r.ts,
    chipId: r.chip_id,
    utilPct: r.util_pct as number | null,
    memUtilPct: r.mem_util_pct as number | null,
    memUsedBytes: r.mem_used_bytes as number | null,
    memTotalBytes: r.mem_total_bytes as number | null,
    powerW: r.power_w as number | null,
    powerLimitW: r.power_limit_w as number | null,
    tempC: r.temp_c as number | null,
    energyJ: r.energy_j as number | null,
  };
  if (r.present & 1) s.smClockMhz = r.sm_clock_mhz as number | null;
  if (r.present & 2) s.eccCorrected = r.ecc_corrected as number | null;
  if (r.present & 4) s.eccUncorrected = r.ecc_uncorrected as number | null;
  const flags = bitsToFlags(r.flags);
  if (flags) s.flags = flags;
  if (r.extras) s.extras = r.extras;
  return s;
}
