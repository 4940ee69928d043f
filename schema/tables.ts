/**
 * Drizzle tables for the embedded SQLite store. Migrations are generated from this file by
 * drizzle-kit (`npm run db:generate`) into schema/migrations and applied by the hub at start.
 */
import { sqliteTable, text, integer, real, blob, primaryKey, index, uniqueIndex } from 'drizzle-orm/sqlite-core';

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
  /** No longer written (it was each commit's highest batch sequence number, never read); kept so that existing databases need no migration. */
  lastSeq: integer('last_seq'),
  /** The token that first registered this agent id (null: registered on an open hub); no other token may use the id. */
  tokenId: text('token_id'),
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

/**
 * API tokens (server/auth): only the SHA-256 of each token is stored. Roles: `agent` (ingest),
 * `viewer` (read API, live stream, dashboard), `admin` (everything, including tokens and chip moves).
 */
export const apiTokens = sqliteTable(
  'api_tokens',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    role: text('role', { enum: ['agent', 'viewer', 'admin'] }).notNull(),
    /** Hex SHA-256 of the token. */
    hash: text('hash').notNull(),
    createdAt: integer('created_at').notNull(),
    revokedAt: integer('revoked_at'),
  },
  (t) => [uniqueIndex('api_tokens_hash_idx').on(t.hash)],
);

/**
 * Samples just committed, one row per group commit (samples of any chips). The compactor folds
 * them into per-chip chunks within seconds; until then reads merge them in.
 */
export const sampleLog = sqliteTable('sample_log', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  receivedAt: integer('received_at').notNull(),
  n: integer('n').notNull(),
  /** Sample records back to back (server/store/sample-records.ts); rows written by earlier versions hold JSON text. */
  data: blob('data', { mode: 'buffer' }).notNull(),
});

/**
 * How far the sample log is folded (one row, id 1): log rows with id <= foldedLogId are in the
 * chunks and rollups, even while they wait to be deleted. Written in each fold's transaction, so
 * a reader's snapshot tells which log rows it must still add. `sealedHourTs`: the 1-hour rollup
 * buckets before it are complete; from it on the fold writes only the 1-minute rows, and an
 * hour's bucket is made from them once the hour is over (null: every 1-hour bucket is current).
 */
export const foldState = sqliteTable('fold_state', {
  id: integer('id').primaryKey(),
  foldedLogId: integer('folded_log_id').notNull(),
  sealedHourTs: integer('sealed_hour_ts'),
});

/**
 * Raw samples of one chip over a time span, encoded by server/store/chunk-codec.ts (columnar,
 * delta-encoded, deflated). A (chip, ts) pair appears in at most one chunk.
 */
export const sampleChunks = sqliteTable(
  'sample_chunks',
  {
    chipId: text('chip_id').notNull(),
    startTs: integer('start_ts').notNull(),
    endTs: integer('end_ts').notNull(),
    n: integer('n').notNull(),
    data: blob('data', { mode: 'buffer' }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.chipId, t.startTs] }),
    index('sample_chunks_end_idx').on(t.chipId, t.endTs),
    // Retention deletes by age across chips.
    index('sample_chunks_age_idx').on(t.endTs),
  ],
);

/**
 * Rollup tiers (server/rollups): one row per key (a chip id, or `@vendor/model` for the fleet
 * rollup of that model) per row span of a tier (1m tier: an hour of minute buckets; 1h tier: a day
 * of hour buckets), encoded by server/rollups/rollup-codec.ts. Kept up to date as samples are folded.
 */
export const rollups = sqliteTable(
  'rollups',
  {
    tier: text('tier', { enum: ['1m', '1h'] }).notNull(),
    key: text('key').notNull(),
    rowStart: integer('row_start').notNull(),
    data: blob('data', { mode: 'buffer' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.tier, t.key, t.rowStart] }), index('rollups_age_idx').on(t.tier, t.rowStart)],
);

/**
 * Alert rules managed through the API (`source` 'api') or loaded from the hub's rules file
 * ('file'); built-in rules are in code, their adjustments stored here as `builtin:<id>` rows.
 * `body` is the rule as JSON (schema/alert-rules.ts).
 */
export const alertRules = sqliteTable('alert_rules', {
  id: text('id').primaryKey(),
  source: text('source', { enum: ['api', 'file', 'builtin'] }).notNull(),
  body: text('body').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** The state of each (rule, chip) alert that is not inactive (server/alerts/alert-state.ts), kept across restarts. */
export const alertStates = sqliteTable(
  'alert_states',
  {
    ruleId: text('rule_id').notNull(),
    chipId: text('chip_id').notNull(),
    /** The serialized state machine. */
    state: text('state').notNull(),
    /** Labels fixed when the alert went pending (its fingerprint stays the same for its life). */
    labels: text('labels').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.ruleId, t.chipId] })],
);

/**
 * Texts that alert events share, stored once by content (server/alerts/alert-texts.ts): an alert's
 * labels, and annotation texts that repeat. `last_at` is the newest event that referred to the
 * text, refreshed at most once an hour, so the history's prune can drop texts no event still needs.
 */
export const alertTexts = sqliteTable(
  'alert_texts',
  {
    hash: text('hash').primaryKey(),
    text: text('text').notNull(),
    lastAt: integer('last_at').notNull(),
  },
  (t) => [index('alert_texts_last_idx').on(t.lastAt)],
);

/**
 * The alerts the history names (server/alerts/alert-history-rows.ts): one row per rule, chip and
 * what every transition of that alert carries alike (severity, labels as `#<hash>` of an
 * alert_texts row or as JSON, fingerprint), so a transition row holds only its key. `last_at` is
 * the newest transition that named the row, refreshed like alert_texts' (at most once an hour), so
 * the history's prune can drop the rows no transition still names.
 */
