/**
 * The JSON answers of the hub's HTTP API, defined once as zod schemas:
 *
 * - the hub's answer builders and routes (server/history, server/routes) are typed with the
 *   inferred types, so a builder that drifts from its schema fails typecheck;
 * - the dashboard (client/) reads answers as these types;
 * - the OpenAPI document's response schemas are generated from them (z.toJSONSchema, io 'output');
 * - test/integration/api-answers.test.ts parses real answers of a running hub with them.
 *
 * They describe exactly what the hub sends today (objects are strict: a field the hub sends that
 * is not here is a drift). Neither the hub nor the dashboard parses answers with them at runtime.
 */
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from './error-codes.ts';
import { HISTORY_FIELDS } from './history-fields.ts';
import { sourceHealthSchema } from './protocol.ts';
import { chipInfoSchema, sampleSchema } from './sample.ts';

/** Epoch milliseconds. */
const ms = z.number().int();
const count = z.number().int().min(0);
/** A figure that is null when there is nothing to compute it from. */
const figure = z.number().nullable();

// ---------- shared pieces of the history answers ----------

/** Storage tier that answered: raw samples, 1-minute or 1-hour rollups. */
export const tierSchema = z.enum(['raw', '1m', '1h']);
/** Aggregate within a bucket (or, for /top, over the range). */
export const aggSchema = z.enum(['avg', 'min', 'max', 'last']);
/** Fields a history query can ask for: the rolled-up gauges, and energy used (`energyJ`). */
export const historyFieldSchema = z.enum(HISTORY_FIELDS);
export const seriesGroupBySchema = z.enum(['none', 'chip', 'host', 'model', 'vendor', 'fleet']);
export const energyGroupBySchema = z.enum(['chip', 'host', 'model', 'vendor']);

/** chipId/host/model/vendor of a series or row, as far as they are shared by all its chips. */
const groupTags = {
  chipId: z.string().optional(),
  host: z.string().optional(),
  model: z.string().optional(),
  vendor: z.string().optional(),
};

// ---------- errors ----------

