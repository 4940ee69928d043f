/**
 * The hand-written batch check must agree with zod exactly: `isValidBatchFast(f, now, window)` is
 * `batchSchema.safeParse(f).success && every sample ts inside windowBounds(now, window)`, for every input.
 * Table-driven cases per rule, then a seeded property test over mutated batches, and a check that
 * `parseAgentFrame` (which uses the fast path) answers exactly like the zod-only implementation did.
 */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { isPassThroughBatchFast, isValidBatchFast } from '../../schema/fast-batch-check.ts';
import { parseAgentFrame } from '../../schema/parse-frame.ts';
import { MAX_BATCH_SAMPLES, PROTOCOL_VERSION, agentMessageSchema, batchSchema } from '../../schema/protocol.ts';
import type { AgentMessage } from '../../schema/protocol.ts';
import { MIN_TS } from '../../schema/sample.ts';
import { DEFAULT_MAX_FUTURE_MS, timeWindowProblem, windowBounds, type TimeWindow } from '../../schema/time-window.ts';

const NOW = Date.UTC(2026, 10, 26, 12);
const SKEW_LIMIT = NOW + DEFAULT_MAX_FUTURE_MS;

type Rec = Record<string | symbol, unknown>;

/** The oracle: zod plus the time-window rule of parseAgentFrame. */
function oracle(frame: unknown, now: number, window?: TimeWindow): boolean {
  const r = batchSchema.safeParse(frame);
  if (!r.success) return false;
  const { lo, hi } = windowBounds(now, window);
  return !r.data.samples.some((s) => s.ts > hi || s.ts < lo);
}

/** parseAgentFrame as it was before the fast path (zod only), to compare results with. */
function referenceParseAgentFrame(raw: string, now: number) {
  const fail = (code: string, message: string) => ({ ok: false as const, code, message });
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return fail('bad_json', 'frame is not valid JSON');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return fail('bad_frame', 'frame must be a JSON object');
  const rec = data as Record<string, unknown>;
  const types = ['hello', 'batch', 'inventory'];
  if (rec.v !== PROTOCOL_VERSION) {
    return fail('unsupported_version', `protocol version ${JSON.stringify(rec.v)} is not supported (expected ${PROTOCOL_VERSION})`);
  }
  if (typeof rec.type !== 'string' || !types.includes(rec.type)) {
    return fail('unknown_type', `unknown message type ${JSON.stringify(rec.type)}; expected one of ${types.join(', ')}`);
  }
  const parsed = agentMessageSchema.safeParse(data);
  if (!parsed.success) {
    const issue: z.core.$ZodIssue = parsed.error.issues[0];
    const numeric = (issue.code === 'too_big' || issue.code === 'too_small') && (issue.origin === 'number' || issue.origin === 'int');
    const tooMany = issue.code === 'too_big' && (issue.origin === 'array' || issue.origin === 'record');
    const where = issue.path.length ? issue.path.join('.') : '(frame)';
    return fail(numeric || tooMany ? 'out_of_range' : 'bad_frame', `${where}: ${issue.message}`);
  }
  const msg: AgentMessage = parsed.data;
  if (msg.type === 'batch') {
    const bad = msg.samples.findIndex((s) => timeWindowProblem(s.ts, now) !== null);
    if (bad >= 0) {
      return fail('out_of_range', `samples.${bad}.ts: ${msg.samples[bad].ts} ${timeWindowProblem(msg.samples[bad].ts, now)}`);
    }
  }
  return { ok: true as const, msg };
}

// ---------- builders ----------
function manyKeys(n: number): Rec {
  const e: Rec = {};
  for (let i = 0; i < n; i++) e[`k${i}`] = i;
  return e;
}
function baseSample(i = 0): Rec {
  return {
    ts: NOW - 1000 - i,
    chipId: `GPU-0a1b2c3d-${i}`,
    utilPct: 97,
    memUtilPct: 40,
    memUsedBytes: 7e10,
    memTotalBytes: 8.5e10,
    powerW: 650.5,
    powerLimitW: 700,
    tempC: 61,
    energyJ: 123_456_789.25,
    smClockMhz: 1980,
    eccCorrected: 0,
    eccUncorrected: 0,
  };
}
function baseFrame(samples: Rec[] = [baseSample()]): Rec {
  return { v: 1, type: 'batch', seq: 7, samples };
}
/** Define an own, enumerable data property (works for `__proto__` and `constructor` too). */
function setOwn(o: object, key: string | symbol, value: unknown, enumerable = true): void {
  Object.defineProperty(o, key, { value, enumerable, writable: true, configurable: true });
}

type Case = [name: string, frame: unknown, expected: boolean];

function withSample(over: Rec | ((s: Rec) => void)): Rec {
  const s = baseSample();
  if (typeof over === 'function') over(s);
  else for (const k of Object.keys(over)) setOwn(s, k, over[k]);
  return baseFrame([s]);
}
function withFrame(over: Rec | ((f: Rec) => void)): Rec {
  const f = baseFrame();
  if (typeof over === 'function') over(f);
  else for (const k of Object.keys(over)) setOwn(f, k, over[k]);
  return f;
}
function without(obj: Rec, key: string): Rec {
  delete obj[key];
  return obj;
}
const health = (over: Rec = {}): Rec => ({ kind: 'nvidia-smi', state: 'ok', restarts: 0, parseErrors: 0, lastError: null, ...over });
const repeat = (n: number, mk: (i: number) => Rec): Rec[] => Array.from({ length: n }, (_, i) => mk(i));
class NotPlain {
  [k: string]: unknown;
}

