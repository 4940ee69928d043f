/**
 * Hand-written fast path for the hub's hot frame type: `isValidBatchFast(data, now, window)` is true
 * exactly when `batchSchema.safeParse(data).success` is true and every sample `ts` is inside the
 * time window (`windowBounds(now, window)` of time-window.ts, the rule `parseAgentFrame` adds). It answers yes/no only; the zod path
 * stays the source of error codes and messages.
 *
 * It mirrors zod 4's semantics as they are, not as one might guess them
 * (see node_modules/zod/v4/core/{schemas,checks,util}.js):
 * - `z.number()` rejects NaN and ±Infinity; `.int()` is the `safeint` format (Number.isSafeInteger).
 * - strict objects: any key `for...in` yields (own or inherited, enumerable, `__proto__` included)
 *   that is not in the shape fails; symbol and non-enumerable keys are ignored. Fields are read as
 *   `input[key]` (inherited values count). An optional field may be absent or `undefined`.
 * - object schemas accept any non-null, non-array object; `z.record` wants a "plain" object
 *   (zod's `isPlainObject`), checks own enumerable keys (`Reflect.ownKeys`), fails on an enumerable
 *   symbol key, and skips a `__proto__` key entirely (its value is not validated, and zod's output
 *   drops it).
 * - string `.min()/.max()` count Unicode code points (a surrogate pair is one), not UTF-16 units.
 *
 * A batch's `work` reports are checked with their zod schema (few per batch).
 *
 * The numeric bounds below repeat the ones in schema/sample.ts and schema/protocol.ts; the property
 * test in test/unit/fast-batch-check.test.ts compares this function with zod on boundary values, so a
 * schema change that is not mirrored here fails it.
 */
import { MAX_BATCH_SAMPLES, PROTOCOL_VERSION } from './protocol.ts';
import { MAX_EXTRA_KEY_LENGTH, MAX_EXTRAS_KEYS, MIN_TS } from './sample.ts';
import { windowBounds, type TimeWindow } from './time-window.ts';
import { MAX_WORK_PER_BATCH, workReportSchema } from './work.ts';

const workArray = workReportSchema.array();

const hasOwn = Object.prototype.hasOwnProperty;
const isEnumerable = Object.prototype.propertyIsEnumerable;

type Obj = Record<string, unknown>;

/** zod's `util.isObject`: what `z.object()` accepts as an object. */
function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** zod's `util.isPlainObject`: what `z.record()` accepts. */
function isPlainObject(o: Obj): boolean {
  const ctor = o.constructor;
  if (ctor === undefined) return true;
  if (typeof ctor !== 'function') return true;
  const prot: unknown = (ctor as { prototype?: unknown }).prototype;
  if (!isObj(prot)) return false;
  return hasOwn.call(prot, 'isPrototypeOf');
}

