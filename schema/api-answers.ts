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
import { alertRuleSchema, builtinOverrideSchema, SEVERITIES } from './alert-rules.ts';
import { ERROR_CODES, type ErrorCode } from './error-codes.ts';
import { HISTORY_FIELDS } from './history-fields.ts';
import { sourceHealthSchema } from './protocol.ts';
import { chipInfoSchema, sampleSchema } from './sample.ts';
import { MATCH_OPS, RECEIVER_KINDS } from './alert-notify.ts';

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

/** GET /readyz (200 ready, 503 not_ready): each check `ok` or its reason; the failed ones as `name: reason`. */
export const readinessAnswerSchema = z.strictObject({
  status: z.enum(['ready', 'not_ready']),
  checks: z.record(z.string(), z.string()),
  reasons: z.array(z.string()),
});
export type ReadinessAnswer = z.infer<typeof readinessAnswerSchema>;

// ---------- GET /api/v1/chips, /api/v1/chips/:chipId/samples ----------

/** A chip as the fleet view sees it: inventory + host + derived status + latest sample (schema/protocol.ts ChipView). */
export const chipViewSchema = chipInfoSchema.extend({
  host: z.string(),
  instanceType: z.string().nullable(),
  agentId: z.string(),
  status: z.enum(['live', 'stale', 'offline']),
  latest: sampleSchema.nullable(),
  /** The job running on the chip now (work counters or the agent's job labels); absent: none known. */
  job: z.string().optional(),
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

// ---------- GET /api/v1/efficiency ----------

export const efficiencyGroupBySchema = z.enum(['job', 'model', 'vendor', 'host', 'chip']);

/**
 * One group's work in one unit over the range, and what it cost. Energy, chip-hours and power are
 * those of the group's chips while they did this work (a chip counts from a job's first report on it
 * to its last within the range); units are split evenly across the chips a report names.
 */
export const efficiencyRowSchema = z.strictObject({
  label: z.string(),
  job: z.string().optional(),
  ...groupTags,
  unit: z.string(),
  /** Work done in the range (counter increments). */
  units: z.number(),
  chips: count,
  jobs: count,
  /** Joules used by those chips while they worked (null: no energy readings). */
  energyJ: figure,
  jPerUnit: figure,
  chipHours: z.number(),
  unitsPerChipHour: figure,
  /** Mean power of those chips while they worked. */
  avgPowerW: figure,
  avgUtilPct: figure,
  /** Some of the power (hence energy) is estimated (Neuron). */
  powerEstimated: z.boolean(),
  /** Energy cost + chip-hour cost (null: a price is missing). */
  cost: figure,
  costPerMillionUnits: figure,
});
export type EfficiencyRow = z.infer<typeof efficiencyRowSchema>;

export const efficiencyAnswerSchema = z.strictObject({
  from: ms,
  to: ms,
  /** Tier the work increments were read from (energy: the tier /energy would use for each span). */
  tier: tierSchema,
  groupBy: efficiencyGroupBySchema,
  prices: z.strictObject({ kwh: z.number().nullable(), chipHour: z.record(z.string(), z.number()) }),
  rows: z.array(efficiencyRowSchema),
});
export type EfficiencyAnswer = z.infer<typeof efficiencyAnswerSchema>;

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

// ---------- /api/v1/alerts ----------

export const alertPhaseSchema = z.enum(['inactive', 'pending', 'firing', 'resolved']);
const alertLabelsSchema = z.record(z.string(), z.string());

/**
 * One change of phase of one (rule, chip) alert: what /ws/live `alert` frames carry, the notifier
 * receives (server/alerts/alert-events.ts AlertEvent) and the history stores.
 */
export const alertEventSchema = z.strictObject({
  ruleId: z.string(),
  chipId: z.string(),
  from: alertPhaseSchema,
  to: alertPhaseSchema,
  /** When it happened. */
  at: ms,
  /** The value that caused it (null: unknown). */
  value: figure,
  severity: z.enum(SEVERITIES),
  /** Fixed when the alert went pending: alertname, rule, severity, chip, host, vendor, model, the rule's labels. */
  labels: alertLabelsSchema,
  /** summary (and description) rendered from the rule's templates with this event's value. */
  annotations: alertLabelsSchema,
  /** Alertmanager's fingerprint of the labels (16 hex digits). */
  fingerprint: z.string(),
  /** When the breach began. */
  startsAt: ms,
  /** When it resolved (to: resolved), else null. */
  endsAt: ms.nullable(),
});
export type AlertEventAnswer = z.infer<typeof alertEventSchema>;

/** An alert that is not inactive (GET /api/v1/alerts, the /ws/live `alerts-snapshot`). */
export const activeAlertSchema = z.strictObject({
  ruleId: z.string(),
  chipId: z.string(),
  phase: z.enum(['pending', 'firing', 'resolved']),
  severity: z.enum(SEVERITIES),
  labels: alertLabelsSchema,
  annotations: alertLabelsSchema,
  fingerprint: z.string(),
  /** When the breach began. */
  startsAt: ms,
  /** When it fired (null while pending). */
  firedAt: ms.nullable(),
  /** The latest observed value (null: unknown). */
  value: figure,
});
export type ActiveAlert = z.infer<typeof activeAlertSchema>;

export const alertsAnswerSchema = z.strictObject({ alerts: z.array(activeAlertSchema) });
export type AlertsAnswer = z.infer<typeof alertsAnswerSchema>;

export const alertHistoryAnswerSchema = z.strictObject({
  from: ms,
  to: ms,
  limit: count,
  /** More events matched than `limit`: ask again with `to` = the last event's `at`. */
  truncated: z.boolean(),
  /** Newest first. */
  events: z.array(alertEventSchema.extend({ id: count })),
});
export type AlertHistoryAnswer = z.infer<typeof alertHistoryAnswerSchema>;

/**
 * A rule as in force: `source` builtin (shipped; adjusted by the rules file and the API), api, or
 * file (`hub --rules`; read-only through the API). `override`: the API's override of a built-in.
 */
export const alertRuleViewSchema = z.strictObject({
  source: z.enum(['builtin', 'api', 'file']),
  rule: alertRuleSchema,
  override: builtinOverrideSchema.nullable(),
});
export type AlertRuleView = z.infer<typeof alertRuleViewSchema>;

export const alertRulesAnswerSchema = z.strictObject({ rules: z.array(alertRuleViewSchema) });
export type AlertRulesAnswer = z.infer<typeof alertRulesAnswerSchema>;

// ---------- /api/v1/alerts/receivers, /silences, /dead-letters (the notifier) ----------

export const matcherAnswerSchema = z.strictObject({ name: z.string(), op: z.enum(MATCH_OPS), value: z.string() });

/** A receiver as the API shows it: never its secret, and a URL with its query (and a Slack URL's path) hidden. */
export const receiverAnswerSchema = z.strictObject({
  name: z.string(),
  kind: z.enum(RECEIVER_KINDS),
  url: z.string().describe('The URL with its query string, and a Slack webhook\'s path, replaced by …'),
  hasSecret: z.boolean(),
  matchers: z.array(matcherAnswerSchema),
  groupBy: z.array(z.string()),
  groupWait: z.string(),
  repeatInterval: z.string(),
  rateLimit: z.strictObject({ count: count, per: z.string() }),
  sendResolved: z.boolean(),
  /** Who manages it: the API, the rules file, or `fleetscope hub --webhook`. */
  source: z.enum(['api', 'file', 'flag']),
  updatedAt: ms,
});
export type ReceiverAnswer = z.infer<typeof receiverAnswerSchema>;
export const receiversAnswerSchema = z.strictObject({ receivers: z.array(receiverAnswerSchema) });
export type ReceiversAnswer = z.infer<typeof receiversAnswerSchema>;

export const silenceAnswerSchema = z.strictObject({
  id: z.string(),
  matchers: z.array(matcherAnswerSchema),
  comment: z.string(),
  createdBy: z.string(),
  startsAt: ms,
  endsAt: ms,
  state: z.enum(['pending', 'active', 'expired']),
});
export type SilenceAnswer = z.infer<typeof silenceAnswerSchema>;
export const silencesAnswerSchema = z.strictObject({ silences: z.array(silenceAnswerSchema) });
export type SilencesAnswer = z.infer<typeof silencesAnswerSchema>;

/** A notification of the outbox. */
export const outboxEntrySchema = z.strictObject({
  id: count,
  receiver: z.string(),
  idempotencyKey: z.string(),
  status: z.enum(['pending', 'done', 'dead']),
  createdAt: ms,
  attempts: count,
  /** pending: when it is due; done, dead: when it ended. */
  nextAt: ms,
  lastError: z.string().nullable(),
  /** The request body (JSON) as it is sent. */
  payload: z.unknown(),
});
export type OutboxEntry = z.infer<typeof outboxEntrySchema>;
export const deadLettersAnswerSchema = z.strictObject({ deadLetters: z.array(outboxEntrySchema) });
export type DeadLettersAnswer = z.infer<typeof deadLettersAnswerSchema>;

// ---------- GET /api/v1/chips/:chipId/events ----------

/** One connection event of the agent that owns the chip: its /ws/agent connection accepted or ended. */
export const agentEventAnswerSchema = z.strictObject({
  ts: ms,
  kind: z.enum(['connected', 'disconnected']),
  /** Why a connection ended: `replaced` (by a newer connection of the agent), `hub-stopped`; absent otherwise. */
  detail: z.string().optional(),
});
export type AgentEventAnswer = z.infer<typeof agentEventAnswerSchema>;
export const chipEventsAnswerSchema = z.strictObject({
  chipId: z.string(),
  /** The agent that owns the chip now (whose events these are). */
  agentId: z.string(),
  from: ms,
  to: ms,
  /** Ascending by ts (ties in the order recorded). */
  events: z.array(agentEventAnswerSchema),
  /** Present (true) when more events matched than one answer holds (10,000): ask again from the last ts. */
  truncated: z.literal(true).optional(),
});
export type ChipEventsAnswer = z.infer<typeof chipEventsAnswerSchema>;