const cases: Case[] = [
  // frame level
  ['minimal valid batch', baseFrame(), true],
  ['all optional frame fields', withFrame({ backfill: true, health: [health()], dropped: { batches: 1, samples: 16 } }), true],
  ['work reports', withFrame({ work: [{ ts: NOW, job: 'run-7', counters: { tokens: 5 }, chips: ['GPU-0'], labels: { team: 'a' } }, { ts: NOW, job: 'run-7', counters: {} }] }), true],
  ['work: a negative counter', withFrame({ work: [{ ts: NOW, job: 'run-7', counters: { tokens: -1 } }] }), false],
  ['work: a bad job id', withFrame({ work: [{ ts: NOW, job: 'a b', counters: {} }] }), false],
  ['work: not an array', withFrame({ work: { ts: NOW, job: 'j', counters: {} } }), false],
  ['work: 1,001 reports', withFrame({ work: Array.from({ length: 1001 }, () => ({ ts: NOW, job: 'j', counters: {} })) }), false],
  ['frame not an object (array)', [baseFrame()], false],
  ['frame null', null, false],
  ['frame string', 'batch', false],
  ['v missing', without(baseFrame(), 'v'), false],
  ['v = 2', withFrame({ v: 2 }), false],
  ['v = "1"', withFrame({ v: '1' }), false],
  ['type missing', without(baseFrame(), 'type'), false],
  ['type = hello', withFrame({ type: 'hello' }), false],
  ['unknown frame key', withFrame({ extra: 1 }), false],
  ['unknown frame key with undefined value', withFrame({ extra: undefined }), false],
  ['own __proto__ key on frame', withFrame((f) => setOwn(f, '__proto__', {})), false],
  ['frame key that is a symbol (ignored by strict objects)', withFrame((f) => setOwn(f, Symbol('x'), 1)), true],
  ['non-enumerable unknown frame key (ignored)', withFrame((f) => setOwn(f, 'junk', 1, false)), true],
  ['inherited enumerable unknown key', Object.assign(Object.create({ junk: 1 }), baseFrame()), false],
  ['inherited known key supplies the value', Object.assign(Object.create({ seq: 3 }), without(baseFrame(), 'seq')), true],
  ['frame with null prototype', Object.assign(Object.create(null), baseFrame()), true],
  // seq
  ['seq 0', withFrame({ seq: 0 }), true],
  ['seq -1', withFrame({ seq: -1 }), false],
  ['seq 1.5', withFrame({ seq: 1.5 }), false],
  ['seq MAX_SAFE_INTEGER', withFrame({ seq: Number.MAX_SAFE_INTEGER }), true],
  ['seq 2^53 (not a safe integer)', withFrame({ seq: 2 ** 53 }), false],
  ['seq 1e300', withFrame({ seq: 1e300 }), false],
  ['seq NaN', withFrame({ seq: NaN }), false],
  ['seq Infinity', withFrame({ seq: Infinity }), false],
  ['seq "1"', withFrame({ seq: '1' }), false],
  ['seq null', withFrame({ seq: null }), false],
  ['seq missing', without(baseFrame(), 'seq'), false],
  ['seq -0', withFrame({ seq: -0 }), true],
  // samples array
  ['samples empty', baseFrame([]), false],
  ['samples missing', without(baseFrame(), 'samples'), false],
  ['samples not an array', withFrame({ samples: { 0: baseSample() } }), false],
  ['samples at the limit', baseFrame(repeat(MAX_BATCH_SAMPLES, baseSample)), true],
  ['samples over the limit', baseFrame(repeat(MAX_BATCH_SAMPLES + 1, baseSample)), false],
  ['samples with a hole', withFrame((f) => ((f.samples as unknown[]).length = 2)), false],
  ['sample null', baseFrame([null as never]), false],
  ['sample array', baseFrame([[] as never]), false],
  // backfill
  ['backfill false', withFrame({ backfill: false }), true],
  ['backfill undefined', withFrame({ backfill: undefined }), true],
  ['backfill null', withFrame({ backfill: null }), false],
  ['backfill 1', withFrame({ backfill: 1 }), false],
  ['backfill "true"', withFrame({ backfill: 'true' }), false],
  // health
  ['health empty', withFrame({ health: [] }), true],
  ['health 32', withFrame({ health: repeat(32, () => health()) }), true],
  ['health 33', withFrame({ health: repeat(33, () => health()) }), false],
  ['health null', withFrame({ health: null }), false],
  ['health object', withFrame({ health: health() }), false],
  ['health all states', withFrame({ health: ['ok', 'starting', 'restarting', 'failed'].map((state) => health({ state })) }), true],
  ['health bad state', withFrame({ health: [health({ state: 'dead' })] }), false],
  ['health unknown key', withFrame({ health: [health({ pid: 4 })] }), false],
  ['health missing lastError', withFrame({ health: [without(health(), 'lastError')] }), false],
  ['health lastError string', withFrame({ health: [health({ lastError: 'boom' })] }), true],
  ['health lastError 1000 chars', withFrame({ health: [health({ lastError: 'e'.repeat(1000) })] }), true],
  ['health lastError 1001 chars', withFrame({ health: [health({ lastError: 'e'.repeat(1001) })] }), false],
  ['health lastError 1000 emoji (2000 UTF-16 units)', withFrame({ health: [health({ lastError: '😀'.repeat(1000) })] }), true],
  ['health lastError 1001 emoji', withFrame({ health: [health({ lastError: '😀'.repeat(1001) })] }), false],
  ['health kind empty', withFrame({ health: [health({ kind: '' })] }), false],
  ['health kind 64', withFrame({ health: [health({ kind: 'k'.repeat(64) })] }), true],
  ['health kind 65', withFrame({ health: [health({ kind: 'k'.repeat(65) })] }), false],
  ['health kind one lone surrogate', withFrame({ health: [health({ kind: '\uD800' })] }), true],
  ['health kind 65 lone high surrogates', withFrame({ health: [health({ kind: '\uD800'.repeat(65) })] }), false],
  ['health restarts -1', withFrame({ health: [health({ restarts: -1 })] }), false],
  ['health restarts 0.5', withFrame({ health: [health({ restarts: 0.5 })] }), false],
  ['health parseErrors huge safe int', withFrame({ health: [health({ parseErrors: 2 ** 53 - 1 })] }), true],
  ['health parseErrors 2^53', withFrame({ health: [health({ parseErrors: 2 ** 53 })] }), false],
  // dropped
  ['dropped zeros', withFrame({ dropped: { batches: 0, samples: 0 } }), true],
  ['dropped missing samples', withFrame({ dropped: { batches: 0 } }), false],
  ['dropped extra key', withFrame({ dropped: { batches: 0, samples: 0, bytes: 0 } }), false],
  ['dropped negative', withFrame({ dropped: { batches: -1, samples: 0 } }), false],
  ['dropped fractional', withFrame({ dropped: { batches: 0, samples: 0.1 } }), false],
  ['dropped null', withFrame({ dropped: null }), false],
  // sample: strictness, required, optional
  ['unknown sample key', withSample({ fanPct: 30 }), false],
  ['sample frame-level key', withSample({ backfill: true }), false],
  ['sample own __proto__ key', withSample((s) => setOwn(s, '__proto__', {})), false],
  ['sample with a symbol key (ignored)', withSample((s) => setOwn(s, Symbol('s'), 'x')), true],
  ['sample required field undefined', withSample({ tempC: undefined }), false],
  ['sample required field missing', withSample((s) => delete s.energyJ), false],
  ['sample optional fields missing', withSample((s) => (delete s.smClockMhz, delete s.eccCorrected, delete s.eccUncorrected)), true],
  ['sample optional fields null', withSample({ smClockMhz: null, eccCorrected: null, eccUncorrected: null }), true],
  ['sample optional field undefined', withSample({ smClockMhz: undefined }), true],
  ['sample all nullable fields null', withSample({ utilPct: null, memUtilPct: null, memUsedBytes: null, memTotalBytes: null, powerW: null, powerLimitW: null, tempC: null, energyJ: null }), true],
  ['sample is a Date with no fields', baseFrame([new Date() as never]), false],
  // ts
  ['ts MIN_TS', withSample({ ts: MIN_TS }), true],
  ['ts MIN_TS - 1', withSample({ ts: MIN_TS - 1 }), false],
  ['ts fractional', withSample({ ts: NOW - 0.5 }), false],
  ['ts string', withSample({ ts: String(NOW) }), false],
  ['ts null', withSample({ ts: null }), false],
  ['ts at the future limit', withSample({ ts: SKEW_LIMIT }), true],
  ['ts one ms past the future limit', withSample({ ts: SKEW_LIMIT + 1 }), false],
  ['ts 2^53 (future and unsafe)', withSample({ ts: 2 ** 53 }), false],
  // chipId
  ['chipId all allowed characters', withSample({ chipId: 'azAZ09._:-' }), true],
  ['chipId empty', withSample({ chipId: '' }), false],
  ['chipId 128', withSample({ chipId: 'c'.repeat(128) }), true],
  ['chipId 129', withSample({ chipId: 'c'.repeat(129) }), false],
  ['chipId slash', withSample({ chipId: 'GPU/0' }), false],
  ...['/', ';', '@', '[', '`', '{', ',', '~'].map((c): Case => [`chipId with ${c}`, withSample({ chipId: `GPU${c}0` }), false]),
  ['chipId space', withSample({ chipId: 'GPU 0' }), false],
  ['chipId trailing newline', withSample({ chipId: 'GPU0\n' }), false],
  ['chipId non-ASCII letter', withSample({ chipId: 'GPUé' }), false],
  ['chipId number', withSample({ chipId: 0 }), false],
  // numeric ranges
  ['utilPct 0', withSample({ utilPct: 0 }), true],
  ['utilPct 100', withSample({ utilPct: 100 }), true],
  ['utilPct 100.000001', withSample({ utilPct: 100.000001 }), false],
  ['utilPct -0', withSample({ utilPct: -0 }), true],
  ['utilPct -1e-9', withSample({ utilPct: -1e-9 }), false],
  ['utilPct NaN', withSample({ utilPct: NaN }), false],
  ['utilPct string', withSample({ utilPct: '50' }), false],
  ['memUtilPct 101', withSample({ memUtilPct: 101 }), false],
  ['memUsedBytes 2^50', withSample({ memUsedBytes: 2 ** 50 }), true],
  ['memUsedBytes 2^50 + 1', withSample({ memUsedBytes: 2 ** 50 + 1 }), false],
  ['memTotalBytes Infinity', withSample({ memTotalBytes: Infinity }), false],
  ['powerW 10000', withSample({ powerW: 10_000 }), true],
  ['powerW 10000.5', withSample({ powerW: 10_000.5 }), false],
  ['powerLimitW -1', withSample({ powerLimitW: -1 }), false],
  ['tempC -40', withSample({ tempC: -40 }), true],
  ['tempC -40.5', withSample({ tempC: -40.5 }), false],
  ['tempC 150', withSample({ tempC: 150 }), true],
  ['tempC 150.5', withSample({ tempC: 150.5 }), false],
  ['energyJ 1e15', withSample({ energyJ: 1e15 }), true],
  ['energyJ 1e15 + 1', withSample({ energyJ: 1e15 + 1 }), false],
  ['energyJ -Infinity', withSample({ energyJ: -Infinity }), false],
  ['smClockMhz 10001', withSample({ smClockMhz: 10_001 }), false],
  ['eccCorrected 1e15', withSample({ eccCorrected: 1e15 }), true],
  ['eccUncorrected -1', withSample({ eccUncorrected: -1 }), false],
  ['eccUncorrected "0"', withSample({ eccUncorrected: '0' }), false],
  // flags
  ['flags empty', withSample({ flags: {} }), true],
  ['flags all three', withSample({ flags: { powerEstimated: true, energyDerived: false, backfill: true } }), true],
  ['flags unknown key', withSample({ flags: { stale: true } }), false],
  ['flags non-boolean', withSample({ flags: { backfill: 1 } }), false],
  ['flags null', withSample({ flags: null }), false],
  ['flags array', withSample({ flags: [] }), false],
  ['flags key undefined', withSample({ flags: { backfill: undefined } }), true],
  // extras
  ['extras empty', withSample({ extras: {} }), true],
  ['extras numbers', withSample({ extras: { nc0: 97.5, nc1: 0, 'nc-2': -3e9 } }), true],
  ['extras key 64', withSample({ extras: { ['k'.repeat(64)]: 1 } }), true],
  ['extras key 65', withSample({ extras: { ['k'.repeat(65)]: 1 } }), false],
  ['extras key 64 emoji (128 units)', withSample({ extras: { ['😀'.repeat(64)]: 1 } }), true],
  ['extras key 65 emoji', withSample({ extras: { ['😀'.repeat(65)]: 1 } }), false],
  ['extras empty key', withSample({ extras: { '': 1 } }), true],
  ['extras numeric key', withSample({ extras: { 0: 1 } }), true],
  ['extras 65-digit numeric key', withSample({ extras: { ['9'.repeat(65)]: 1 } }), false],
  ['extras string value', withSample({ extras: { nc0: '1' } }), false],
  ['extras null value', withSample({ extras: { nc0: null } }), false],
  ['extras NaN value', withSample({ extras: { nc0: NaN } }), false],
  ['extras Infinity value', withSample({ extras: { nc0: Infinity } }), false],
  ['extras undefined value', withSample({ extras: { nc0: undefined } }), false],
  ['extras array', withSample({ extras: [1, 2] }), false],
  ['extras null', withSample({ extras: null }), false],
  ['extras __proto__ key with a string value (zod skips it)', withSample({ extras: JSON.parse('{"__proto__":"x","nc0":1}') }), true],
  ['extras constructor key', withSample({ extras: { constructor: 5 } }), true],
  ['extras null prototype', withSample({ extras: Object.assign(Object.create(null), { nc0: 1 }) }), true],
  ['extras class instance (not plain)', withSample({ extras: Object.assign(new NotPlain(), { nc0: 1 }) }), false],
  ['extras Date (not plain)', withSample({ extras: new Date() }), false],
  ['extras inherited bad value (zod checks own keys only)', withSample({ extras: Object.assign(Object.create({ bad: 'x' }), { nc0: 1 }) }), true],
  ['extras enumerable symbol key', withSample({ extras: { nc0: 1, [Symbol('s')]: 1 } }), false],
  ['extras non-enumerable symbol key', withSample({ extras: (() => { const e = { nc0: 1 }; setOwn(e, Symbol('s'), 1, false); return e; })() }), true],
  ['extras non-enumerable bad key (skipped)', withSample({ extras: (() => { const e = { nc0: 1 }; setOwn(e, 'x'.repeat(99), 'bad', false); return e; })() }), true],
  ['extras 64 keys', withSample({ extras: manyKeys(64) }), true],
  ['extras 65 keys', withSample({ extras: manyKeys(65) }), false],
  ['extras 10,000 keys', withSample({ extras: manyKeys(10_000) }), false],
  ['extras 64 keys and __proto__ (zod drops it: 64)', withSample({ extras: Object.assign(JSON.parse('{"__proto__":1}'), manyKeys(64)) }), true],
  ['extras 64 keys and a non-enumerable one', withSample({ extras: (() => { const e = manyKeys(64); setOwn(e, 'hidden', 1, false); return e; })() }), true],
  ['extras 64 own keys and an inherited one', withSample({ extras: Object.assign(Object.create({ inherited: 1 }), manyKeys(64)) }), true],
  // future rule vs now
  ['sample exactly now', withSample({ ts: NOW }), true],
  ['one of many samples in the future', baseFrame([baseSample(0), { ...baseSample(1), ts: SKEW_LIMIT + 5 }, baseSample(2)]), false],
];

