/**
 * Pure protocol validation: raw frame text -> typed message or a stable error code.
 * No I/O; `now` is passed in so the result is deterministic.
 */
import { z } from 'zod';
import { MAX_BATCH_SAMPLES, PROTOCOL_VERSION, agentMessageSchema, liveClientMessageSchema } from './protocol.ts';
import type { AgentMessage, BatchMessage, LiveClientMessage } from './protocol.ts';
import { timeWindowProblem, type TimeWindow } from './time-window.ts';
import { firstInvalidSample, isPassThroughBatchFast } from './fast-batch-check.ts';
import { MAX_EXTRAS_KEYS, type Sample } from './sample.ts';
import { firstObjectOverKeys } from './frame-scan.ts';
import { decodeBatchFrame, type ChipIdCache } from './batch-frame.ts';
import type { ErrorCode } from './error-codes.ts';

/** `verbatim`: the message is exactly the frame's JSON, passed by the fast check without zod. */
export type ParseResult<T> = { ok: true; msg: T; verbatim?: boolean } | { ok: false; code: ErrorCode; message: string };

function fail(code: ErrorCode, message: string): { ok: false; code: ErrorCode; message: string } {
  return { ok: false, code, message };
}


type Decoded = { ok: true; rec: Record<string, unknown> } | { ok: false; code: ErrorCode; message: string };

/** JSON, object, version and type checks shared by every frame. */
function decode(knownTypes: readonly string[], raw: string): Decoded {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return fail('bad_json', 'frame is not valid JSON');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return fail('bad_frame', 'frame must be a JSON object');
  }
  const rec = data as Record<string, unknown>;
  if (rec.v !== PROTOCOL_VERSION) {
    return fail('unsupported_version', `protocol version ${JSON.stringify(rec.v)} is not supported (expected ${PROTOCOL_VERSION})`);
  }
  if (typeof rec.type !== 'string' || !knownTypes.includes(rec.type)) {
    return fail('unknown_type', `unknown message type ${JSON.stringify(rec.type)}; expected one of ${knownTypes.join(', ')}`);
  }
  return { ok: true, rec };
}

/** The refusal for zod's first issue; `path`: where it is (the issue's own path unless told). */
function refusal(issue: z.core.$ZodIssue, path: readonly PropertyKey[] = issue.path): { ok: false; code: ErrorCode; message: string } {
  // Numbers out of bounds (integers past the safe range too), and too many items (chips, samples,
  // extras keys), are out of range.
  const numeric = (issue.code === 'too_big' || issue.code === 'too_small') && (issue.origin === 'number' || issue.origin === 'int');
  const tooMany = issue.code === 'too_big' && (issue.origin === 'array' || issue.origin === 'record');
  const where = path.length ? path.map(String).join('.') : '(frame)';
  return fail(numeric || tooMany ? 'out_of_range' : 'bad_frame', `${where}: ${issue.message}`);
}

function validate<T>(schema: z.ZodType<T>, data: unknown): ParseResult<T> {
  const parsed = schema.safeParse(data);
  return parsed.success ? { ok: true, msg: parsed.data } : refusal(parsed.error.issues[0]);
}

/** Keys of a batch that zod checks before `samples` (batchSchema's shape order). */
const BEFORE_SAMPLES: ReadonlySet<PropertyKey> = new Set(['v', 'type', 'seq']);
/** batchSchema's count checks on `samples`, without validating each sample. */
const samplesCount = z.array(z.unknown()).min(1).max(MAX_BATCH_SAMPLES);

/** A sample as zod outputs it: an `extras` key `__proto__` dropped (zod skips it). */
function zodOutputSample(s: Sample): Sample {
  const extras = s.extras;
  if (extras === undefined || !Object.prototype.hasOwnProperty.call(extras, '__proto__')) return s;
  const copy: Record<string, number> = {};
  for (const key of Object.keys(extras)) if (key !== '__proto__') copy[key] = extras[key];
  return { ...s, extras: copy };
}

/**
 * A batch the fast check did not pass, answered as zod would answer the whole frame (same result,
 * code and message) while zod only ever sees a frame of one sample: the first sample zod refuses
 * (found by the fast check), or the first one when all are valid. zod reports the first issue in
 * the order of the schema: keys before `samples`, then too many samples, then the samples in
 * order, then the keys after; so the first issue of the frame with only that sample is the
 * frame's, its index put back. A frame of 10,000 samples thus costs about what the fast check
 * does (zod on all of it took 70-120 ms, and 100,000 extras keys longer still).
 */