export const alertSeries = sqliteTable(
  'alert_series',
  {
    id: integer('id').primaryKey(),
    chipId: text('chip_id').notNull(),
    ruleId: text('rule_id').notNull(),
    severity: text('severity').notNull(),
    labels: text('labels').notNull(),
    fingerprint: text('fingerprint').notNull(),
    lastAt: integer('last_at').notNull(),
  },
  (t) => [uniqueIndex('alert_series_key_idx').on(t.chipId, t.ruleId, t.labels, t.severity, t.fingerprint)],
);

/**
 * Every transition of every alert: the history (GET /api/v1/alerts/history). `phases`: the phases
 * left and entered as 4 × from + to (alert-history-rows.ts PHASES); annotations as alert-texts.ts
 * writes them. Read through the view alert_events (migration 0011), which gives each row the
 * columns of its alert_series row.
 */
export const alertTransitions = sqliteTable(
  'alert_transitions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    series: integer('series').notNull(),
    phases: integer('phases').notNull(),
    at: integer('at').notNull(),
    value: real('value'),
    annotations: text('annotations').notNull(),
  },
  (t) => [index('alert_transitions_at_idx').on(t.at), index('alert_transitions_series_idx').on(t.series, t.at)],
);

/** Where notifications go: `webhook` (Alertmanager v4 JSON), `alertmanager` (its /api/v2/alerts), `slack`. */
export const alertReceivers = sqliteTable('alert_receivers', {
  name: text('name').primaryKey(),
  kind: text('kind', { enum: ['webhook', 'alertmanager', 'slack'] }).notNull(),
  /** The receiver as JSON: url, secret, label matchers, grouping window, rate limit, sendResolved. */
  body: text('body').notNull(),
  source: text('source', { enum: ['api', 'file', 'flag'] }).notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** Silences: alerts whose labels match are recorded but not sent, until `endsAt`. */
export const alertSilences = sqliteTable('alert_silences', {
  id: text('id').primaryKey(),
  /** Label matchers as JSON. */
  matchers: text('matchers').notNull(),
  comment: text('comment').notNull(),
  createdBy: text('created_by').notNull(),
  startsAt: integer('starts_at').notNull(),
  endsAt: integer('ends_at').notNull(),
});

/**
 * The notification outbox: each notification is written here before it is sent, and survives a
 * restart; delivered ones are marked done, ones that failed every attempt dead (the dead letters).
 */
export const alertOutbox = sqliteTable(
  'alert_outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    receiver: text('receiver').notNull(),
    /** One per transition group and receiver: the receiver's Idempotency-Key. */
    idempotencyKey: text('idempotency_key').notNull(),
    /** The request body as sent. */
    body: text('body').notNull(),
    createdAt: integer('created_at').notNull(),
    attempts: integer('attempts').notNull(),
    nextAt: integer('next_at').notNull(),
    status: text('status', { enum: ['pending', 'done', 'dead'] }).notNull(),
    lastError: text('last_error'),
  },
  (t) => [uniqueIndex('alert_outbox_key_idx').on(t.receiver, t.idempotencyKey), index('alert_outbox_due_idx').on(t.status, t.nextAt)],
);

/**
 * Work done (server/work): each increment of a job's counter between two reports of one series,
 * with the chips it names (sorted, comma-joined) and the time it spans. The raw tier of work, kept
 * as long as raw samples.
 */
export const workIncrements = sqliteTable(
  'work_increments',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    job: text('job').notNull(),
    unit: text('unit').notNull(),
    chips: text('chips').notNull(),
    fromTs: integer('from_ts').notNull(),
    toTs: integer('to_ts').notNull(),
    units: real('units').notNull(),
  },
  (t) => [index('work_increments_to_idx').on(t.toTs)],
);

/** Work increments summed per 1-minute and 1-hour bucket (tier `1m` / `1h`), job, unit and chips. */
export const workBuckets = sqliteTable(
  'work_buckets',
  {
    tier: text('tier').notNull(),
    start: integer('start').notNull(),
    job: text('job').notNull(),
    unit: text('unit').notNull(),
    chips: text('chips').notNull(),
    units: real('units').notNull(),
    firstTs: integer('first_ts').notNull(),
    lastTs: integer('last_ts').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tier, t.start, t.job, t.unit, t.chips] })],
);

/** The newest reading of each work counter series (job, unit, reporter, chips), read at start. */
export const workCounters = sqliteTable('work_counters', {
  key: text('key').primaryKey(),
  ts: integer('ts').notNull(),
  value: real('value').notNull(),
});

/** Which job ran on which chip, and when (first and last report naming it), with the job's labels. */
export const chipJobs = sqliteTable(
  'chip_jobs',
  {
    chipId: text('chip_id').notNull(),
    job: text('job').notNull(),
    firstTs: integer('first_ts').notNull(),
    lastTs: integer('last_ts').notNull(),
    labels: text('labels'),
  },
  (t) => [primaryKey({ columns: [t.chipId, t.job] }), index('chip_jobs_last_idx').on(t.lastTs)],
);

/**
 * Agent connection events (server/agent-events): an agent's /ws/agent connection accepted
 * (`connected`) or ended (`disconnected`: closed, replaced by a newer one, the hub stopping), with
 * the hub that saw it and why. Kept as long as the 1-hour tier; the chip view marks them.
 */
export const agentEvents = sqliteTable(
  'agent_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    agentId: text('agent_id').notNull(),
    ts: integer('ts').notNull(),
    kind: text('kind', { enum: ['connected', 'disconnected'] }).notNull(),
    hub: text('hub'),
    detail: text('detail'),
  },
  (t) => [index('agent_events_agent_ts_idx').on(t.agentId, t.ts), index('agent_events_ts_idx').on(t.ts)],
);