describe('isValidBatchFast: the time window', () => {
  const W: TimeWindow = { maxFutureMs: 60_000, maxAgeMs: 3_600_000 };
  const at = (ts: number) => withSample({ ts });
  it.each([
    ['default window: 5 s ahead', at(NOW + 5_000), undefined, true],
    ['default window: 5 s + 1 ms ahead', at(NOW + 5_001), undefined, false],
    ['default window: a year old', at(NOW - 365 * 86_400_000), undefined, true],
    ['1 min ahead allowed: 1 min', at(NOW + 60_000), W, true],
    ['1 min ahead allowed: 1 min + 1 ms', at(NOW + 60_001), W, false],
    ['1 h old allowed: 1 h', at(NOW - 3_600_000), W, true],
    ['1 h old allowed: 1 h + 1 ms', at(NOW - 3_600_001), W, false],
    ['no future at all: now', at(NOW), { maxFutureMs: 0 }, true],
    ['no future at all: now + 1', at(NOW + 1), { maxFutureMs: 0 }, false],
    ['max age past 2000: MIN_TS still the bound', at(MIN_TS), { maxAgeMs: NOW }, true],
    ['max age past 2000: MIN_TS - 1', at(MIN_TS - 1), { maxAgeMs: NOW }, false],
  ] as const)('%s', (_name, frame, window, expected) => {
    expect(oracle(frame, NOW, window)).toBe(expected);
    expect(isValidBatchFast(frame, NOW, window)).toBe(expected);
    expect(isPassThroughBatchFast(JSON.parse(JSON.stringify(frame)), NOW, window)).toBe(expected);
    const res = parseAgentFrame(JSON.stringify(frame), NOW, window);
    expect(res.ok ? 'ok' : res.code).toBe(expected ? 'ok' : 'out_of_range');
  });

  it('names the sample, its timestamp and the bound in the message', () => {
    const ahead = parseAgentFrame(JSON.stringify(baseFrame([baseSample(0), { ...baseSample(1), ts: NOW + 6_000 }])), NOW);
    expect(ahead).toMatchObject({ ok: false, code: 'out_of_range' });
    expect(!ahead.ok && ahead.message).toBe(`samples.1.ts: ${NOW + 6_000} is 6 s ahead of the hub's clock; at most 5 s ahead is accepted (check the sender's clock)`);
    const old = parseAgentFrame(JSON.stringify(baseFrame([{ ...baseSample(0), ts: NOW - 49 * 3_600_000 }])), NOW, { maxAgeMs: 48 * 3_600_000 });
    expect(!old.ok && old.message).toBe(`samples.0.ts: ${NOW - 49 * 3_600_000} is 49 h old; the hub keeps raw samples 48 h and refuses older ones`);
  });

  it('more than 64 extras keys: out_of_range naming the field', () => {
    const res = parseAgentFrame(JSON.stringify(baseFrame([baseSample(0), { ...baseSample(1), extras: manyKeys(65) }])), NOW);
    expect(res).toEqual({ ok: false, code: 'out_of_range', message: 'samples.1.extras: at most 64 extras keys per sample, got 65' });
  });
});

