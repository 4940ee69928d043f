/**
 * Wire protocol v1: agent <-> hub on /ws/agent and browser <-> hub on /ws/live.
 * Every frame is one JSON object `{ v: PROTOCOL_VERSION, type, ... }`, validated with zod at the
 * socket boundary.
 */
import { z } from 'zod';
import { chipIdSchema, chipInfoSchema, hostInfoSchema, sampleSchema } from './sample.ts';
import type { ChipInfo, ChipStatus, Sample } from './sample.ts';
import type { ErrorCode } from './error-codes.ts';
import type { ActiveAlert, AlertEventAnswer } from './api-answers.ts';
import { MAX_BATCH_SAMPLES, PROTOCOL_VERSION } from './protocol-constants.ts';
import { MAX_WORK_PER_BATCH, workReportSchema } from './work.ts';

export { LIVE_WINDOW_MS, MAX_BATCH_SAMPLES, PROTOCOL_VERSION } from './protocol-constants.ts';
/** Largest agent frame the hub accepts (bytes); bigger frames close with 1009. */
export const MAX_AGENT_FRAME_BYTES = 4 * 1024 * 1024;
/** Largest number of chips one agent may announce. */
export const MAX_CHIPS_PER_AGENT = 1024;
const TOO_MANY_CHIPS = `at most ${MAX_CHIPS_PER_AGENT} chips per agent; split the host's chips across several agents`;

const v = z.literal(PROTOCOL_VERSION);

// ---------- agent -> hub ----------
export const helloSchema = z
  .object({
    v,
    type: z.literal('hello'),
    agentId: z.string().min(1).max(128).regex(/^[A-Za-z0-9._:-]+$/),
    agentVersion: z.string().max(64),
    host: hostInfoSchema,
    /** Sampling interval; the hub marks chips stale after 3 missed intervals. */
    intervalMs: z.number().int().min(10).max(3_600_000),
    chips: z.array(chipInfoSchema).min(1).max(MAX_CHIPS_PER_AGENT, TOO_MANY_CHIPS),
  })
  .strict();

/** Health of one agent source, reported to the hub with every batch. */
export const sourceHealthSchema = z
  .object({
    /** The source's --source kind, e.g. `nvidia-smi`. */
    kind: z.string().min(1).max(64),
    /** ok: producing; starting: not yet produced; restarting: child exited, restart pending; failed: gave up or cannot start. */
    state: z.enum(['ok', 'starting', 'restarting', 'failed']),
    /** Child restarts since the agent started. */
    restarts: z.number().int().min(0),
    /** Lines/records skipped because they could not be parsed. */
    parseErrors: z.number().int().min(0),
    /** Last error seen, for people. */
    lastError: z.string().max(1000).nullable(),
  })
  .strict();

const countsSchema = z.object({ batches: z.number().int().min(0), samples: z.number().int().min(0) }).strict();

export const batchSchema = z
  .object({
    v,
    type: z.literal('batch'),
    /** Per-agent sequence number, increasing by one per batch. */
    seq: z.number().int().min(0),
    samples: z.array(sampleSchema).min(1).max(MAX_BATCH_SAMPLES),
    /** The batch was produced a while ago (spooled during an outage): stored, flagged, not pushed live. */
    backfill: z.boolean().optional(),
    /** Health of each of the agent's sources. */
    health: z.array(sourceHealthSchema).max(32).optional(),
    /** Batches the agent's spool had to drop so far (it was full). */
    dropped: countsSchema.optional(),
    /** Work counters and job attribution gathered since the previous batch (schema/work.ts). */
    work: z.array(workReportSchema).max(MAX_WORK_PER_BATCH).optional(),
  })
  .strict();

/** The agent's chip inventory changed (a GPU appeared or disappeared). */
export const inventorySchema = z
  .object({
    v,
    type: z.literal('inventory'),
    chips: z.array(chipInfoSchema).min(1).max(MAX_CHIPS_PER_AGENT, TOO_MANY_CHIPS),
  })
  .strict();

export const agentMessageSchema = z.discriminatedUnion('type', [helloSchema, batchSchema, inventorySchema]);
export type HelloMessage = z.infer<typeof helloSchema>;
export type BatchMessage = z.infer<typeof batchSchema>;
export type InventoryUpdateMessage = z.infer<typeof inventorySchema>;
/** Health of one agent source (what `ChipSource.health()` gives and a batch's `health` carries). */
export type SourceHealth = z.infer<typeof sourceHealthSchema>;
/** The same type under the name the hub uses for the reports it receives. */
export type SourceHealthReport = SourceHealth;
export type AgentMessage = z.infer<typeof agentMessageSchema>;

