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
  /** Highest batch sequence number committed for this agent. */
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
 * a reader's snapshot tells which log rows it must still add.
 */
export const foldState = sqliteTable('fold_state', {
  id: integer('id').primaryKey(),
  foldedLogId: integer('folded_log_id').notNull(),
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