describe('isValidBatchFast: one case per rule', () => {
  it.each(cases)('%s', (_name, frame, expected) => {
    // The expectation is written by hand, and zod must agree with it (so the table also documents zod).
    expect(oracle(frame, NOW)).toBe(expected);
    expect(isValidBatchFast(frame, NOW)).toBe(expected);
  });

  it('work with a __proto__ counter is valid but not passed through (zod drops the key)', () => {
    const frame = JSON.parse(JSON.stringify(baseFrame()).replace(/}$/, ',"work":[{"ts":' + NOW + ',"job":"j","counters":{"__proto__":1,"tokens":2}}]}'));
    expect(oracle(frame, NOW)).toBe(true);
    expect(isValidBatchFast(frame, NOW)).toBe(true);
    expect(isPassThroughBatchFast(frame, NOW)).toBe(false);
    const parsed = parseAgentFrame(JSON.stringify(frame), NOW);
    expect(parsed.ok && parsed.msg.type === 'batch' && parsed.msg.work?.[0].counters).toEqual({ tokens: 2 });
  });
});

// ---------- property test ----------
/** mulberry32 */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return Number.MIN_VALUE;
  const f = new Float64Array([x]);
  const b = new BigInt64Array(f.buffer);
  b[0] += x > 0 ? 1n : -1n;
  return f[0];
}
function nextDown(x: number): number {
  return -nextUp(-x);
}