// ---------- hub -> agent ----------
export interface WelcomeMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'welcome';
  hubVersion: string;
  maxBatchSamples: number;
  /**
   * What the hub takes beyond the first protocol: `work` (a batch's `work` field). An agent sends
   * work only to a hub that lists it (an older hub refuses such batches whole).
   */
  features?: string[];
}
export interface AckMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'ack';
  seq: number;
  /** Samples newly stored (duplicates of already-stored samples are not counted). */
  stored: number;
}
export interface ErrorMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'error';
  code: ErrorCode;
  message: string;
  /** The batch this error refers to, when it refers to one. */
  seq?: number;
  /** `chip_owned`: the chips of the hello or inventory that another agent owns (left out of it). */
  chipIds?: string[];
}
export type HubToAgentMessage = WelcomeMessage | AckMessage | ErrorMessage;

// ---------- browser -> hub ----------
/**
 * Live topics: `fleet` (snapshot, then coalesced `fleet-update` frames, status and inventory),
 * `chip` (one chip's recent history, then its full samples), `samples` (the firehose: every
 * committed live sample in full, for scripts and tests) and `alerts` (an `alerts-snapshot` of the
 * alerts that are not inactive, then an `alert` frame for each pass of the engine that changed any),
 * and `summary` (the fleet's counts, about once a second: `SummaryMessage`).
 */
/**
 * What a `fleet` (or `alerts`) subscription asks for: only the chips matching every given field
 * (each a list: any of its values; `host` a case-insensitive substring of the host name;
 * `hostExact` whole host names, exact; `chipId` chip ids, exact). Absent: every chip.
 */
export const fleetFilterSchema = z
  .object({
    vendor: z.array(z.string().min(1).max(64)).max(16).optional(),
    model: z.array(z.string().min(1).max(64)).max(64).optional(),
    instanceType: z.array(z.string().min(1).max(64)).max(64).optional(),
    host: z.string().max(253).optional(),
    /** Only the chips of these hosts (exact names; a host view). */
    hostExact: z.array(z.string().min(1).max(253)).max(64).optional(),
    /** Only these chips (a chip view). */
    chipId: z.array(chipIdSchema).max(64).optional(),
  })
  .strict();
export type FleetFilter = z.infer<typeof fleetFilterSchema>;

const topicSchema = z.discriminatedUnion('topic', [
  /**
   * `filter`: only matching chips in the snapshot, inventory, status and updates. `compact`: updates
   * come as `fleet-columns` frames (chips by slot, rounded values) and the snapshot and inventory
   * frames carry each chip's slot; without it, `fleet-update` frames as before.
   */
  z.object({ topic: z.literal('fleet'), filter: fleetFilterSchema.optional(), compact: z.literal(true).optional() }).strict(),
  z.object({ topic: z.literal('chip'), chipId: chipIdSchema }).strict(),
  z.object({ topic: z.literal('samples') }).strict(),
  /**
   * `filter` (the fleet topic's shape): only the alerts of matching chips in the snapshot and the
   * `alert` frames. Without it, every chip's (as before). One `alerts` subscription per socket: a
   * new subscribe replaces the filter (and brings a new snapshot).
   */
  z.object({ topic: z.literal('alerts'), filter: fleetFilterSchema.optional() }).strict(),
]);
/**
 * `summary`: the whole fleet's counts (`SummaryMessage`) at once, then about once a second — what
 * a dashboard's header needs without subscribing to every chip. Kept apart from `LiveTopic` (the
 * topics whose frames client/src/live-routing.ts routes); `LiveSubscription` is either.
 */
export const summaryTopicSchema = z.object({ topic: z.literal('summary') }).strict();
const subscriptionSchema = z.discriminatedUnion('topic', [...topicSchema.options, summaryTopicSchema]);
export const liveClientMessageSchema = z.discriminatedUnion('type', [
  z.object({ v, type: z.literal('subscribe'), sub: subscriptionSchema }).strict(),
  z.object({ v, type: z.literal('unsubscribe'), sub: subscriptionSchema }).strict(),
]);
export type LiveClientMessage = z.infer<typeof liveClientMessageSchema>;
export type LiveTopic = z.infer<typeof topicSchema>;
export type SummaryTopic = z.infer<typeof summaryTopicSchema>;
/** Anything a /ws/live client may subscribe to. */
export type LiveSubscription = LiveTopic | SummaryTopic;

