/**
 * Drizzle definitions of the PostgreSQL store's time-partitioned tables, for typed reads. They are
 * created by the hand-written migration schema/pg-migrations/0001_partitioned_samples.sql
 * (`PARTITION BY RANGE`, one partition per UTC day) and are left out of drizzle.pg.config.ts,
 * so drizzle-kit never generates them as plain tables.
 */
import { bigint, bigserial, doublePrecision, integer, jsonb, pgTable, primaryKey, smallint, text } from 'drizzle-orm/pg-core';
import { bytea } from './bytea.ts';

const ms = (name: string) => bigint(name, { mode: 'number' });
const f8 = (name: string) => doublePrecision(name);

/** One row per committed sample until folded; partitioned by the sample's ts. */
export const sampleLog = pgTable(
  'sample_log',
  {
    id: bigserial('id', { mode: 'number' }).notNull(),
    chipId: text('chip_id').notNull(),
    ts: ms('ts').notNull(),
    receivedAt: ms('received_at').notNull(),
    /** schema/sample-flags.ts bits. */
    flags: smallint('flags').notNull(),
    /** Which optional fields the sample had (null or not): 1 smClockMhz, 2 eccCorrected, 4 eccUncorrected. */
    present: smallint('present').notNull(),
    utilPct: f8('util_pct'),
    memUtilPct: f8('mem_util_pct'),
    memUsedBytes: f8('mem_used_bytes'),
    memTotalBytes: f8('mem_total_bytes'),
    powerW: f8('power_w'),
    powerLimitW: f8('power_limit_w'),
    tempC: f8('temp_c'),
    energyJ: f8('energy_j'),
    smClockMhz: f8('sm_clock_mhz'),
    eccCorrected: f8('ecc_corrected'),
    eccUncorrected: f8('ecc_uncorrected'),
    extras: jsonb('extras').$type<Record<string, number>>(),
  },
  (t) => [primaryKey({ name: 'sample_log_pk', columns: [t.chipId, t.ts] })],
);

/** Per-chip chunks of raw samples, never crossing a UTC day; partitioned by start_ts. */
export const sampleChunks = pgTable(
  'sample_chunks',
  {
    chipId: text('chip_id').notNull(),
    startTs: ms('start_ts').notNull(),
    endTs: ms('end_ts').notNull(),
    n: integer('n').notNull(),
    data: bytea('data').notNull(),
  },
  (t) => [primaryKey({ name: 'sample_chunks_pk', columns: [t.chipId, t.startTs] })],
);