const NUMERIC_BOUNDS: Record<string, [number, number]> = {
  utilPct: [0, 100],
  memUtilPct: [0, 100],
  memUsedBytes: [0, 2 ** 50],
  memTotalBytes: [0, 2 ** 50],
  powerW: [0, 10_000],
  powerLimitW: [0, 10_000],
  tempC: [-40, 150],
  energyJ: [0, 1e15],
  smClockMhz: [0, 10_000],
  eccCorrected: [0, 1e15],
  eccUncorrected: [0, 1e15],
  ts: [MIN_TS, SKEW_LIMIT],
  seq: [0, Number.MAX_SAFE_INTEGER],
  restarts: [0, Number.MAX_SAFE_INTEGER],
  parseErrors: [0, Number.MAX_SAFE_INTEGER],
  batches: [0, Number.MAX_SAFE_INTEGER],
  samples: [0, Number.MAX_SAFE_INTEGER],
};
const STRING_LIMITS: Record<string, number> = { chipId: 128, kind: 64, lastError: 1000 };

const KEY_POOL = [
  'v', 'type', 'seq', 'samples', 'backfill', 'health', 'dropped',
  'ts', 'chipId', 'utilPct', 'memUtilPct', 'memUsedBytes', 'memTotalBytes', 'powerW', 'powerLimitW', 'tempC', 'energyJ',
  'smClockMhz', 'eccCorrected', 'eccUncorrected', 'flags', 'extras',
  'powerEstimated', 'energyDerived', 'kind', 'state', 'restarts', 'parseErrors', 'lastError', 'batches',
  'fanPct', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '0', '', 'nc0', 'k'.repeat(64), 'k'.repeat(65),
];