// ---------- hub -> browser ----------
/** A chip as the fleet view sees it: inventory + host + derived status + latest sample. */
export interface ChipView extends ChipInfo {
  host: string;
  instanceType: string | null;
  agentId: string;
  status: ChipStatus;
  latest: Sample | null;
  /** The job running on the chip now (work counters or the agent's job labels); absent: none known. */
  job?: string;
}
export interface FleetSnapshotMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'fleet-snapshot';
  chips: ChipView[];
  /** Compact subscriptions: the slot of `chips[i]` (what `fleet-columns` frames name it by). */
  slots?: number[];
}
/** New or changed chips (an agent said hello). */
export interface InventoryMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'inventory';
  chips: ChipView[];
  /** Compact subscriptions: the slot of `chips[i]`. */
  slots?: number[];
}
/** Full samples: a chip subscription's samples of that chip, or the `samples` firehose. */
export interface SamplesMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'samples';
  /** Hub clock when the frame was built: `performance.timeOrigin + performance.now()` (ms, sub-ms fraction). */
  sentAt?: number;
  samples: Sample[];
}
/**
 * The fleet overview's live feed: per hub tick, the latest values of the chips that changed,
 * in columns (index i of every array is one chip). Only what the grid tiles show is carried;
 * nulls stay null. A chip appears at most once per frame (its newest sample of the tick).
 */
export interface FleetUpdateMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'fleet-update';
  /** Hub clock when the frame was built: `performance.timeOrigin + performance.now()` (ms, sub-ms fraction). */
  sentAt: number;
  chipIds: string[];
  ts: number[];
  utilPct: (number | null)[];
  powerW: (number | null)[];
  tempC: (number | null)[];
  memUsedBytes: (number | null)[];
  /** Sample flags as a bitmask (`SAMPLE_FLAG_BITS` of schema/sample-flags.ts: `flagsToBits` / `bitsToFlags`); 0 = none. */
  flags: number[];
}
/**
 * The compact form of `fleet-update` (fleet subscriptions with `compact: true`): per hub tick, the
 * chips that changed by slot (a number the hub gave the chip in the snapshot or inventory, stable
 * while the hub runs), sample times as offsets from `t0`, utilization, power and temperature to
 * 0.1, memory used in whole MiB. Nulls stay null. About 30 bytes per chip instead of about 80.
 */
export interface FleetColumnsMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'fleet-columns';
  sentAt: number;
  /** Base of the `dt` offsets, ms since epoch. */
  t0: number;
  slot: number[];
  /** Sample time − t0, ms. */
  dt: number[];
  utilPct: (number | null)[];
  powerW: (number | null)[];
  tempC: (number | null)[];
  memUsedMiB: (number | null)[];
  flags: number[];
}
export interface ChipHistoryMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'chip-history';
  chipId: string;
  samples: Sample[];
}
export interface StatusMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'status';
  changes: { chipId: string; status: ChipStatus }[];
}
/** Alert transitions, in the order they happened (server/alerts/alert-events.ts AlertEvent). */
export interface AlertMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'alert';
  events: AlertEventAnswer[];
}
/** The alerts that are not inactive, on subscribing to `alerts` (as GET /api/v1/alerts answers). */
export interface AlertsSnapshotMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'alerts-snapshot';
  alerts: ActiveAlert[];
}
/** A live chip under this utilization (%) that draws power is "idle but powered" (as the dashboard marks it). */
export const SUMMARY_IDLE_UTIL_PCT = 5;
/** Alerts of one phase by severity. */
export interface SeverityCounts {
  critical: number;
  warning: number;
  info: number;
}
/**
 * The `summary` topic: the whole fleet at a glance, computed once per hub tick (about once a
 * second) for every subscriber, from the hub's fleet state (other hubs' chips included with a live
 * bus) and its alert engine. Power and utilization count live chips only, with their newest sample.
 */
export interface SummaryMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'summary';
  /** Hub clock when it was computed, ms since epoch. */
  at: number;
  /** Chips known, and by status. */
  chips: { total: number; live: number; stale: number; offline: number };
  /** Sum of the live chips' power, W. */
  powerW: number;
  /** Mean utilization of the live chips that report it, % (null when none does). */
  avgUtilPct: number | null;
  /** Live chips under SUMMARY_IDLE_UTIL_PCT utilization that draw power, and that power (W). */
  idlePowered: number;
  idlePowerW: number;
  /** Alerts (as GET /api/v1/alerts lists them) firing and pending, by severity. */
  alerts: { firing: SeverityCounts; pending: SeverityCounts };
}
export type LiveServerMessage =
  | SummaryMessage
  | FleetSnapshotMessage
  | AlertMessage
  | AlertsSnapshotMessage
  | InventoryMessage
  | SamplesMessage
  | FleetUpdateMessage
  | FleetColumnsMessage
  | ChipHistoryMessage
  | StatusMessage
  | ErrorMessage;