function slowBatch(rec: Record<string, unknown>): ParseResult<AgentMessage> {
  const samples = rec.samples;
  if (!Array.isArray(samples) || samples.length <= 1) return validate(agentMessageSchema, rec);
  const only = (s: unknown) => agentMessageSchema.safeParse({ ...rec, samples: [s] });
  const bad = firstInvalidSample(samples);
  if (samples.length > MAX_BATCH_SAMPLES) {
    // zod reports too many samples before any sample's own issue (after the keys before samples).
    const r = only(samples[Math.max(0, bad)]);
    if (!r.success && BEFORE_SAMPLES.has(r.error.issues[0].path[0]!)) return refusal(r.error.issues[0]);
    const count = samplesCount.safeParse(samples);
    if (!count.success) return refusal(count.error.issues[0], ['samples', ...count.error.issues[0].path]);
  }
  if (bad >= 0) {
    const r = only(samples[bad]);
    if (!r.success) {
      const issue = r.error.issues[0];
      return refusal(issue, issue.path[0] === 'samples' && issue.path.length > 1 ? ['samples', bad, ...issue.path.slice(2)] : issue.path);
    }
    return validate(agentMessageSchema, rec); // (the fast check and zod disagree: zod decides)
  }
  const r = only(samples[0]);
  if (!r.success) return refusal(r.error.issues[0]);
  // Every sample is valid: zod's output is the frame with its samples as they are (but __proto__ extras keys).
  return { ok: true, msg: { ...(r.data as BatchMessage), samples: (samples as Sample[]).map(zodOutputSample) } };
}

/** Agent frames longer than this are scanned for oversized objects before JSON.parse (frame-scan.ts). */
const SCAN_ABOVE_CHARS = 256 * 1024;
/** Keys one object of an agent frame may have before the frame is refused unparsed (the protocol's largest, extras, has 64). */
export const MAX_FRAME_OBJECT_KEYS = 1_000;

const AGENT_TYPES = ['hello', 'batch', 'inventory'] as const;
const LIVE_TYPES = ['subscribe', 'unsubscribe'] as const;

/**
 * Validate one agent frame. Also rejects (out_of_range) sample timestamps outside the time window
 * around `now` (time-window.ts: by default more than 5 s ahead).
 */
export function parseAgentFrame(raw: string, now: number, window?: TimeWindow): ParseResult<AgentMessage> {
  if (raw.length > SCAN_ABOVE_CHARS) {
    const where = firstObjectOverKeys(raw, MAX_FRAME_OBJECT_KEYS);
    if (where !== null) return fail('out_of_range', `${where}: an object of more than ${MAX_FRAME_OBJECT_KEYS} keys (no object of the protocol has more than ${MAX_EXTRAS_KEYS})`);
  }
  const dec = decode(AGENT_TYPES, raw);
  return dec.ok ? checkAgentRecord(dec.rec, now, window) : dec;
}

/**
 * Validate one binary agent frame (schema/batch-frame.ts): decoded to the object its JSON form
 * parses to, then checked exactly as that JSON frame is, with the same codes and messages
 * (`ids`: the connection's chip-id strings, reused).
 */
export function parseBinaryAgentFrame(buf: Uint8Array, now: number, window?: TimeWindow, ids?: ChipIdCache): ParseResult<AgentMessage> {
  const dec = decodeBatchFrame(buf, ids);
  return dec.ok ? checkAgentRecord(dec.rec, now, window) : dec;
}

/** An agent frame's object (version and type already checked) against the protocol and the time window. */
function checkAgentRecord(rec: Record<string, unknown>, now: number, window?: TimeWindow): ParseResult<AgentMessage> {
  // Fast path for the hot frame: a batch the hand-written check passes (future-ts rule included) is
  // returned as parsed, without zod. Anything else goes through zod, which produces the error code and
  // message exactly as before.
  if (rec.type === 'batch' && isPassThroughBatchFast(rec, now, window)) {
    return { ok: true, msg: rec as BatchMessage, verbatim: true };
  }
  const res = rec.type === 'batch' ? slowBatch(rec) : validate(agentMessageSchema, rec);
  if (res.ok && res.msg.type === 'batch') {
    const samples = res.msg.samples;
    for (let i = 0; i < samples.length; i++) {
      const problem = timeWindowProblem(samples[i].ts, now, window);
      if (problem !== null) return fail('out_of_range', `samples.${i}.ts: ${samples[i].ts} ${problem}`);
    }
  }
  return res;
}

/** Validate one browser frame on /ws/live. */
export function parseLiveFrame(raw: string): ParseResult<LiveClientMessage> {
  const dec = decode(LIVE_TYPES, raw);
  return dec.ok ? validate(liveClientMessageSchema, dec.rec) : dec;
}