function makeRng(seed: number) {
  const r = prng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const chance = (p: number) => r() < p;
  return { r, int, pick, chance };
}
type Rng = ReturnType<typeof makeRng>;

function randString(g: Rng, len: number): string {
  // allowed chipId characters, then their neighbours in ASCII (/ ; @ [ ` {) and non-ASCII
  const alphabets = ['azAZ09._:-', 'azAZ09._:-/;@[`{', 'abc/ é\n', '😀', '\uD800', '\uDC00a'];
  const alpha = g.pick(alphabets);
  let s = '';
  while (s.length < len) s += alpha[g.int(alpha.length)] ?? 'a';
  return s;
}

const ID_CHARS = 'azAZ09._:-';
const NEAR_ID_CHARS = '/;@[`{,~ é\n';
/** A string at a length limit (±1), in ASCII id characters, with one near-miss character, or in code points. */
function boundaryString(g: Rng, limit: number): string {
  const len = g.pick([0, 1, 2, limit - 1, limit, limit + 1]);
  let out = '';
  const kind = g.int(4);
  for (let i = 0; i < len; i++) out += kind === 2 ? '😀' : ID_CHARS[g.int(ID_CHARS.length)];
  if (kind === 1 && len > 0) {
    const at = g.int(len);
    out = out.slice(0, at) + NEAR_ID_CHARS[g.int(NEAR_ID_CHARS.length)] + out.slice(at + 1);
  }
  if (kind === 3) return randString(g, len);
  return out;
}

/** A value near a field's rules: bounds and their neighbours, wrong types, non-finite numbers. */
function interestingValue(g: Rng, key: string): unknown {
  const roll = g.int(10);
  const b = Object.hasOwn(NUMERIC_BOUNDS, key) ? NUMERIC_BOUNDS[key] : undefined;
  if (b && roll < 5) {
    const [lo, hi] = b;
    return g.pick([lo, hi, nextDown(lo), nextUp(hi), lo - 1, hi + 1, (lo + hi) / 2, Math.floor((lo + hi) / 2) + 0.5, -0, lo + 0.25]);
  }
  const sl = Object.hasOwn(STRING_LIMITS, key) ? STRING_LIMITS[key] : undefined;
  if (sl !== undefined && roll < 5) return boundaryString(g, sl);
  if (key === 'state' && roll < 5) return g.pick(['ok', 'starting', 'restarting', 'failed', 'OK', '', 'dead']);
  if (key === 'v' && roll < 5) return g.pick([1, 1.0, 2, '1', 0, true]);
  if (key === 'type' && roll < 5) return g.pick(['batch', 'hello', 'Batch', '']);
  return g.pick<unknown>([
    undefined, null, NaN, Infinity, -Infinity, 0, -0, -1, 0.5, 1, 100, 101, 1e15, 1e300, MIN_TS, NOW, SKEW_LIMIT + 1,
    2 ** 53, Number.MAX_SAFE_INTEGER, '', 'x', '5', 'ok', true, false, {}, [], [1], { nc0: 1 }, new Date(0), Object.create(null),
    randString(g, g.int(70)),
  ]);
}

function randomExtras(g: Rng): Rec {
  const e: Rec = {};
  const n = g.chance(0.03) ? g.pick([64, 65]) : g.int(5);
  for (let i = 0; i < n; i++) e[g.chance(0.8) ? `nc${i}` : randString(g, g.pick([1, 63, 64, 65]))] = g.r() * 100;
  return e;
}
function randomSample(g: Rng, i: number): Rec {
  const s = baseSample(i);
  for (const k of ['utilPct', 'memUtilPct', 'memUsedBytes', 'memTotalBytes', 'powerW', 'powerLimitW', 'tempC', 'energyJ']) {
    if (g.chance(0.15)) s[k] = null;
  }
  for (const k of ['smClockMhz', 'eccCorrected', 'eccUncorrected']) {
    const roll = g.int(4);
    if (roll === 0) delete s[k];
    else if (roll === 1) s[k] = null;
  }
  if (g.chance(0.3)) {
    const f: Rec = {};
    for (const k of ['powerEstimated', 'energyDerived', 'backfill']) if (g.chance(0.5)) f[k] = g.chance(0.5);
    s.flags = f;
  }
  if (g.chance(0.3)) s.extras = randomExtras(g);
  if (g.chance(0.15)) {
    // shuffle key order (zod does not care)
    const keys = Object.keys(s);
    for (let j = keys.length - 1; j > 0; j--) {
      const k = g.int(j + 1);
      [keys[j], keys[k]] = [keys[k], keys[j]];
    }
    const t: Rec = {};
    for (const k of keys) t[k] = s[k];
    return t;
  }
  return s;
}
function randomFrame(g: Rng, bigChance: number): Rec {
  const n = g.chance(bigChance) ? g.pick([MAX_BATCH_SAMPLES - 1, MAX_BATCH_SAMPLES, MAX_BATCH_SAMPLES + 1]) : 1 + g.int(4);
  const big = n > 100;
  const one = randomSample(g, 0);
  const samples = Array.from({ length: n }, (_, i) => (big ? { ...one, ts: (one.ts as number) - i } : randomSample(g, i)));
  const f = baseFrame(samples);
  f.seq = g.int(1000);
  if (g.chance(0.3)) f.backfill = g.chance(0.5);
  if (g.chance(0.3)) f.health = Array.from({ length: g.chance(0.1) ? g.pick([31, 32, 33]) : g.int(3) }, () => health({ restarts: g.int(3), lastError: g.chance(0.5) ? null : 'x' }));
  if (g.chance(0.3)) f.dropped = { batches: g.int(10), samples: g.int(100) };
  return f;
}