/** Every 4xx/5xx answer: a stable code, a message fit to show, and the request's id. */
export const errorBodySchema = z.strictObject({
  code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
  message: z.string(),
  requestId: z.string().nullable(),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

// ---------- GET /healthz ----------

export const healthAnswerSchema = z.strictObject({
  status: z.literal('ok'),
  uptimeS: count,
  /** Ingest counters since the hub started. */
  ingested: z.strictObject({ batches: count, samples: count, backfillSamples: count, rejectedFrames: count }),
});
export type HealthAnswer = z.infer<typeof healthAnswerSchema>;

// ---------- GET /api/v1/chips, /api/v1/chips/:chipId/samples ----------

/** A chip as the fleet view sees it: inventory + host + derived status + latest sample (schema/protocol.ts ChipView). */
export const chipViewSchema = chipInfoSchema.extend({
  host: z.string(),
  instanceType: z.string().nullable(),
  agentId: z.string(),
  status: z.enum(['live', 'stale', 'offline']),
  latest: sampleSchema.nullable(),
});

export const chipsAnswerSchema = z.strictObject({ chips: z.array(chipViewSchema) });
export type ChipsAnswer = z.infer<typeof chipsAnswerSchema>;

export const chipSamplesAnswerSchema = z.strictObject({
  chipId: z.string(),
  from: ms,
  to: ms,
  /** Ascending by ts. */
  samples: z.array(sampleSchema),
  /** Present (true) when `limit` cut the samples: ask again with from = next for the rest. */
  truncated: z.literal(true).optional(),
  next: ms.optional(),
});
export type ChipSamplesAnswer = z.infer<typeof chipSamplesAnswerSchema>;

// ---------- POST /api/v1/chips/:chipId/owner ----------

/** An admin's chip move: the agent that owns the chip from now on (answered with the chip's view). */
export const chipOwnerBodySchema = z.strictObject({ agentId: z.string().min(1).max(128).regex(/^[A-Za-z0-9._:-]+$/) });
export type ChipOwnerBody = z.infer<typeof chipOwnerBodySchema>;

// ---------- POST /api/v1/write ----------

/** Lines of a write left out because their chip belongs to another agent. */
export const refusedChipSchema = z.strictObject({
  chipId: z.string(),
  /** The host the first refused line names. */
  host: z.string(),
  /** The agent that owns the chip. */
  agentId: z.string(),
  code: z.literal('chip_owned'),
  /** The first refused line (1-based) and how many lines of the chip were refused. */
  line: count,
  lines: count,
  message: z.string(),
});

/** 200 from a write of which some lines were stored and others refused (204 when all were stored). */
export const writeAnswerSchema = z.strictObject({
  /** Samples stored. */
  stored: count,
  refused: z.array(refusedChipSchema),
});
export type WriteAnswer = z.infer<typeof writeAnswerSchema>;

// ---------- GET /api/v1/agents ----------

/** What the hub knows about an agent: its sources' health and what its spool had to drop. */
export const agentViewSchema = z.strictObject({
  agentId: z.string(),
  host: z.string(),
  version: z.string(),
  intervalMs: ms,
  connected: z.boolean(),
  chips: count,
  lastBatchAt: ms.nullable(),
  health: z.array(sourceHealthSchema),
  dropped: z.strictObject({ batches: count, samples: count }),
});
export const agentsAnswerSchema = z.strictObject({ agents: z.array(agentViewSchema) });
export type AgentsAnswer = z.infer<typeof agentsAnswerSchema>;

// ---------- GET /api/v1/series ----------

/** One column after the x column: the group's label and tags, and the field. */
export const seriesColumnSchema = z.strictObject({ label: z.string(), ...groupTags, field: historyFieldSchema });
export type SeriesColumn = z.infer<typeof seriesColumnSchema>;

export const seriesAnswerSchema = z.strictObject({
  from: ms,
  to: ms,
  /** Step as a duration (`5m`) and in ms. */
  step: z.string(),
  stepMs: ms,
  tier: tierSchema,
  agg: aggSchema,
  groupBy: seriesGroupBySchema,
  fields: z.array(historyFieldSchema),
  /** `fleet-rollups`: groups read from the per-model fleet rollups; `chips`: from each chip. */
  source: z.enum(['chips', 'fleet-rollups']),
  series: z.array(seriesColumnSchema),
  data: z
    .array(z.array(z.number().nullable()))
    .describe('data[0]: bucket starts (ms); then one column per series entry, null for empty buckets.'),
});
export type SeriesAnswer = z.infer<typeof seriesAnswerSchema>;

// ---------- GET /api/v1/energy ----------

const energyFigures = {
  /** Chips in the row. */
  chips: count,
  energyKWh: figure,
  avgPowerW: figure,
  avgUtilPct: figure,
  chipHours: z.number(),
  energyCost: figure,
  chipHourCost: figure,
  cost: figure,
  costPerUtilizedChipHour: figure,
};
export const energyFiguresSchema = z.strictObject(energyFigures);
export const energyRowSchema = z.strictObject({ label: z.string(), ...groupTags, ...energyFigures });
export type EnergyFigures = z.infer<typeof energyFiguresSchema>;
export type EnergyRow = z.infer<typeof energyRowSchema>;

export const energyAnswerSchema = z.strictObject({
  from: ms,
  to: ms,
  tier: tierSchema,
  /** What the tier's buckets cover: [from, to) widened to whole buckets. */
  coveredFrom: ms,
  coveredTo: ms,
  groupBy: energyGroupBySchema,
  /** The prices the costs were computed with (kwh null: none configured). */
  prices: z.strictObject({ kwh: z.number().nullable(), chipHour: z.record(z.string(), z.number()) }),
  rows: z.array(energyRowSchema),
  totals: energyFiguresSchema,
});
export type EnergyAnswer = z.infer<typeof energyAnswerSchema>;

// ---------- GET /api/v1/top ----------

export const topEntrySchema = z.strictObject({ chipId: z.string(), host: z.string(), model: z.string(), vendor: z.string(), value: z.number() });
export type TopEntry = z.infer<typeof topEntrySchema>;

export const topAnswerSchema = z.strictObject({
  from: ms,
  to: ms,
  tier: tierSchema,
  coveredFrom: ms,
  coveredTo: ms,
  field: historyFieldSchema,
  agg: aggSchema,
  order: z.enum(['asc', 'desc']),
  k: count,
  chips: z.array(topEntrySchema),
});
export type TopAnswer = z.infer<typeof topAnswerSchema>;