/** Length in code points as zod's `util.codePointLength` counts it (a lone surrogate is one). */
function codePointLength(str: string): number {
  const units = str.length;
  let count = units;
  for (let i = 0; i < units - 1; i++) {
    if ((str.charCodeAt(i) & 0xfc00) === 0xd800 && (str.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      count--;
      i++;
    }
  }
  return count;
}

/** `z.string().max(max)` (code points). */
function isStrMax(x: unknown, max: number): boolean {
  return typeof x === 'string' && (x.length <= max || codePointLength(x) <= max);
}

/** `z.number().min(lo).max(hi).nullable()`; the bounds are finite, so they also reject NaN and ±Infinity. */
function isNullableIn(x: unknown, lo: number, hi: number): boolean {
  return x === null || (typeof x === 'number' && x >= lo && x <= hi);
}

/** `z.number().int().min(0)` */
function isCount(x: unknown): boolean {
  return Number.isSafeInteger(x) && (x as number) >= 0;
}

/** `chipIdSchema`: 1..128 code points matching /^[A-Za-z0-9._:-]+$/ (all ASCII, so units = code points). */
export function isChipId(x: unknown): boolean {
  if (typeof x !== 'string') return false;
  const n = x.length;
  if (n < 1 || n > 128) return false;
  for (let i = 0; i < n; i++) {
    const c = x.charCodeAt(i);
    if (
      !(
        (c >= 0x61 && c <= 0x7a) || // a-z
        (c >= 0x41 && c <= 0x5a) || // A-Z
        (c >= 0x30 && c <= 0x3a) || // 0-9 and ':'
        c === 0x2e || // .
        c === 0x5f || // _
        c === 0x2d // -
      )
    ) {
      return false;
    }
  }
  return true;
}

/** `z.boolean().optional()` */
function isOptBool(x: unknown): boolean {
  return x === undefined || typeof x === 'boolean';
}

/** `sampleFlagsSchema` (strict; all three fields optional booleans). */
function isFlags(x: unknown): boolean {
  if (!isObj(x)) return false;
  for (const k in x) {
    if (k !== 'powerEstimated' && k !== 'energyDerived' && k !== 'backfill') return false;
  }
  return isOptBool(x.powerEstimated) && isOptBool(x.energyDerived) && isOptBool(x.backfill);
}

/**
 * `z.record(z.string().max(64), z.number())` with at most MAX_EXTRAS_KEYS keys (counted as zod's
 * output has them: own enumerable string keys but `__proto__`). With `passThrough`, a `__proto__` key also fails:
 * zod accepts it unvalidated but drops it from its output, so the input is not what zod would return.
 */
function isExtras(x: unknown, passThrough: boolean): boolean {
  if (!isObj(x) || !isPlainObject(x)) return false;
  let keys = 0;
  for (const k in x) {
    if (!hasOwn.call(x, k)) continue; // zod walks own keys only
    if (k === '__proto__') {
      if (passThrough) return false;
      continue;
    }
    if (!extrasKeyFits(k)) return false;
    if (!Number.isFinite(x[k])) return false;
    if (++keys > MAX_EXTRAS_KEYS) return false;
  }
  // An enumerable own symbol key fails zod's string key schema. JSON never makes one; the check
  // allocates (an empty array, usually), so it only runs where the input need not come from JSON.
  if (!passThrough) {
    const syms = Object.getOwnPropertySymbols(x);
    for (let i = 0; i < syms.length; i++) {
      if (isEnumerable.call(x, syms[i])) return false;
    }
  }
  return true;
}

const P50 = 2 ** 50;

/** `z.string().max(MAX_EXTRA_KEY_LENGTH)` for an extras key. */
function extrasKeyFits(k: string): boolean {
  return k.length <= MAX_EXTRA_KEY_LENGTH || codePointLength(k) <= MAX_EXTRA_KEY_LENGTH;
}

/** An `extras` key as isExtras passes it through (not `__proto__`, at most MAX_EXTRA_KEY_LENGTH code points). */
export function isPassThroughExtrasKey(k: string): boolean {
  return k !== '__proto__' && extrasKeyFits(k);
}

/** `sampleSchema` (strict) plus the time window [lo, hi] (lo is at least MIN_TS). */
function isSample(x: unknown, lo: number, hi: number, passThrough: boolean): boolean {
  if (!isObj(x)) return false;
  for (const k in x) {
    switch (k) {
      case 'ts':
      case 'chipId':
      case 'utilPct':
      case 'memUtilPct':
      case 'memUsedBytes':
      case 'memTotalBytes':
      case 'powerW':
      case 'powerLimitW':
      case 'tempC':
      case 'energyJ':
      case 'smClockMhz':
      case 'eccCorrected':
      case 'eccUncorrected':
      case 'flags':
      case 'extras':
        continue;
      default:
        return false;
    }
  }
  const ts = x.ts;
  if (!Number.isSafeInteger(ts) || (ts as number) < lo || (ts as number) > hi) return false;
  if (!isChipId(x.chipId)) return false;
  if (
    !isNullableIn(x.utilPct, 0, 100) ||
    !isNullableIn(x.memUtilPct, 0, 100) ||
    !isNullableIn(x.memUsedBytes, 0, P50) ||
    !isNullableIn(x.memTotalBytes, 0, P50) ||
    !isNullableIn(x.powerW, 0, 10_000) ||
    !isNullableIn(x.powerLimitW, 0, 10_000) ||
    !isNullableIn(x.tempC, -40, 150) ||
    !isNullableIn(x.energyJ, 0, 1e15)
  ) {
    return false;
  }
  const sm = x.smClockMhz;
  if (sm !== undefined && !isNullableIn(sm, 0, 10_000)) return false;
  const ec = x.eccCorrected;
  if (ec !== undefined && !isNullableIn(ec, 0, 1e15)) return false;
  const eu = x.eccUncorrected;
  if (eu !== undefined && !isNullableIn(eu, 0, 1e15)) return false;
  const flags = x.flags;
  if (flags !== undefined && !isFlags(flags)) return false;
  const extras = x.extras;
  if (extras !== undefined && !isExtras(extras, passThrough)) return false;
  return true;
}

/** `sourceHealthSchema` (strict). */
function isHealth(x: unknown): boolean {
  if (!isObj(x)) return false;
  for (const k in x) {
    switch (k) {
      case 'kind':
      case 'state':
      case 'restarts':
      case 'parseErrors':
      case 'lastError':
        continue;
      default:
        return false;
    }
  }
  const kind = x.kind;
  if (typeof kind !== 'string' || kind.length < 1 || !isStrMax(kind, 64)) return false;
  const state = x.state;
  if (state !== 'ok' && state !== 'starting' && state !== 'restarting' && state !== 'failed') return false;
  if (!isCount(x.restarts) || !isCount(x.parseErrors)) return false;
  const lastError = x.lastError;
  return lastError === null || isStrMax(lastError, 1000);
}

/**
 * A batch's `work` (an array of `workReportSchema`, at most MAX_WORK_PER_BATCH): checked by the
 * schema itself (a batch carries a report or two). Passed through only without `__proto__` keys in
 * counters or labels, which zod's records drop.
 */
function isWork(x: unknown, passThrough: boolean): boolean {
  if (!Array.isArray(x) || x.length > MAX_WORK_PER_BATCH || !workArray.safeParse(x).success) return false;
  if (!passThrough) return true;
  for (const r of x as { counters: object; labels?: object }[]) {
    if (hasOwn.call(r.counters, '__proto__') || (r.labels !== undefined && hasOwn.call(r.labels, '__proto__'))) return false;
  }
  return true;
}

/** `countsSchema` (strict). */
function isCounts(x: unknown): boolean {
  if (!isObj(x)) return false;
  for (const k in x) {
    if (k !== 'batches' && k !== 'samples') return false;
  }
  return isCount(x.batches) && isCount(x.samples);
}

/** A batch's (or a frame tail's) `health`, `dropped` and `work`, each absent or valid. */
function isReports(data: Obj, passThrough: boolean): boolean {
  const health = data.health;
  if (health !== undefined) {
    if (!Array.isArray(health) || health.length > 32) return false;
    for (let i = 0; i < health.length; i++) {
      if (!isHealth(health[i])) return false;
    }
  }
  const dropped = data.dropped;
  if (dropped !== undefined && !isCounts(dropped)) return false;
  const work = data.work;
  return work === undefined || isWork(work, passThrough);
}

function check(data: unknown, now: number, window: TimeWindow | undefined, passThrough: boolean): boolean {
  if (!isObj(data)) return false;
  for (const k in data) {
    switch (k) {
      case 'v':
      case 'type':
      case 'seq':
      case 'samples':
      case 'backfill':
      case 'health':
      case 'dropped':
      case 'work':
        continue;
      default:
        return false;
    }
  }
  if (data.v !== PROTOCOL_VERSION || data.type !== 'batch') return false;
  if (!isCount(data.seq)) return false;
  if (!isOptBool(data.backfill)) return false;
  if (!isReports(data, passThrough)) return false;
  const samples = data.samples;
  if (!Array.isArray(samples)) return false;
  const n = samples.length;
  if (n < 1 || n > MAX_BATCH_SAMPLES) return false;
  const { lo, hi } = windowBounds(now, window);
  for (let i = 0; i < n; i++) {
    if (!isSample(samples[i], lo, hi, passThrough)) return false;
  }
  return true;
}

/**
 * A binary batch frame's tail (schema/batch-frame.ts), as JSON.parse gave it: true when it holds
 * only `health`, `dropped` and `work`, each as isPassThroughBatchFast would pass it.
 */
export function isPassThroughTailFast(tail: unknown): boolean {
  if (!isObj(tail)) return false;
  for (const k in tail) {
    if (k !== 'health' && k !== 'dropped' && k !== 'work') return false;
  }
  return isReports(tail, true);
}

/**
 * True exactly when `batchSchema.safeParse(data).success` and every sample `ts` is inside
 * `windowBounds(now, window)`. Allocation-free, except for a symbol-key probe per `extras` object.
 */
export function isValidBatchFast(data: unknown, now: number, window?: TimeWindow): boolean {
  return check(data, now, window, false);
}

/**
 * The fast path of `parseAgentFrame`: true only when `isValidBatchFast(data, now)` is true AND the
 * input can stand in for zod's output, i.e. no `extras` has a `__proto__` key (zod would drop it
 * unvalidated; passing it on would hand a non-number, or a prototype, to the store). Returns false for
 * a few frames zod accepts, so the caller must fall back to zod on false.
 * Precondition: `data` comes straight from `JSON.parse` (so it carries no symbol keys, which this
 * skips looking for). Allocation-free.
 */
export function isPassThroughBatchFast(data: unknown, now: number, window?: TimeWindow): boolean {
  return check(data, now, window, true);
}

/**
 * Index of the first element `sampleSchema.safeParse` refuses (the time window aside), or -1.
 * Lets parseAgentFrame hand zod only the sample that fails, not a frame of 10,000. Allocation-free
 * but for a symbol-key probe per `extras` object.
 */
export function firstInvalidSample(samples: readonly unknown[]): number {
  for (let i = 0; i < samples.length; i++) {
    if (!isSample(samples[i], MIN_TS, Infinity, false)) return i;
  }
  return -1;
}