/** Every object or array in the frame, so a mutation can land anywhere. */
function containers(x: unknown, out: object[] = []): object[] {
  if (typeof x !== 'object' || x === null) return out;
  out.push(x);
  if (Array.isArray(x)) {
    // big arrays: only their ends are interesting
    const n = x.length;
    const idx = n > 8 ? [0, 1, n - 2, n - 1] : [...x.keys()];
    for (const i of idx) containers(x[i], out);
  } else {
    for (const k of Object.keys(x)) containers((x as Rec)[k], out);
  }
  return out;
}

function mutate(g: Rng, frame: Rec): void {
  const all = containers(frame);
  const target = g.pick(all) as Rec & unknown[];
  if (Array.isArray(target)) {
    switch (g.int(6)) {
      case 0: target.length = 0; break;
      case 1: target.push(interestingValue(g, 'element')); break;
      case 2: if (target.length) target[g.int(target.length)] = interestingValue(g, 'element'); break;
      case 3: target.length += 1; break; // a hole
      case 4: target.push(randomSample(g, 99)); break;
      default: target.pop(); break;
    }
    return;
  }
  const keys = Object.keys(target);
  switch (g.int(12)) {
    case 0: if (keys.length) delete target[g.pick(keys)]; break;
    case 1: setOwn(target, g.pick(KEY_POOL), interestingValue(g, 'any')); break;
    case 2: case 3: case 4: case 5: {
      if (keys.length) { const k = g.pick(keys); setOwn(target, k, interestingValue(g, k)); }
      break;
    }
    case 6: { const k = g.pick(KEY_POOL); setOwn(target, k, interestingValue(g, k)); break; }
    case 7: setOwn(target, Symbol('sym'), 1, g.chance(0.5)); break;
    case 8: if (keys.length) { const k = g.pick(keys); setOwn(target, k, target[k], false); } break; // non-enumerable
    case 9: { // move a key to the prototype (inherited), or give the object an odd prototype
      const proto: Rec = g.chance(0.5) && keys.length ? (() => { const k = g.pick(keys); const p = { [k]: target[k] }; delete target[k]; return p; })() : g.pick<Rec>([{}, { junk: 1 }, Object.create(null), new NotPlain(), Array.prototype as never]);
      Object.setPrototypeOf(target, proto);
      break;
    }
    case 10: setOwn(target, '__proto__', interestingValue(g, 'any')); break;
    default: setOwn(target, 'constructor', g.pick<unknown>([5, {}, NotPlain, Object, function F() {}])); break;
  }
}

/** Did any extras object have an own `__proto__` key (the one case the pass-through check refuses)? */
function hasProtoExtras(frame: unknown): boolean {
  const samples = (frame as Rec)?.samples;
  if (!Array.isArray(samples)) return false;
  return samples.some((s) => {
    const e = (s as Rec | null)?.extras;
    return typeof e === 'object' && e !== null && Object.prototype.hasOwnProperty.call(e, '__proto__');
  });
}

