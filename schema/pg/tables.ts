/**
 * Drizzle tables of the PostgreSQL store (server/store/pg), the plain (unpartitioned) ones:
 * inventory, rollup tiers and alerting's hot rows. drizzle-kit generates their migration from this
 * file (`npx drizzle-kit generate --config drizzle.pg.config.ts`, into schema/pg-migrations). The
 * time-partitioned sample log and chunks are in partitioned-tables.ts, created by a custom
 * migration (drizzle-kit cannot write `PARTITION BY`). Times are ms since epoch in bigint columns.
 */
import { bigint, doublePrecision, index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { bytea } from './bytea.ts';

const ms = (name: string) => bigint(name, { mode: 'number' });

export const hosts = pgTable('hosts', {
  hostname: text('hostname').primaryKey(),
  instanceId: text('instance_id'),
  instanceType: text('instance_type'),
  lastAgentId: text('last_agent_id'),
  firstSeen: ms('first_seen').notNull(),
  lastSeen: ms('last_seen').notNull(),
});

export const agents = pgTable('agents', {
  id: text('id').primaryKey(),
  hostname: text('hostname').notNull(),
  version: text('version').notNull(),
  intervalMs: integer('interval_ms').notNull(),
  /** The token that first registered this agent id (null: registered on an open hub). */
  tokenId: text('token_id'),
  firstSeen: ms('first_seen').notNull(),
  lastSeen: ms('last_seen').notNull(),
});

export const chips = pgTable(
  'chips',
  {
    id: text('id').primaryKey(),
    agentId: text('agent_id').notNull(),
    hostname: text('hostname').notNull(),
    vendor: text('vendor', { enum: ['nvidia', 'aws'] }).notNull(),
    model: text('model').notNull(),
    idx: integer('idx').notNull(),
    cores: integer('cores'),
    memTotalBytes: doublePrecision('mem_total_bytes'),
    ratedPowerW: doublePrecision('rated_power_w'),
    firstSeen: ms('first_seen').notNull(),
    lastSeen: ms('last_seen').notNull(),
  },
  (t) => [index('chips_host_idx').on(t.hostname)],
);

/**
 * Rollup tiers: one row per key (chip id, or `@vendor/model`) per row span of a tier (1m: an hour
 * of minute buckets; 1h: a day of hour buckets), encoded by server/rollups/rollup-codec.ts.
 * Retention deletes rows (not partitioned: a tier's rows are few).
 */
export const rollups = pgTable(
  'rollups',
  {
    tier: text('tier', { enum: ['1m', '1h'] }).notNull(),
    key: text('key').notNull(),
    rowStart: ms('row_start').notNull(),
    data: bytea('data').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tier, t.key, t.rowStart] }), index('rollups_age_idx').on(t.tier, t.rowStart)],
);

/** The state of each (rule, chip) alert that is not inactive (server/alerts/alert-state.ts). */
export const alertStates = pgTable(
  'alert_states',
  {
    ruleId: text('rule_id').notNull(),
    chipId: text('chip_id').notNull(),
    state: text('state').notNull(),
    labels: text('labels').notNull(),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.ruleId, t.chipId] })],
);

/** Every transition of every alert (startsAt/endsAt in annotations under __startsAt/__endsAt, as in SQLite). */
export const alertEvents = pgTable(
  'alert_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    ruleId: text('rule_id').notNull(),
    chipId: text('chip_id').notNull(),
    fromPhase: text('from_phase').notNull(),
    toPhase: text('to_phase').notNull(),
    at: ms('at').notNull(),
    value: doublePrecision('value'),
    severity: text('severity').notNull(),
    labels: text('labels').notNull(),
    annotations: text('annotations').notNull(),
    fingerprint: text('fingerprint').notNull(),
  },
  (t) => [index('alert_events_at_idx').on(t.at), index('alert_events_chip_idx').on(t.chipId, t.at)],
);
