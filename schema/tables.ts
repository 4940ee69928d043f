/**
 * Drizzle tables for the embedded SQLite store. Migrations are generated from this file by
 * drizzle-kit (`npm run db:generate`) into schema/migrations and applied by the hub at start.
 */
import { sqliteTable, text, integer, real, primaryKey, index } from 'drizzle-orm/sqlite-core';

export const hosts = sqliteTable('hosts', {
  hostname: text('hostname').primaryKey(),
  instanceId: text('instance_id'),
  instanceType: text('instance_type'),
  lastAgentId: text('last_agent_id'),
  firstSeen: integer('first_seen').notNull(),
  lastSeen: integer('last_seen').notNull(),
});

export const agents = sqliteTable('agents', {
  id: text('id').primaryKey(),
  hostname: text('hostname').notNull(),
  version: text('version').notNull(),
  intervalMs: integer('interval_ms').notNull(),
  /** Highest batch sequence number committed for this agent. */
  lastSeq: integer('last_seq'),
  firstSeen: integer('first_seen').notNull(),
  lastSeen: integer('last_seen').notNull(),
});

export const chips = sqliteTable(
  'chips',
  {
    id: text('id').primaryKey(),
    agentId: text('agent_id').notNull(),
    hostname: text('hostname').notNull(),
    vendor: text('vendor', { enum: ['nvidia', 'aws'] }).notNull(),
    model: text('model').notNull(),
    idx: integer('idx').notNull(),
    cores: integer('cores'),
    memTotalBytes: real('mem_total_bytes'),
    ratedPowerW: real('rated_power_w'),
    firstSeen: integer('first_seen').notNull(),
    lastSeen: integer('last_seen').notNull(),
  },
  (t) => [index('chips_host_idx').on(t.hostname)],
);

/** Raw samples, one row per chip per timestamp; (chip_id, ts) order serves per-chip reads. */
export const samples = sqliteTable(
  'samples',
  {
    chipId: text('chip_id').notNull(),
    ts: integer('ts').notNull(),
    utilPct: real('util_pct'),
    memUtilPct: real('mem_util_pct'),
    memUsedBytes: real('mem_used_bytes'),
    memTotalBytes: real('mem_total_bytes'),
    powerW: real('power_w'),
    powerLimitW: real('power_limit_w'),
    tempC: real('temp_c'),
    energyJ: real('energy_j'),
    smClockMhz: real('sm_clock_mhz'),
    eccCorrected: real('ecc_corrected'),
    eccUncorrected: real('ecc_uncorrected'),
    /** Bitmask: 1 powerEstimated, 2 energyDerived, 4 backfill. */
    flags: integer('flags').notNull().default(0),
    /** JSON object of source-specific numeric extras, or null. */
    extras: text('extras'),
  },
  (t) => [primaryKey({ columns: [t.chipId, t.ts] })],
);