describe('isValidBatchFast: property test against zod', () => {
  it('agrees with batchSchema.safeParse + the future rule on 20,000 mutated frames', { timeout: 120_000 }, () => {
    const g = makeRng(0x5eed_f1ee);
    let valid = 0;
    let mismatches: string[] = [];
    const N = 20_000;
    for (let i = 0; i < N; i++) {
      const frame = randomFrame(g, 0.0005);
      const muts = g.pick([0, 1, 1, 2, 3]);
      for (let m = 0; m < muts; m++) mutate(g, frame);
      const now = g.chance(0.95) ? NOW : g.pick([NOW - 3_600_000, NaN, 0, Infinity]);
      const window: TimeWindow | undefined = g.chance(0.8) ? undefined : { maxFutureMs: g.pick([0, 5_000, 600_000]), maxAgeMs: g.pick([undefined, 1_000, 3_600_000]) };
      const want = oracle(frame, now, window);
      const got = isValidBatchFast(frame, now, window);
      if (want) valid++;
      if (got !== want && mismatches.length < 5) {
        mismatches.push(`#${i}: zod ${want}, fast ${got}: ${JSON.stringify(frame, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)).slice(0, 400)}`);
      }
    }
    expect(mismatches).toEqual([]);
    // the generator must exercise both sides
    expect(valid).toBeGreaterThan(N * 0.15);
    expect(valid).toBeLessThan(N * 0.85);
  });

  it('on JSON round-tripped frames: the pass-through check and parseAgentFrame match the zod-only implementation', { timeout: 120_000 }, () => {
    const g = makeRng(0xc0ffee);
    let fastOk = 0;
    let valid = 0;
    const N = 10_000;
    for (let i = 0; i < N; i++) {
      // big frames are covered above and below; here they would only slow the deep comparison down
      const frame = randomFrame(g, 0);
      const muts = g.pick([0, 1, 1, 2, 3]);
      for (let m = 0; m < muts; m++) mutate(g, frame);
      const raw = JSON.stringify(frame);
      if (raw === undefined) continue;
      const data: unknown = JSON.parse(raw);
      const want = oracle(data, NOW);
      expect(isValidBatchFast(data, NOW)).toBe(want);
      const pass = isPassThroughBatchFast(data, NOW);
      expect(pass).toBe(want && !hasProtoExtras(data));
      if (pass) fastOk++;
      if (want) valid++;
      // parseAgentFrame: same ok/code/message as before, and the same message content as zod's output
      // (`verbatim` only says the fast check passed the parsed frame through; it is not part of the message)
      const { verbatim: _verbatim, ...got } = parseAgentFrame(raw, NOW) as { verbatim?: boolean };
      expect(got).toStrictEqual(referenceParseAgentFrame(raw, NOW));
    }
    expect(valid).toBeGreaterThan(N * 0.15);
    expect(fastOk).toBeGreaterThan(valid * 0.9);
  });

  it.each([
    ['at the limit', MAX_BATCH_SAMPLES, {}],
    ['over the limit', MAX_BATCH_SAMPLES + 1, {}],
    ['at the limit, last sample bad', MAX_BATCH_SAMPLES, { tempC: 151 }],
    ['at the limit, last sample in the future', MAX_BATCH_SAMPLES, { ts: SKEW_LIMIT + 1 }],
  ] as const)('parseAgentFrame on a big batch %s matches the zod-only implementation', (_n, count, lastOver) => {
    const samples = repeat(count, baseSample);
    Object.assign(samples[count - 1], lastOver);
    const raw = JSON.stringify(baseFrame(samples));
    const res = parseAgentFrame(raw, NOW);
    const ref = referenceParseAgentFrame(raw, NOW);
    expect(res.ok).toBe(ref.ok);
    if (!res.ok) expect(res).toEqual(ref);
    else expect(JSON.stringify(res.msg)).toBe(JSON.stringify(ref.ok && ref.msg));
  });

  // The slow path hands zod one sample, not the frame: results must still be zod's on the whole frame.
  const mid = MAX_BATCH_SAMPLES >> 1;
  const slowCases: [string, number, (f: Rec, ss: Rec[]) => void][] = [
    ['a bad sample in the middle', MAX_BATCH_SAMPLES, (f: Rec, ss: Rec[]) => { ss[mid].tempC = 151; }],
    ['two bad samples: the first is named', MAX_BATCH_SAMPLES, (f: Rec, ss: Rec[]) => { ss[mid].chipId = 'a/b'; ss[mid + 5].utilPct = -1; }],
    ['over the limit and a bad sample', MAX_BATCH_SAMPLES + 1, (f: Rec, ss: Rec[]) => { ss[mid].powerW = 'x'; }],
    ['over the limit and a bad seq', MAX_BATCH_SAMPLES + 1, (f: Rec) => { f.seq = -1; }],
    ['over the limit and bad health (after samples)', MAX_BATCH_SAMPLES + 1, (f: Rec) => { f.health = [{ kind: '' }]; }],
    ['over the limit and an unknown frame key', MAX_BATCH_SAMPLES + 1, (f: Rec) => { f.bogus = 1; }],
    ['bad seq and a bad sample: seq first', MAX_BATCH_SAMPLES, (f: Rec, ss: Rec[]) => { f.seq = 1.5; ss[9].tempC = 'hot'; }],
    ['bad health only', MAX_BATCH_SAMPLES, (f: Rec) => { f.health = [{ kind: 'x', state: 'ok', restarts: -1, parseErrors: 0, lastError: null }]; }],
    ['a bad sample and bad dropped', 3, (f: Rec, ss: Rec[]) => { f.dropped = { batches: -1, samples: 0 }; ss[2].extras = { k: 'v' }; }],
    ['65 extras keys on one sample', MAX_BATCH_SAMPLES, (f: Rec, ss: Rec[]) => { ss[mid].extras = manyKeys(65); }],
    ['a __proto__ extras key (valid)', MAX_BATCH_SAMPLES, (f: Rec, ss: Rec[]) => { ss[mid].extras = JSON.parse('{"__proto__":"x","nc0":1}'); }],
    ['a sample in the future', MAX_BATCH_SAMPLES, (f: Rec, ss: Rec[]) => { ss[mid].ts = SKEW_LIMIT + 1; }],
  ];
  it.each(slowCases)('parseAgentFrame on a big batch with %s matches the zod-only implementation', (_n, count, mutate) => {
    const samples = repeat(count, baseSample);
    const frame = baseFrame(samples);
    mutate(frame, samples);
    const raw = JSON.stringify(frame);
    const { verbatim: _v, ...res } = parseAgentFrame(raw, NOW) as { verbatim?: boolean };
    expect(res).toStrictEqual(referenceParseAgentFrame(raw, NOW));
  });

  it('a big frame with an object of 100,000 keys is refused before JSON.parse, naming it', () => {
    const samples = repeat(10, baseSample);
    samples[3].extras = manyKeys(100_000);
    expect(parseAgentFrame(JSON.stringify(baseFrame(samples)), NOW)).toEqual({ ok: false, code: 'out_of_range', message: 'samples.3.extras: an object of more than 1000 keys (no object of the protocol has more than 64)' });
  });

  it('extras with a __proto__ key: accepted, but through zod (which drops the key), not passed through', () => {
    const raw = JSON.stringify(baseFrame([{ ...baseSample(), extras: JSON.parse('{"__proto__":"not a number","nc0":1}') }]));
    const res = parseAgentFrame(raw, NOW);
    expect(res.ok).toBe(true);
    // not verbatim: what the hub stores is zod's output (without the key), not the parsed frame
    expect(res.ok && res.verbatim).toBeFalsy();
    if (res.ok && res.msg.type === 'batch') {
      const extras = res.msg.samples[0].extras!;
      expect(Object.keys(extras)).toEqual(['nc0']);
      expect(Object.getPrototypeOf(extras)).toBe(Object.prototype);
    }
  });
});
