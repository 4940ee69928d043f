/**
 * Pure protocol validation: raw frame text -> typed message or a stable error code.
 * No I/O; `now` is passed in so the result is deterministic.
 */
import type { z } from 'zod';
import { PROTOCOL_VERSION, agentMessageSchema, liveClientMessageSchema } from './protocol.ts';
import type { AgentMessage, BatchMessage, LiveClientMessage } from './protocol.ts';
import { MAX_FUTURE_SKEW_MS } from './sample.ts';
import { isPassThroughBatchFast } from './fast-batch-check.ts';
import type { ErrorCode } from './error-codes.ts';

/** `verbatim`: the message is exactly the frame's JSON, passed by the fast check without zod. */
export type ParseResult<T> = { ok: true; msg: T; verbatim?: boolean } | { ok: false; code: ErrorCode; message: string };

function fail(code: ErrorCode, message: string): { ok: false; code: ErrorCode; message: string } {
  return { ok: false, code, message };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length ? issue.path.join('.') : '(frame)';
  return `${where}: ${issue.message}`;
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

function validate<T>(schema: z.ZodType<T>, data: unknown): ParseResult<T> {
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const numeric = (issue.code === 'too_big' || issue.code === 'too_small') && issue.origin === 'number';
    return fail(numeric ? 'out_of_range' : 'bad_frame', describeIssue(issue));
  }
  return { ok: true, msg: parsed.data };
}

const AGENT_TYPES = ['hello', 'batch', 'inventory'] as const;
const LIVE_TYPES = ['subscribe', 'unsubscribe'] as const;

/** Validate one agent frame. Also rejects sample timestamps too far in the future. */
export function parseAgentFrame(raw: string, now: number): ParseResult<AgentMessage> {
  const dec = decode(AGENT_TYPES, raw);
  if (!dec.ok) return dec;
  // Fast path for the hot frame: a batch the hand-written check passes (future-ts rule included) is
  // returned as parsed, without zod. Anything else goes through zod, which produces the error code and
  // message exactly as before.
  if (dec.rec.type === 'batch' && isPassThroughBatchFast(dec.rec, now)) {
    return { ok: true, msg: dec.rec as BatchMessage, verbatim: true };
  }
  const res = validate(agentMessageSchema, dec.rec);
  if (res.ok && res.msg.type === 'batch') {
    const limit = now + MAX_FUTURE_SKEW_MS;
    const bad = res.msg.samples.findIndex((s) => s.ts > limit);
    if (bad >= 0) {
      return fail('out_of_range', `samples.${bad}.ts: timestamp is more than ${MAX_FUTURE_SKEW_MS / 60_000} minutes in the future`);
    }
  }
  return res;
}

/** Validate one browser frame on /ws/live. */
export function parseLiveFrame(raw: string): ParseResult<LiveClientMessage> {
  const dec = decode(LIVE_TYPES, raw);
  return dec.ok ? validate(liveClientMessageSchema, dec.rec) : dec;
}
