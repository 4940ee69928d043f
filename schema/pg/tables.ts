/**
 * Drizzle tables of the PostgreSQL store (server/store/pg), the plain (unpartitioned) ones:
 * inventory, rollup tiers, alerting's hot rows, and the hub's own rows (tokens, alert rules,
 * receivers, silences, the notification outbox) as in SQLite's schema/tables.ts. drizzle-kit generates their migration from this
 * file (`npx drizzle-kit generate --config drizzle.pg.config.ts`, into schema/pg-migrations). The
 * time-partitioned sample log and chunks are in partitioned-tables.ts, created by a custom
 * migration (drizzle-kit cannot write `PARTITION BY`). Times are ms since epoch in bigint columns.
 */
import { bigint, doublePrecision, index, integer, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
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

/** Texts alert events share, stored once by content (as in SQLite: server/alerts/alert-texts.ts). */
export const alertTexts = pgTable(
  'alert_texts',
  {
    hash: text('hash').primaryKey(),
    text: text('text').notNull(),
    lastAt: ms('last_at').notNull(),
  },
  (t) => [index('alert_texts_last_idx').on(t.lastAt)],
);

/** Every transition of every alert (startsAt/endsAt in annotations under __startsAt/__endsAt, shared texts by reference, as in SQLite). */
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

/** API tokens (server/auth/pg-token-store.ts): only the SHA-256 of a secret is stored. */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    role: text('role', { enum: ['agent', 'viewer', 'admin'] }).notNull(),
    hash: text('hash').notNull(),
    createdAt: ms('created_at').notNull(),
    revokedAt: ms('revoked_at'),
  },
  (t) => [uniqueIndex('api_tokens_hash_idx').on(t.hash)],
);

/** Alert rules of the API, the rules file, and adjustments of the built-ins (`body`: JSON). */
export const alertRules = pgTable('alert_rules', {
  id: text('id').primaryKey(),
  source: text('source', { enum: ['api', 'file', 'builtin'] }).notNull(),
  body: text('body').notNull(),
  updatedAt: ms('updated_at').notNull(),
});

/** Notification receivers (`body`: the spec as JSON, its secret included). */
export const alertReceivers = pgTable('alert_receivers', {
  name: text('name').primaryKey(),
  kind: text('kind', { enum: ['webhook', 'alertmanager', 'slack'] }).notNull(),
  body: text('body').notNull(),
  source: text('source', { enum: ['api', 'file', 'flag'] }).notNull(),
  updatedAt: ms('updated_at').notNull(),
});

/** Silences (`matchers`: JSON). */
export const alertSilences = pgTable('alert_silences', {
  id: text('id').primaryKey(),
  matchers: text('matchers').notNull(),
  comment: text('comment').notNull(),
  createdBy: text('created_by').notNull(),
  startsAt: ms('starts_at').notNull(),
  endsAt: ms('ends_at').notNull(),
});

/**
 * The notification outbox, shared by the hubs of one schema: a hub claims a due row with
 * `FOR UPDATE SKIP LOCKED` (attempts + 1, next_at = the claim's lease end, claimed_by = the hub),
 * so one hub sends it; should that hub die, the row is due again once the lease ends.
 */
export const alertOutbox = pgTable(
  'alert_outbox',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    receiver: text('receiver').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    body: text('body').notNull(),
    createdAt: ms('created_at').notNull(),
    attempts: integer('attempts').notNull(),
    nextAt: ms('next_at').notNull(),
    status: text('status', { enum: ['pending', 'done', 'dead'] }).notNull(),
    lastError: text('last_error'),
    claimedBy: text('claimed_by'),
  },
  (t) => [uniqueIndex('alert_outbox_key_idx').on(t.receiver, t.idempotencyKey), index('alert_outbox_due_idx').on(t.status, t.nextAt)],
);

/** Work done (server/work), as in SQLite's schema/tables.ts: increments between a series' reports. */
export const workIncrements = pgTable(
  'work_increments',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    job: text('job').notNull(),
    unit: text('unit').notNull(),
    chips: text('chips').notNull(),
    fromTs: ms('from_ts').notNull(),
    toTs: ms('to_ts').notNull(),
    units: doublePrecision('units').notNull(),
  },
  (t) => [index('work_increments_to_idx').on(t.toTs)],
);

/** Work increments summed per 1-minute and 1-hour bucket, job, unit and chips. */
export const workBuckets = pgTable(
  'work_buckets',
  {
    tier: text('tier').notNull(),
    start: ms('start').notNull(),
    job: text('job').notNull(),
    unit: text('unit').notNull(),
    chips: text('chips').notNull(),
    units: doublePrecision('units').notNull(),
    firstTs: ms('first_ts').notNull(),
    lastTs: ms('last_ts').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tier, t.start, t.job, t.unit, t.chips] })],
);

/** The newest reading of each work counter series. */
export const workCounters = pgTable('work_counters', {
  key: text('key').primaryKey(),
  ts: ms('ts').notNull(),
  value: doublePrecision('value').notNull(),
});

/** Which job ran on which chip, and when. */
export const chipJobs = pgTable(
  'chip_jobs',
  {
    chipId: text('chip_id').notNull(),
    job: text('job').notNull(),
    firstTs: ms('first_ts').notNull(),
    lastTs: ms('last_ts').notNull(),
    labels: text('labels'),
  },
  (t) => [primaryKey({ columns: [t.chipId, t.job] }), index('chip_jobs_last_idx').on(t.lastTs)],
);

/** Agent connection events, as in SQLite's schema/tables.ts. */
export const agentEvents = pgTable(
  'agent_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    agentId: text('agent_id').notNull(),
    ts: ms('ts').notNull(),
    kind: text('kind', { enum: ['connected', 'disconnected'] }).notNull(),
    hub: text('hub'),
    detail: text('detail'),
  },
  (t) => [index('agent_events_agent_ts_idx').on(t.agentId, t.ts), index('agent_events_ts_idx').on(t.ts)],
);
