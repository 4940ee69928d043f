/**
 * Hostile input against a real hub (in-process, auth on, port 0) while two well-behaved agents
 * stream for the whole run. More than 10,000 generated hostile frames and requests (seeded PRNG:
 * the same seed throws the same inputs) are fired at every surface: mutated hellos, batches and
 * inventories on /ws/agent, garbage and binary frames, chip takeover and agent-id hijack attempts,
 * future timestamps, floods from one socket, idle sockets that never say hello, slowloris HTTP
 * sockets, malformed line protocol and gzip bombs on POST /api/v1/write, bad history queries, and
 * requests and upgrades without (valid) tokens.
 *
 * Asserted: the hub stays up with /healthz p99 <= 100 ms throughout (polled from a worker thread,
 * whose timers keep running while the hub's thread is busy); every hostile input gets the error
 * code (or HTTP status) it should; nothing invalid or foreign is stored; the good agents get every
 * batch acked, lose no sample and keep their chips; a flooding socket is paced at the frame rate;
 * idle and slowloris sockets are closed; RSS comes back to within 20 % of where it started (the
 * baseline is taken after a warm-up pass over every path, so it already holds what a first gzip
 * bomb or 4 MiB frame costs the allocator). A summary table of what was thrown and what came back
 * is printed. Run time about 20 s.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { MIN_TS } from '../../schema/sample.ts';
import { encodeBatchFrame } from '../../schema/batch-frame.ts';
import type { BatchMessage } from '../../schema/protocol.ts';
import type { HubOptions } from '../../server/hub.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';
import { eventually } from '../helpers/ws-client.ts';

const SEED = 0x5eed_2024;
/** Short bounds so the idle and slowloris sockets are dealt with within the run (server/hub-bounds.ts). */
const HUB_BOUNDS: Partial<HubOptions> = { helloTimeoutMs: 3_000, headersTimeoutMs: 3_000, agentFramesPerSec: 50, agentFrameBurst: 200 };

// ---------------------------------------------------------------------------------------------
// Seeded PRNG (mulberry32)

function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
    chance: (p: number) => next() < p,
    str: (n: number, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789') => {
      let s = '';
      for (let i = 0; i < n; i++) s += alphabet[Math.floor(next() * alphabet.length)];
      return s;
    },
  };
}
type Rng = ReturnType<typeof prng>;

// ---------------------------------------------------------------------------------------------
// Tallies

interface Mismatch {
  category: string;
  op: string;
  expected: string[];
  got: string;
  detail: string;
}

class Tally {
  readonly counts = new Map<string, Map<string, number>>();
  readonly mismatches: Mismatch[] = [];
  total = 0;

  /** One hostile input of `category`; `expected` outcomes may end in `*` (prefix match). */
  record(category: string, op: string, expected: readonly string[], got: string, detail = ''): void {
    this.total++;
    this.verdict(category, op, expected, got, detail);
  }

  /** A check about inputs already counted (shown in the table, not counted as an input). */
  verdict(category: string, op: string, expected: readonly string[], got: string, detail = ''): void {
    const m = this.counts.get(category) ?? new Map<string, number>();
    m.set(got, (m.get(got) ?? 0) + 1);
    this.counts.set(category, m);
    const ok = expected.some((e) => (e.endsWith('*') ? got.startsWith(e.slice(0, -1)) : got === e));
    if (!ok) this.mismatches.push({ category, op, expected: [...expected], got, detail: detail.slice(0, 300) });
  }

  /** Inputs counted without an outcome check (flood frames, idle and slowloris sockets). */
  count(category: string, outcome: string, n = 1): void {
    this.total += n;
    const m = this.counts.get(category) ?? new Map<string, number>();
    m.set(outcome, (m.get(outcome) ?? 0) + n);
    this.counts.set(category, m);
  }

  seen(category: string, outcome: string): number {
    return this.counts.get(category)?.get(outcome) ?? 0;
  }

  table(): string {
    const rows: string[][] = [['category', 'n', 'outcomes']];
    for (const [cat, m] of [...this.counts].sort(([a], [b]) => a.localeCompare(b))) {
      const n = [...m.values()].reduce((a, b) => a + b, 0);
      const outcomes = [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
      rows.push([cat, String(n), outcomes]);
    }
    rows.push(['TOTAL inputs', String(this.total), `${this.mismatches.length} unexpected`]);
    const w0 = Math.max(...rows.map((r) => r[0]!.length));
    const w1 = Math.max(...rows.map((r) => r[1]!.length));
    return rows.map((r) => `${r[0]!.padEnd(w0)}  ${r[1]!.padStart(w1)}  ${r[2]}`).join('\n');
  }
}

// ---------------------------------------------------------------------------------------------
// WebSocket client with in-order frame reading

const CLOSED = Symbol('closed');
type Frame = Record<string, any>;

class Conn {
  private readonly queue: (Frame | typeof CLOSED)[] = [];
  private waiter: ((f: Frame | typeof CLOSED) => void) | null = null;
  closeCode: number | null = null;
  closeReason = '';
  /** Every frame received (for floods, read after the fact). */
  readonly all: Frame[] = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      let f: Frame;
      try {
        f = JSON.parse(String(d));
      } catch {
        f = { type: '?', raw: String(d).slice(0, 200) };
      }
      this.all.push(f);
      this.push(f);
    });
    ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.push(CLOSED);
    });
    ws.on('error', () => undefined);
  }

  private push(f: Frame | typeof CLOSED): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(f);
    } else this.queue.push(f);
  }

  get closed(): boolean {
    return this.closeCode !== null;
  }

  send(data: string | Buffer): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(data, { binary: typeof data !== 'string' });
    return true;
  }

  /** The next frame in order, or CLOSED (also after `timeoutMs`: then the socket is terminated). */
  next(timeoutMs = 20_000): Promise<Frame | typeof CLOSED> {
    const q = this.queue.shift();
    if (q !== undefined) {
      if (q === CLOSED) this.queue.unshift(CLOSED);
      return Promise.resolve(q);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        this.ws.terminate();
        resolve(CLOSED);
      }, timeoutMs);
      this.waiter = (f) => {
        clearTimeout(timer);
        if (f === CLOSED) this.queue.unshift(CLOSED);
        resolve(f);
      };
    });
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }
}

interface Refused {
  refused: true;
  status: number;
  code: string;
}

function openWs(url: string, headers: Record<string, string>): Promise<Conn | Refused> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false, handshakeTimeout: 20_000 });
    const conn = new Conn(ws);
    let done = false;
    const finish = (r: Conn | Refused) => {
      if (!done) {
        done = true;
        resolve(r);
      }
    };
    ws.once('open', () => finish(conn));
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        let code = '';
        try {
          code = JSON.parse(body).code ?? '';
        } catch {
          /* not JSON */
        }
        finish({ refused: true, status: res.statusCode ?? 0, code });
        req.destroy();
      });
      res.on('error', () => finish({ refused: true, status: res.statusCode ?? 0, code: '' }));
    });
    ws.once('error', (err) => finish({ refused: true, status: 0, code: err.message }));
  });
}

/** What a hub frame says about the input it answers. */
function outcome(f: Frame | typeof CLOSED, closeCode: number | null): string {
  if (f === CLOSED) return `closed:${closeCode ?? 'closing'}`;
  if (f.type === 'welcome' || f.type === 'ack') return 'ok';
  if (f.type === 'error') return String(f.code);
  return `frame:${f.type}`;
}

// ---------------------------------------------------------------------------------------------
// Valid frames and their mutations

function chipInfo(chipId: string, index: number): Frame {
  return { chipId, vendor: 'nvidia', model: 'H100', index, cores: 132, memTotalBytes: 85_520_809_984, ratedPowerW: 700 };
}

function helloFrame(agentId: string, chips: Frame[]): Frame {
  return { v: 1, type: 'hello', agentId, agentVersion: 'hostile-test', host: { hostname: `${agentId}-host`, instanceId: null, instanceType: 'p5.48xlarge' }, intervalMs: 100, chips };
}

function sampleFrame(chipId: string, ts: number, k: number, extras = 2): Frame {
  const s: Frame = {
    ts,
    chipId,
    utilPct: Math.round((50 + 45 * Math.sin(k / 7)) * 100) / 100,
    memUtilPct: 20,
    memUsedBytes: 1_000_000_000 + k * 1_000_000,
    memTotalBytes: 85_520_809_984,
    powerW: Math.round((350 + 300 * Math.sin(k / 5)) * 100) / 100,
    powerLimitW: 700,
    tempC: Math.round((55 + 10 * Math.sin(k / 9)) * 10) / 10,
    energyJ: 1000 + k * 35,
  };
  if (extras > 0) s.extras = Object.fromEntries(Array.from({ length: extras }, (_, i) => [`core${i}`, (k + i) % 100]));
  return s;
}

/** A batch carrying every optional part, so mutations can reach them all. */
function fullBatch(seq: number, chipIds: string[], ts: number): Frame {
  return {
    v: 1,
    type: 'batch',
    seq,
    samples: chipIds.map((c, i) => ({ ...sampleFrame(c, ts, seq + i), smClockMhz: 1980, eccCorrected: 0, eccUncorrected: 0, flags: { powerEstimated: false, energyDerived: true, backfill: false } })),
    backfill: false,
    health: [{ kind: 'sim-nvml', state: 'ok', restarts: 0, parseErrors: 0, lastError: null }],
    dropped: { batches: 0, samples: 0 },
  };
}

type Kind = 'v' | 'type' | 'str' | 'int' | 'num' | 'bool' | 'obj' | 'arr' | 'rec' | 'recval' | 'enum';
interface Spec {
  kind: Kind;
  optional?: boolean;
  nullable?: boolean;
  min?: number;
  max?: number;
}

const CHIP_SPECS: Record<string, Spec> = {
  'chips': { kind: 'arr' },
  'chips.*': { kind: 'obj' },
  'chips.*.chipId': { kind: 'str' },
  'chips.*.vendor': { kind: 'enum' },
  'chips.*.model': { kind: 'str' },
  'chips.*.index': { kind: 'int', min: 0, max: 4096 },
  'chips.*.cores': { kind: 'int', nullable: true, min: 0, max: 100_000 },
  'chips.*.memTotalBytes': { kind: 'num', nullable: true, min: 0, max: 2 ** 50 },
  'chips.*.ratedPowerW': { kind: 'num', nullable: true, min: 0, max: 10_000 },
};
const HELLO_SPECS: Record<string, Spec> = {
  v: { kind: 'v' },
  type: { kind: 'type' },
  agentId: { kind: 'str' },
  agentVersion: { kind: 'str' },
  host: { kind: 'obj' },
  'host.hostname': { kind: 'str' },
  'host.instanceId': { kind: 'str', nullable: true },
  'host.instanceType': { kind: 'str', nullable: true },
  intervalMs: { kind: 'int', min: 10, max: 3_600_000 },
  ...CHIP_SPECS,
};
const INVENTORY_SPECS: Record<string, Spec> = { v: { kind: 'v' }, type: { kind: 'type' }, ...CHIP_SPECS };
const nn = (max: number, min = 0): Spec => ({ kind: 'num', nullable: true, min, max });
const BATCH_SPECS: Record<string, Spec> = {
  v: { kind: 'v' },
  type: { kind: 'type' },
  seq: { kind: 'int', min: 0, max: Number.MAX_SAFE_INTEGER },
  samples: { kind: 'arr' },
  'samples.*': { kind: 'obj' },
  // max: the hub's clock + 5 s (checked at mutation time with a margin, see expectNumber)
  'samples.*.ts': { kind: 'int', min: MIN_TS, max: Number.NaN },
  'samples.*.chipId': { kind: 'str' },
  'samples.*.utilPct': nn(100),
  'samples.*.memUtilPct': nn(100),
  'samples.*.memUsedBytes': nn(2 ** 50),
  'samples.*.memTotalBytes': nn(2 ** 50),
  'samples.*.powerW': nn(10_000),
  'samples.*.powerLimitW': nn(10_000),
  'samples.*.tempC': nn(150, -40),
  'samples.*.energyJ': nn(1e15),
  'samples.*.smClockMhz': { ...nn(10_000), optional: true },
  'samples.*.eccCorrected': { ...nn(1e15), optional: true },
  'samples.*.eccUncorrected': { ...nn(1e15), optional: true },
  'samples.*.flags': { kind: 'obj', optional: true },
  'samples.*.flags.powerEstimated': { kind: 'bool', optional: true },
  'samples.*.flags.energyDerived': { kind: 'bool', optional: true },
  'samples.*.flags.backfill': { kind: 'bool', optional: true },
  'samples.*.extras': { kind: 'rec', optional: true },
  'samples.*.extras.#': { kind: 'recval', optional: true },
  backfill: { kind: 'bool', optional: true },
  health: { kind: 'arr', optional: true },
  'health.*': { kind: 'obj' },
  'health.*.kind': { kind: 'str' },
  'health.*.state': { kind: 'enum' },
  'health.*.restarts': { kind: 'int', min: 0, max: Number.MAX_SAFE_INTEGER },
  'health.*.parseErrors': { kind: 'int', min: 0, max: Number.MAX_SAFE_INTEGER },
  'health.*.lastError': { kind: 'str', nullable: true },
  dropped: { kind: 'obj', optional: true },
  'dropped.batches': { kind: 'int', min: 0, max: Number.MAX_SAFE_INTEGER },
  'dropped.samples': { kind: 'int', min: 0, max: Number.MAX_SAFE_INTEGER },
};

/** The spec key of a path: array indexes become `*`, keys inside `extras` become `#`. */
function patternOf(path: (string | number)[]): string {
  return path.map((seg, i) => (typeof seg === 'number' ? '*' : path[i - 1] === 'extras' ? '#' : seg)).join('.');
}

function allPaths(node: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (Array.isArray(node)) node.forEach((x, i) => (out.push([...prefix, i]), allPaths(x, [...prefix, i], out)));
  else if (node !== null && typeof node === 'object') for (const [k, x] of Object.entries(node)) (out.push([...prefix, k]), allPaths(x, [...prefix, k], out));
  return out;
}

function getAt(root: any, path: (string | number)[]): any {
  return path.reduce((n, k) => n?.[k], root);
}

function setAt(root: any, path: (string | number)[], value: unknown): void {
  const parent = getAt(root, path.slice(0, -1));
  parent[path[path.length - 1]!] = value;
}

function deleteAt(root: any, path: (string | number)[]): void {
  const parent = getAt(root, path.slice(0, -1));
  delete parent[path[path.length - 1] as string];
}

interface Hostile {
  /** What goes on the wire. */
  data: string | Buffer;
  op: string;
  /** Accepted outcomes: 'ok' (welcome/ack/no error), an error code, `closed:<code>`. */
  expect: string[];
}

const HUGE = [1e308, -1e308, 2 ** 53 + 2, -(2 ** 53) - 2, 1e20, -1];
const NAN_STRINGS = ['NaN', 'Infinity', '-Infinity', '1e999', '0x1F', '', '12', 'null', '١٢'];
const RAW_BAD_JSON = ['NaN', 'Infinity', '-Infinity', 'undefined', "'x'", '0x10', '.5', '+1'];

/** Expected outcome of putting number `x` where `spec` is (spec numeric). */
function expectNumber(spec: Spec, x: number, path: string): string {
  if (!Number.isFinite(x)) return 'bad_frame';
  if (spec.kind === 'recval') return 'ok';
  if (spec.kind === 'int' && !Number.isInteger(x)) return 'bad_frame';
  // A number outside its range — a non-safe integer included — is out of range.
  if (spec.kind === 'int' && !Number.isSafeInteger(x)) return 'out_of_range';
  // ts: at most 5 s ahead of the hub's clock; too close to that edge to call, either answer is right.
  const max = path.endsWith('.ts') ? Date.now() + 5_000 : spec.max!;
  if (path.endsWith('.ts') && x > Date.now() - 1_000 && x < Date.now() + 10_000) return 'ok|out_of_range';
  return x < spec.min! || x > max ? 'out_of_range' : 'ok';
}

const isNumeric = (k: Kind) => k === 'int' || k === 'num' || k === 'recval';

/** Wrong-typed values for a kind: JSON values of a type the field never accepts. */
function wrongTypeValue(rng: Rng, kind: Kind): unknown {
  switch (kind) {
    case 'str':
    case 'enum':
      return rng.pick([42, true, {}, [], [1, 2]]);
    case 'int':
    case 'num':
    case 'recval':
      return rng.pick(['42', true, false, {}, [], [1], { n: 1 }]);
    case 'bool':
      return rng.pick(['true', 1, 0, {}, [], null]);
    case 'obj':
      return rng.pick(['{}', 1, [], [{}], true, null]);
    case 'rec':
      return rng.pick(['{}', 1, [], [1, 2], true, null]);
    case 'arr':
      return rng.pick(['[]', 1, {}, { 0: {} }, true, null]);
    default:
      return rng.pick([1, 'x', null, {}, []]);
  }
}

/** One random single-point mutation of a valid frame, with the outcome it must have. */
function mutate(rng: Rng, base: Frame, specs: Record<string, Spec>): Hostile {
  const frame = structuredClone(base);
  const paths = allPaths(frame);
  const path = rng.pick(paths);
  const pattern = patternOf(path);
  const spec = specs[pattern];
  if (!spec) throw new Error(`no spec for ${pattern}`);
  const lastIsIndex = typeof path[path.length - 1] === 'number';
  const special = spec.kind === 'v' ? 'unsupported_version' : spec.kind === 'type' ? 'unknown_type' : null;
  const op = rng.pick(['delete', 'wrongType', 'huge', 'fraction', 'nanString', 'rawLiteral', 'oversize', 'unknownKey', 'null'] as const);
  const label = `${op} ${pattern}`;
  const done = (expect: string, data?: string): Hostile => ({ data: data ?? JSON.stringify(frame), op: label, expect: expect.split('|') });

  switch (op) {
    case 'delete': {
      if (lastIsIndex) break; // array items: see wrongType
      deleteAt(frame, path);
      return done(special ?? (spec.optional ? 'ok' : 'bad_frame'));
    }
    case 'huge':
    case 'fraction': {
      if (!isNumeric(spec.kind)) break;
      const x = op === 'huge' ? rng.pick(HUGE) : Math.floor(getAt(frame, path) as number) + 0.5;
      setAt(frame, path, x);
      return done(expectNumber(spec, x, pattern));
    }
    case 'nanString': {
      if (!isNumeric(spec.kind) && !special) break;
      setAt(frame, path, rng.pick(NAN_STRINGS));
      return done(special ?? 'bad_frame');
    }
    case 'rawLiteral': {
      const marker = `"__RAW_${rng.str(8)}__"`;
      setAt(frame, path, JSON.parse(marker));
      const literal = rng.chance(0.3) ? '1e999' : rng.pick(RAW_BAD_JSON);
      const data = JSON.stringify(frame).replace(marker, literal);
      // 1e999 is valid JSON (Infinity): wrong where a finite number must be.
      return done(literal === '1e999' ? (special ?? 'bad_frame') : 'bad_json', data);
    }
    case 'oversize': {
      setAt(frame, path, 'x'.repeat(70_000 + rng.int(30_000)));
      return done(special ?? 'bad_frame');
    }
    case 'unknownKey': {
      const target = getAt(frame, path);
      if (target === null || typeof target !== 'object' || Array.isArray(target)) break;
      if (spec.kind === 'rec') {
        // A new extras key: fine when it is a number and the record stays within 64 keys.
        const numeric = rng.chance(0.5);
        target[`x${rng.str(6)}`] = numeric ? rng.int(1000) : 'not-a-number';
        return done(numeric ? (Object.keys(target).length <= 64 ? 'ok' : 'out_of_range') : 'bad_frame');
      }
      target[rng.pick(['zz', 'extra', 'constructor', 'toString', 'agentid', 'Samples', `k${rng.str(4)}`])] = rng.pick([1, 'x', null, {}]);
      return done('bad_frame');
    }
    case 'null': {
      setAt(frame, path, null);
      return done(special ?? (spec.nullable ? 'ok' : 'bad_frame'));
    }
    case 'wrongType':
      break;
  }
  // wrongType (also the fallback of ops that do not apply to this path)
  const value = special ? rng.pick([2, '1', null, true, 0, -1, 'hello ', 'HELLO', 'batch\u0000']) : wrongTypeValue(rng, spec.kind);
  setAt(frame, path, value);
  const expect = spec.kind === 'v' ? 'unsupported_version' : spec.kind === 'type' ? 'unknown_type' : spec.nullable && value === null ? 'ok' : 'bad_frame';
  return { data: JSON.stringify(frame), op: `wrongType ${pattern}`, expect: [expect] };
}

/** Frames that fail before their content is looked at: JSON, shape, version, type. */
function garbageFrame(rng: Rng, base: Frame): Hostile {
  const pick = rng.int(7);
  if (pick === 0) {
    const t = rng.pick(['hack', 'welcome', 'ack', 'error', 'HELLO', '', 'subscribe', 'constructor', '__proto__', 'toString', 'hello ', 'bätch']);
    return { data: JSON.stringify({ ...base, type: t }), op: 'unknown type', expect: ['unknown_type'] };
  }
  if (pick === 1) {
    const v = rng.pick([0, 2, -1, '1', null, true, 1.5, [], {}, 1e308, 'v1']);
    return { data: JSON.stringify({ ...base, v }), op: 'bad version', expect: ['unsupported_version'] };
  }
  if (pick === 2) {
    const s = JSON.stringify(base);
    const variants = [s.slice(0, 1 + rng.int(s.length - 2)), '{', '', "{'v':1}", '{"v":1,}', s + '}', s.replace(':', '::'), '\u0000' + s, rng.str(40, '{}[]":,abc \\')];
    const data = rng.pick(variants);
    let valid = true;
    try {
      JSON.parse(data);
    } catch {
      valid = false;
    }
    return { data, op: 'invalid JSON', expect: valid ? ['bad_frame', 'unsupported_version', 'unknown_type'] : ['bad_json'] };
  }
  if (pick === 3) return { data: rng.pick(['[]', '1', '"hello"', 'null', 'true', '[{"v":1,"type":"hello"}]', '-0']), op: 'not an object', expect: ['bad_frame'] };
  if (pick === 4) {
    const buf = Buffer.alloc(16 + rng.int(512));
    for (let i = 0; i < buf.length; i++) buf[i] = rng.int(256);
    // Random bytes: not a binary batch frame (first byte 0xB2, kind 1), or one that does not decode.
    return { data: buf, op: 'binary frame', expect: ['bad_frame', 'unknown_type', 'out_of_range'] };
  }
  if (pick === 5) {
    const depth = 1000 + rng.int(4000);
    return { data: JSON.stringify({ ...base, junk: '__DEEP__' }).replace('"__DEEP__"', '['.repeat(depth) + ']'.repeat(depth)), op: 'deep nesting', expect: ['bad_frame'] };
  }
  // Prototype-polluting keys at the top: a strict schema refuses them.
  const key = rng.pick(['__proto__', 'constructor', 'prototype']);
  return { data: JSON.stringify(base).replace('{', `{"${key}":{"polluted":true},`), op: `key ${key}`, expect: ['bad_frame'] };
}

// ---------------------------------------------------------------------------------------------
// Line protocol

function lpLine(host: string, chip: string, tsMs: number, fields = 'util_pct=50,power_w=300.5,mem_used_bytes=1000i,temp_c=60'): string {
  return `chip,host=${host},chip=${chip},vendor=nvidia,model=H100 ${fields} ${BigInt(tsMs) * 1_000_000n}`;
}

/** A write body with one definite fault (all-or-nothing: nothing of it may be stored). */
function lpHostile(rng: Rng, n: number): { body: string; op: string; expect: number[]; chips: string[] } {
  const host = `lpbad-${n}`;
  const chip = `LPBAD-${n}`;
  const now = Date.now();
  const good = lpLine(host, chip, now - 1000);
  const ops: [string, () => string][] = [
    ['no fields', () => `chip,host=${host},chip=${chip},vendor=nvidia,model=H100`],
    ['measurement', () => good.replace(/^chip/, rng.pick(['gpu', 'chips', 'cpu', 'ch\\ ip']))],
    ['missing tag', () => good.replace(rng.pick([`,host=${host}`, `,chip=${chip}`, ',vendor=nvidia', ',model=H100']), '')],
    ['unknown tag', () => good.replace(',model=H100', ',model=H100,evil=1')],
    ['bad vendor', () => good.replace('vendor=nvidia', `vendor=${rng.pick(['amd', 'intel', 'NVIDIA', 'x'])}`)],
    ['bad chip id', () => good.replace(`chip=${chip}`, `chip=${rng.pick(['a/b', '../etc', 'x'.repeat(200), 'ä', 'a%20b'])}`)],
    ['string field', () => good.replace('util_pct=50', 'util_pct="abc"')],
    ['out of range', () => good.replace('util_pct=50', rng.pick(['util_pct=101', 'util_pct=-1', 'temp_c=1000', 'power_w=1e9', 'mem_used_bytes=-5i']))],
    ['NaN field', () => good.replace('util_pct=50', rng.pick(['util_pct=NaN', 'util_pct=Infinity', 'util_pct=1e400', 'util_pct=-inf', 'util_pct=']))],
    ['bool field', () => good.replace('util_pct=50', `util_pct=${rng.pick(['true', 'f', 'T'])}`)],
    ['future ts', () => lpLine(host, chip, now + 10 * 60_000)],
    ['bad ts', () => good.replace(/ \d+$/, ` ${rng.pick(['abc', '-1', '1e18', '99999999999999999999999', '12.5'])}`)],
    ['10000 extras', () => lpLine(host, chip, now - 1000, Array.from({ length: 10_000 }, (_, i) => `x${i}=1`).join(','))],
    ['65 extras', () => lpLine(host, chip, now - 1000, Array.from({ length: 65 }, (_, i) => `x${i}=1`).join(','))],
    ['long host', () => good.replace(`host=${host}`, `host=${'h'.repeat(126 + rng.int(1000))}`)],
    ['duplicate field', () => good.replace('util_pct=50', 'util_pct=50,util_pct=51')],
    ['trailing escape', () => `${good.replace(/ \d+$/, '')}\\`],
    ['NUL bytes', () => good.replace(`host=${host}`, `host=a\u0000b`)],
    ['garbage', () => `x${rng.str(30, 'abc =,"\\')}=`],
    // Valid lines first, then one bad line: the whole request is refused.
    ['valid then bad', () => [lpLine(host, chip, now - 3000), lpLine(host, chip, now - 2000), good.replace('util_pct=50', 'util_pct=abc')].join('\n')],
  ];
  const [op, make] = rng.pick(ops);
  return { body: make(), op, expect: [400], chips: [chip] };
}

// ---------------------------------------------------------------------------------------------
// The well-behaved agents

class GoodAgent {
  ws!: WebSocket;
  seq = 0;
  lastTs = 0;
  timer: NodeJS.Timeout | null = null;
  readonly sentPerChip = new Map<string, number>();
  readonly pending = new Map<number, number>();
  batchesSent = 0;
  batchesAcked = 0;
  readonly problems: string[] = [];
  stopping = false;

  constructor(
    readonly id: string,
    readonly token: string,
    readonly chips: string[],
  ) {}

  async start(port: number): Promise<void> {
    this.ws = new WebSocket(`ws://127.0.0.1:${port}/ws/agent`, { headers: { authorization: `Bearer ${this.token}` }, perMessageDeflate: false });
    const welcomed = new Promise<void>((resolve, reject) => {
      this.ws.on('message', (d) => {
        const f = JSON.parse(String(d));
        if (f.type === 'welcome') return resolve();
        if (f.type === 'ack') {
          const n = this.pending.get(f.seq);
          if (n === undefined) this.problems.push(`ack for unknown seq ${f.seq}`);
          else {
            if (f.stored !== n) this.problems.push(`seq ${f.seq}: stored ${f.stored} of ${n}`);
            this.pending.delete(f.seq);
            this.batchesAcked++;
          }
          return;
        }
        this.problems.push(`${f.type} ${f.code ?? ''}: ${f.message ?? ''}`);
        if (f.type === 'error') reject(new Error(`${this.id}: ${f.code} ${f.message}`));
      });
      this.ws.once('error', reject);
    });
    this.ws.on('close', (code) => {
      if (!this.stopping) this.problems.push(`socket closed (${code}) while streaming`);
    });
    this.ws.on('error', (err) => this.problems.push(`socket error ${err.message}`));
    await new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.ws.send(JSON.stringify(helloFrame(this.id, this.chips.map((c, i) => chipInfo(c, i)))));
    await welcomed;
    this.timer = setInterval(() => this.sendBatch(), 100);
  }

  private sendBatch(): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const ts = Math.max(Date.now(), this.lastTs + 1);
    this.lastTs = ts;
    const seq = this.seq++;
    const samples = this.chips.map((c, i) => sampleFrame(c, ts, seq * 4 + i, 3));
    this.pending.set(seq, samples.length);
    this.ws.send(JSON.stringify({ v: 1, type: 'batch', seq, samples }));
    this.batchesSent++;
    for (const c of this.chips) this.sentPerChip.set(c, (this.sentPerChip.get(c) ?? 0) + 1);
  }

  /** Stop sending; resolves when every batch sent was acked. */
  async drain(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await eventually(() => this.pending.size === 0, 20_000, `${this.id}: every batch acked (${this.pending.size} pending)`);
  }

  close(): void {
    this.stopping = true;
    this.ws.close();
  }
}

/** GET /healthz every ~50 ms until told 'stop'; posts back every latency (ms) and the failures. */
const HEALTH_POLLER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let stop = false;
parentPort.on('message', (m) => { if (m === 'stop') stop = true; });
const get = () => new Promise((resolve) => {
  const req = http.request({ host: '127.0.0.1', port: workerData.port, path: '/healthz', agent, timeout: 10000 }, (res) => {
    res.resume();
    res.on('end', () => resolve(res.statusCode));
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (err) => resolve(err.message));
  req.end();
});
(async () => {
  // Not measured: the first request pays for the connection and this thread's cold start.
  await get();
  await get();
  parentPort.postMessage('ready');
  const lat = [], fails = [], slow = [];
  const start = performance.now();
  while (!stop) {
    const t0 = performance.now();
    const status = await get();
    const dt = performance.now() - t0;
    lat.push(dt);
    if (dt > 50) slow.push(((t0 - start) / 1000).toFixed(2) + 's:' + dt.toFixed(0) + 'ms');
    if (status !== 200) fails.push(String(status));
    // Every 20 ms: ~400 polls in the attack, so that its p99 is not simply its second-slowest poll.
    await new Promise((r) => setTimeout(r, 20));
  }
  agent.destroy();
  parentPort.postMessage({ lat, fails, slow });
})();
`;

interface HealthPoll {
  lat: number[];
  fails: string[];
  slow: string[];
}

/** Start the /healthz poller thread; resolves once it polls, with `stop()` to end it and get its numbers. */
async function startHealthPoller(port: number): Promise<{ stop(): Promise<HealthPoll> }> {
  const worker = new Worker(HEALTH_POLLER, { eval: true, workerData: { port } });
  onTestFinished(() => void worker.terminate());
  let resolveDone!: (r: HealthPoll) => void;
  const done = new Promise<HealthPoll>((r) => (resolveDone = r));
  await new Promise<void>((resolve, reject) => {
    worker.on('message', (m) => (m === 'ready' ? resolve() : resolveDone(m as HealthPoll)));
    worker.once('error', reject);
  });
  return {
    async stop() {
      worker.postMessage('stop');
      const r = await done;
      await worker.terminate();
      return r;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers

interface HttpResult {
  status: number | string;
  code: string;
}

async function http(url: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<HttpResult> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? 20_000) });
    const text = await res.text();
    let code = '';
    try {
      code = JSON.parse(text).code ?? '';
    } catch {
      /* not JSON */
    }
    return { status: res.status, code };
  } catch (err) {
    return { status: 'neterr', code: (err as Error).message };
  }
}

/** A raw request on a fresh TCP socket; resolves with the status of the answer (or 'closed'). */
function rawRequest(port: number, head: string, body = ''): Promise<number | 'closed'> {
  return new Promise((resolve) => {
    const s = netConnect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => (s.destroy(), resolve('closed')), 20_000);
    s.on('data', (d) => {
      got += d;
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      if (m) {
        clearTimeout(timer);
        s.destroy();
        resolve(Number(m[1]));
      }
    });
    s.on('error', () => undefined);
    s.on('close', () => (clearTimeout(timer), resolve('closed')));
    s.write(head + body);
  });
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

function getGc(): (() => void) | null {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  try {
    setFlagsFromString('--expose_gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
}

/** RSS readings after a gc each, `n` of them 200 ms apart (sorted). */
async function rssReadings(n: number): Promise<number[]> {
  const gc = getGc();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 200));
    out.push(process.memoryUsage().rss);
  }
  return out.sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------

let hub: TestHub;
const tally = new Tally();

beforeAll(async () => {
  hub = await startTestHub(HUB_BOUNDS);
});
afterAll(async () => {
  await hub?.stop();
});

describe('hostile input against a live hub', () => {
  it('stays up and fast, answers every bad input with its code, stores nothing invalid or foreign, and loses no good sample', async () => {
    const base = `http://127.0.0.1:${hub.port}`;
    const wsUrl = `ws://127.0.0.1:${hub.port}/ws/agent`;
    const attacker = hub.tokens.create('agent', 'attacker').token;
    const tokenA = hub.tokens.create('agent', 'good a').token;
    const tokenB = hub.tokens.create('agent', 'good b').token;
    const revoked = hub.tokens.create('agent', 'revoked');
    hub.tokens.revoke(revoked.id);
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
    // Gzip bomb: 64 MiB of zeros in ~64 KB (made before the clock starts).
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    const notGzip = Buffer.from('\x1f\x8b\x08\x00garbage-that-is-not-deflate'.repeat(10));

    // -- the well-behaved agents
    const good = [new GoodAgent('good-a', tokenA, [0, 1, 2, 3].map((i) => `GOOD-A-${i}`)), new GoodAgent('good-b', tokenB, [0, 1, 2, 3].map((i) => `GOOD-B-${i}`))];
    onTestFinished(() => {
      for (const g of good) {
        if (g.timer) clearInterval(g.timer);
        g.close();
      }
    });
    for (const g of good) await g.start(hub.port);
    const goodChips = new Map(good.flatMap((g) => g.chips.map((c) => [c, g.id] as const)));

    // A line-protocol host the hijack attempts will try to speak for.
    const lpSetup = await http(`${base}/api/v1/write?precision=ms`, { method: 'POST', headers: bearer(attacker), body: `chip,host=lpatk,chip=LPATK-0,vendor=nvidia,model=H100 util_pct=5 ${Date.now() - 500}` });
    expect(lpSetup.status).toBe(204);

    /** Chips an attacker may legitimately own at the end (accepted hellos, inventories and writes). */
    const attackerChips = new Set<string>(['LPATK-0']);
    const acceptChips = (frameText: string) => {
      const f = JSON.parse(frameText);
      for (const c of f.chips ?? []) attackerChips.add(c.chipId);
    };
    // Heavy payloads, made once before the clock starts (building them would stall this process's event loop).
    const t0Heavy = Date.now() - 60_000;
    const tenThousandSamples = JSON.stringify({ v: 1, type: 'batch', seq: 0, samples: Array.from({ length: 10_001 }, (_, i) => sampleFrame('__CHIP__', t0Heavy - i, i, 0)) });
    const tenThousandExtras = (() => {
      const b = fullBatch(0, ['__CHIP__'], t0Heavy);
      b.samples[0].extras = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`extra_key_${i}`, i]));
      return JSON.stringify(b);
    })();
    // The most expensive frames to refuse that still fit in 4 MiB: 100,000 extras keys, and 10,000 good samples then a bad one.
    const hundredThousandExtras = (() => {
      const b = fullBatch(0, ['__CHIP__'], t0Heavy);
      b.samples[0].extras = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]));
      return JSON.stringify(b);
    })();
    const badLastOf10k = JSON.stringify({ v: 1, type: 'batch', seq: 0, samples: [...Array.from({ length: 9_999 }, (_, i) => sampleFrame('__CHIP__', t0Heavy - i, i, 0)), { ...sampleFrame('__CHIP__', t0Heavy + 1, 0, 0), utilPct: 'x' }] });
    const oversizeFrame = JSON.stringify({ v: 1, type: 'hello', agentId: 'x', pad: 'p'.repeat(5 * 1024 * 1024) });
    const bigBody = 'chip,host=big,chip=BIG-0,vendor=nvidia,model=H100 util_pct=1\n'.repeat(Math.ceil((17 * 1024 * 1024) / 62));

    const openAttacker = async (token = attacker): Promise<Conn> => {
      const c = await openWs(wsUrl, bearer(token));
      if ('refused' in c) throw new Error(`attacker socket refused: ${c.status} ${c.code}`);
      return c;
    };
    /** Send one frame and read the one answer it gets. */
    const exchange = async (c: Conn, data: string | Buffer): Promise<string> => {
      if (!c.send(data)) return `closed:${c.closeCode ?? 'closing'}`;
      return outcome(await c.next(), c.closeCode);
    };
    const probe = (n: number) => JSON.stringify({ v: 1, type: 'batch', seq: n, samples: [sampleFrame('PROBE-CHIP', Date.now() - 1000, n)] });

    // -- workers
    const helloWorker = async (idx: number, n: number) => {
      const rng = prng(SEED + 100 + idx);
      let c: Conn | null = null;
      let errors = 0;
      let openedAt = 0;
      for (let k = 0; k < n; k++) {
        // A new socket before 40 errors (the hub closes at 50) and well before the hello timeout.
        if (!c || c.closed || errors >= 40 || performance.now() - openedAt > (HUB_BOUNDS.helloTimeoutMs ?? 10_000) / 3) {
          c?.close();
          c = await openAttacker();
          openedAt = performance.now();
          errors = 0;
        }
        const id = `atk-h${idx}-${k}`;
        const base = helloFrame(id, [chipInfo(`ATK-H${idx}-${k}-0`, 0), chipInfo(`ATK-H${idx}-${k}-1`, 1)]);
        let h: Hostile;
        let category = 'ws hello (mutated)';
        const r = rng.next();
        if (r < 0.12) {
          h = garbageFrame(rng, base);
          category = 'ws garbage frames';
        } else if (r < 0.17) {
          category = 'ws hello (special)';
          const which = rng.int(4);
          if (which === 0) h = { data: JSON.stringify(helloFrame(id, Array.from({ length: 1025 + rng.int(100) }, (_, i) => chipInfo(`ATK-H${idx}-${k}-${i}`, i % 4000)))), op: '> 1024 chips', expect: ['out_of_range'] };
          else if (which === 1) h = { data: JSON.stringify(helloFrame(rng.pick(['../etc/passwd', 'a b', 'ä', '<script>', 'x'.repeat(129), '']), base.chips)), op: 'bad agent id', expect: ['bad_frame'] };
          else if (which === 2) h = { data: JSON.stringify(fullBatch(k, [`ATK-H${idx}-${k}-0`], Date.now() - 1000)), op: 'batch before hello', expect: ['no_hello'] };
          else h = { data: JSON.stringify({ v: 1, type: 'inventory', chips: base.chips }), op: 'inventory before hello', expect: ['no_hello'] };
        } else h = mutate(rng, base, HELLO_SPECS);
        const got = await exchange(c, h.data);
        tally.record(category, h.op, h.expect, got, typeof h.data === 'string' ? h.data.slice(0, 200) : '<binary>');
        if (got === 'ok') {
          acceptChips(h.data as string);
          c.close();
          c = null;
        } else if (!got.startsWith('closed')) errors++;
      }
      c?.close();
    };

    const batchWorker = async (idx: number, n: number) => {
      const rng = prng(SEED + 200 + idx);
      let c: Conn | null = null;
      let errors = 0;
      let used = 0;
      let sock = 0;
      let own: string[] = [];
      let agentId = '';
      for (let k = 0; k < n; k++) {
        if (!c || c.closed || errors >= 40 || used >= 80) {
          c?.close();
          c = await openAttacker();
          sock++;
          agentId = `atk-b${idx}-${sock}`;
          own = [`ATK-B${idx}-${sock}-0`, `ATK-B${idx}-${sock}-1`];
          const hello = JSON.stringify(helloFrame(agentId, own.map((id, i) => chipInfo(id, i))));
          const got = await exchange(c, hello);
          tally.record('ws setup hello', 'valid hello', ['ok'], got);
          if (got === 'ok') acceptChips(hello);
          errors = 0;
          used = 0;
        }
        used++;
        const ts = Date.now() - 1000 - rng.int(5000);
        const base = fullBatch(k, own, ts);
        const r = rng.next();
        let h: Hostile;
        let category = 'ws batch (mutated)';
        if (r < 0.72) h = mutate(rng, base, BATCH_SPECS);
        else if (r < 0.84) {
          category = 'ws batch (special)';
          const which = rng.int(11);
          if (which >= 8) {
            // Binary batch frames: valid, truncated, or with a few bytes changed.
            category = 'ws batch (binary)';
            const frame = Buffer.from(encodeBatchFrame(base as BatchMessage)!);
            if (which === 8) h = { data: frame, op: 'binary batch', expect: ['ok'] };
            else if (which === 9) h = { data: frame.subarray(0, 1 + rng.int(frame.length - 1)), op: 'truncated binary batch', expect: ['bad_frame'] };
            else {
              for (let i = 1 + rng.int(3); i > 0; i--) frame[rng.int(frame.length)] = rng.int(256);
              h = { data: frame, op: 'binary batch, bytes changed', expect: ['ok', 'bad_frame', 'out_of_range', 'unknown_type', 'unknown_chip', 'bad_json'] };
            }
          } else if (which === 0) h = { data: JSON.stringify(fullBatch(k, own, Date.now() + 10 * 60_000)), op: 'ts 10 min ahead', expect: ['out_of_range'] };
          else if (which === 1) h = { data: JSON.stringify(fullBatch(k, own, rng.pick([0, 1, MIN_TS - 1, -1e12]))), op: 'ts before 2000', expect: ['out_of_range'] };
          else if (which === 2) h = { data: JSON.stringify(fullBatch(k, [`ATK-UNANNOUNCED-${idx}-${k}`], ts)), op: 'unannounced chip', expect: ['unknown_chip'] };
          else if (which === 3) {
            const b = fullBatch(k, own, ts);
            b.samples[0].extras = Object.fromEntries(Array.from({ length: 65 + rng.int(100) }, (_, i) => [`e${i}`, i]));
            h = { data: JSON.stringify(b), op: '> 64 extras', expect: ['out_of_range'] };
          } else if (which === 4) {
            h = { data: tenThousandExtras.replaceAll('__CHIP__', own[0]!), op: '10,000 extras', expect: ['out_of_range'] };
          } else if (which === 5) {
            h = { data: JSON.stringify({ v: 1, type: 'batch', seq: k, samples: [] }), op: 'no samples', expect: ['bad_frame'] };
          } else if (which === 6) {
            const b = fullBatch(k, own, ts);
            b.samples[0].extras = { ['k'.repeat(65 + rng.int(1000))]: 1 };
            h = { data: JSON.stringify(b), op: 'extras key > 64 chars', expect: ['bad_frame'] };
          } else h = { data: JSON.stringify(helloFrame(agentId, own.map((id, i) => chipInfo(id, i)))), op: 'second hello', expect: ['duplicate_hello'] };
        } else if (r < 0.9) {
          // An inventory answers nothing when accepted: a probe (unknown chip) follows it.
          const inv = { v: 1, type: 'inventory', chips: [...own, `ATK-B${idx}-${sock}-inv${k}`].map((id, i) => chipInfo(id, i)) };
          const m = mutate(rng, inv, INVENTORY_SPECS);
          if (!c.send(m.data)) {
            tally.record('ws inventory (mutated)', m.op, m.expect, `closed:${c.closeCode}`);
            continue;
          }
          c.send(probe(k));
          const first = await c.next();
          let got = outcome(first, c.closeCode);
          if (first !== CLOSED && first.type === 'error' && first.code === 'unknown_chip' && String(first.message).includes('PROBE-CHIP')) {
            got = 'ok';
            tally.record('ws probe', 'probe after inventory', ['unknown_chip'], 'unknown_chip');
          } else tally.record('ws probe', 'probe after inventory', ['unknown_chip'], outcome(await c.next(), c.closeCode));
          tally.record('ws inventory (mutated)', m.op, m.expect, got, String(m.data).slice(0, 200));
          if (got === 'ok') acceptChips(m.data as string);
          else errors++;
          errors++;
          continue;
        } else {
          h = garbageFrame(rng, base);
          category = 'ws garbage frames';
        }
        const got = await exchange(c, h.data);
        tally.record(category, h.op, h.expect, got, typeof h.data === 'string' ? h.data.slice(0, 200) : '<binary>');
        if (got !== 'ok' && !got.startsWith('closed')) errors++;
      }
      c?.close();
    };

    /** Hellos from other tokens listing the good agents' chips; then batches and inventories for them. */
    const takeoverWorker = async () => {
      for (let i = 0; i < 20; i++) {
        const useB = i % 2 === 1;
        const victim = good[0]!;
        const c = await openAttacker(useB ? tokenB : attacker);
        const id = useB ? `b-imposter-${i}` : `atk-take-${i}`;
        const stolen = [victim.chips[i % 4]!, victim.chips[(i + 1) % 4]!];
        const own = `ATK-TAKE-${i}`;
        // Everything the hello gets back comes before the answer to a probe sent right after it.
        c.send(JSON.stringify(helloFrame(id, [...stolen, own].map((x, j) => chipInfo(x, j)))));
        c.send(probe(0));
        const answers: string[] = [];
        let named: string[] = [];
        for (;;) {
          const f = await c.next();
          if (f !== CLOSED && f.type === 'error' && ((f.code === 'unknown_chip' && String(f.message).includes('PROBE-CHIP')) || f.code === 'no_hello')) break;
          answers.push(outcome(f, c.closeCode));
          if (f === CLOSED) break;
          if (f.code === 'chip_owned') named = f.chipIds ?? [];
        }
        const got = answers.sort().join('+');
        tally.record('takeover: hello with a good agent\'s chips', useB ? 'another agent\'s token' : 'attacker token', ['chip_owned+ok'], got);
        if (got === 'chip_owned+ok') {
          attackerChips.add(own);
          const exact = named.length === stolen.length && stolen.every((x) => named.includes(x));
          tally.verdict('takeover: chip_owned names the chips', 'chipIds', ['exact'], exact ? 'exact' : `named ${JSON.stringify(named)}`);
        }
        if (c.closed) continue;
        const steal = { v: 1, type: 'batch', seq: 1, samples: stolen.map((x) => ({ ...sampleFrame(x, Date.now() - 50, 1), utilPct: 13.37 })) };
        // Refused outright, or acked with nothing stored (the hub drops samples of chips it told chip_owned).
        c.send(JSON.stringify(steal));
        const stealAnswer = await c.next();
        const stealGot = stealAnswer !== CLOSED && stealAnswer.type === 'ack' ? `ack stored=${stealAnswer.stored}` : outcome(stealAnswer, c.closeCode);
        tally.record('takeover: batch for a good agent\'s chip', 'batch', ['unknown_chip', 'ack stored=0'], stealGot);
        const inv = { v: 1, type: 'inventory', chips: [own, ...good[1]!.chips.slice(0, 2)].map((x, j) => chipInfo(x, j)) };
        c.send(JSON.stringify(inv));
        c.send(probe(2));
        const first = await c.next();
        const invGot = outcome(first, c.closeCode);
        tally.record('takeover: inventory with a good agent\'s chips', 'inventory', ['chip_owned'], invGot);
        if (invGot === 'chip_owned') await c.next(); // the probe's answer
        tally.record('takeover: own chip still works', 'batch', ['ok'], await exchange(c, JSON.stringify({ v: 1, type: 'batch', seq: 3, samples: [sampleFrame(own, Date.now() - 20, 3)] })));
        c.close();
      }
    };

    /** Hellos reusing a good agent's id (or a line-protocol host's) with another token. */
    const hijackWorker = async () => {
      for (let i = 0; i < 30; i++) {
        const target = i % 3 === 2 ? 'lp-lpatk' : good[i % 2]!.id;
        // Mostly the attacker's token; every fifth try the *other* good agent's token (it may not take this id either).
        const token = i % 5 === 4 ? (target === 'good-a' ? tokenB : tokenA) : attacker;
        const c = await openAttacker(token);
        const got = await exchange(c, JSON.stringify(helloFrame(target, [chipInfo(`ATK-HIJ-${i}`, 0)])));
        tally.record('hijack: hello with another token\'s agent id', target, ['agent_owned'], got);
        if (got === 'ok') attackerChips.add(`ATK-HIJ-${i}`);
        const victimChip = target === 'lp-lpatk' ? 'LPATK-0' : goodChips.keys().next().value!;
        const batchGot = await exchange(c, JSON.stringify({ v: 1, type: 'batch', seq: 0, samples: [{ ...sampleFrame(victimChip, Date.now() - 50, 0), utilPct: 13.37 }] }));
        tally.record('hijack: batch after a refused hello', target, ['no_hello', 'closed:*'], batchGot);
        c.close();
      }
    };

    /** One socket sends 2,000 valid batches without waiting; another 1,000 garbage frames. */
    let flood: Conn | null = null;
    const floodSent = 2000;
    let floodStartedAt = 0;
    let floodFrameBytes = 0;
    const floodWorker = async () => {
      flood = await openAttacker();
      const hello = JSON.stringify(helloFrame('atk-flood', [chipInfo('ATK-FLOOD-0', 0)]));
      tally.record('ws setup hello', 'valid hello', ['ok'], await exchange(flood, hello));
      attackerChips.add('ATK-FLOOD-0');
      const t0 = Date.now() - 4000;
      floodStartedAt = performance.now();
      for (let i = 0; i < floodSent; i++) {
        const f = JSON.stringify({ v: 1, type: 'batch', seq: i, samples: [sampleFrame('ATK-FLOOD-0', t0 + i, i, 0)] });
        floodFrameBytes = f.length;
        flood.send(f);
      }
      const g = await openAttacker();
      let lastErrorAt = 0;
      g.ws.on('message', () => (lastErrorAt = performance.now()));
      for (let i = 0; i < 1000; i++) g.send(i % 2 ? 'garbage{' : Buffer.from([0xde, 0xad, 0xbe, 0xef]));
      const code = await new Promise<number | string>((resolve) => {
        if (g.closed) return resolve(g.closeCode!);
        const timer = setTimeout(() => resolve('still open after 20 s'), 20_000);
        g.ws.once('close', (cd) => (clearTimeout(timer), resolve(cd)));
      });
      const closedAfterLastError = performance.now() - lastErrorAt;
      g.close();
      const errs = g.all.filter((f) => f.type === 'error').length;
      // Once the hub gives up on a socket it should be gone soon, not linger while the rest of the flood is read at the frame rate.
      tally.verdict('flood: garbage socket closed', 'gone within 5 s of its last error', ['within 5 s'], closedAfterLastError <= 5000 ? 'within 5 s' : `after ${(closedAfterLastError / 1000).toFixed(1)} s`);
      tally.count('flood: 1,000 garbage frames on one socket', 'error frames', errs);
      tally.count('flood: 1,000 garbage frames on one socket', 'unanswered (socket closed)', 1000 - errs);
      tally.verdict('flood: garbage socket closed', 'close code', ['1008'], String(code));
      tally.verdict('flood: garbage socket closed', 'error frames before the close', ['<= 50'], errs <= 50 ? '<= 50' : String(errs));
    };

    /** Round trips of the frames that are the most expensive to refuse. */
    const expensiveFrames: string[] = [];
    /** The expensive frames: 10,001 samples, 10,000 extras keys, and frames over the 4 MiB limit (closed with 1009). */
    const heavyWorker = async (phase: string, n: number) => {
      const c = await openAttacker();
      const chip = `ATK-HEAVY-${phase}-0`;
      const hello = JSON.stringify(helloFrame(`atk-heavy-${phase}`, [chipInfo(chip, 0)]));
      const got = await exchange(c, hello);
      tally.record('ws setup hello', 'valid hello', ['ok'], got);
      if (got === 'ok') acceptChips(hello);
      for (let i = 0; i < n; i++) {
        tally.record('ws batch (special)', '10,001 samples', ['out_of_range'], await exchange(c, tenThousandSamples.replaceAll('__CHIP__', chip)));
        tally.record('ws batch (special)', '10,000 extras', ['out_of_range'], await exchange(c, tenThousandExtras.replaceAll('__CHIP__', chip)));
        // Each costs the hub's event loop a while to refuse: spaced out, and timed (round trip).
        for (const [op, frame, code] of [['100,000 extras', hundredThousandExtras, 'out_of_range'], ['10,000 samples, the last one bad', badLastOf10k, 'bad_frame']] as const) {
          await new Promise((r) => setTimeout(r, 300));
          const t = performance.now();
          tally.record('ws batch (special)', op, [code], await exchange(c, frame.replaceAll('__CHIP__', chip)));
          expensiveFrames.push(`${op}: ${(performance.now() - t).toFixed(0)} ms`);
        }
      }
      c.close();
      for (let i = 0; i < Math.min(n, 2); i++) {
        const o = await openAttacker();
        tally.record('ws frame > 4 MiB', 'oversize', ['closed:1009'], await exchange(o, oversizeFrame));
        o.close();
      }
    };

    /** Upgrades without a valid token, with the wrong role, or to the wrong place. */
    const wsAuthWorker = async () => {
      const rng = prng(SEED + 300);
      const cases: [string, string, Record<string, string>, number][] = [
        ['no token', '/ws/agent', {}, 401],
        ['wrong token', '/ws/agent', bearer('fs_' + 'x'.repeat(40)), 401],
        ['revoked token', '/ws/agent', bearer(revoked.token), 401],
        ['viewer token on /ws/agent', '/ws/agent', bearer(hub.token.viewer), 403],
        ['agent token on /ws/live', '/ws/live', bearer(attacker), 403],
        ['foreign Origin on /ws/live', '/ws/live', { ...bearer(hub.token.viewer), origin: 'http://evil.example' }, 403],
        ['unknown path', '/ws/evil', bearer(attacker), 404],
        ['token in a bad scheme', '/ws/agent', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, 401],
      ];
      for (let i = 0; i < 64; i++) {
        const [op, path, headers, status] = rng.pick(cases);
        const r = await openWs(`ws://127.0.0.1:${hub.port}${path}`, headers);
        const got = 'refused' in r ? String(r.status) : 'opened';
        if (!('refused' in r)) r.close();
        tally.record('ws upgrade without a valid token', op, [String(status)], got);
      }
    };

    const lpChipsTried = new Set<string>();
    const httpWorker = async (idx: number, n: number) => {
      const rng = prng(SEED + 400 + idx);
      const histCases: [string, number[]][] = [
        ['/api/v1/series?from=garbage', [400]],
        ['/api/v1/series?to=yesterday', [400]],
        ['/api/v1/series?step=0s', [400]],
        ['/api/v1/series?step=1.5s', [400]],
        ['/api/v1/series?step=-1m', [400]],
        ['/api/v1/series?maxPoints=0', [400]],
        ['/api/v1/series?maxPoints=1000000000', [400]],
        ['/api/v1/series?maxPoints=abc', [400]],
        ['/api/v1/series?agg=median', [400]],
        ['/api/v1/series?groupBy=planet', [400]],
        ['/api/v1/series?fields=nope', [400]],
        ['/api/v1/series?fields=', [400]],
        ['/api/v1/series?format=xml', [400]],
        ['/api/v1/series?chip=NOPE-CHIP', [400]],
        ['/api/v1/series?vendor=amd', [400]],
        ['/api/v1/series?bogus=1', [400]],
        ['/api/v1/series?from=now-1h&from=now-2h', [400]],
        ['/api/v1/series?from=now-3650d&step=1s', [400]],
        ['/api/v1/series?from=now&to=now-1h', [400]],
        ['/api/v1/series?chip=%zz', [400]],
        ['/api/v1/energy?groupBy=fleet', [400]],
        ['/api/v1/energy?from=soon', [400]],
        ['/api/v1/energy?chip=NOPE-CHIP', [400]],
        ['/api/v1/top?k=0', [400]],
        ['/api/v1/top?k=1001', [400]],
        ['/api/v1/top?k=-1', [400]],
        ['/api/v1/top?field=nope', [400]],
        ['/api/v1/top?order=up', [400]],
        ['/api/v1/chips/NOPE-CHIP/samples', [404]],
        ['/api/v1/chips/..%2F..%2Fetc%2Fpasswd/samples', [404]],
        ['/api/v1/chips/GOOD-A-0/samples?limit=0', [400]],
        ['/api/v1/chips/GOOD-A-0/samples?limit=1000000000', [400]],
        ['/api/v1/chips/GOOD-A-0/samples?limit=abc', [400]],
        ['/api/v1/chips/GOOD-A-0/samples?from=abc', [400]],
        ['/api/v1/chips/GOOD-A-0/samples?from=2000000000000&to=1000000000000', [400]],
      ];
      const fuzzParams: [string, string][] = [
        ['/api/v1/series', 'from'], ['/api/v1/series', 'to'], ['/api/v1/series', 'step'], ['/api/v1/series', 'agg'], ['/api/v1/series', 'groupBy'],
        ['/api/v1/series', 'maxPoints'], ['/api/v1/series', 'fields'], ['/api/v1/series', 'format'], ['/api/v1/series', 'chip'],
        ['/api/v1/top', 'k'], ['/api/v1/top', 'field'], ['/api/v1/top', 'order'], ['/api/v1/energy', 'groupBy'], ['/api/v1/energy', 'from'],
      ];
      const authCases: [string, () => Promise<HttpResult>, number][] = [
        ['GET chips, no token', () => http(`${base}/api/v1/chips`), 401],
        ['GET chips, wrong token', () => http(`${base}/api/v1/chips`, { headers: bearer(`fs_${rng.str(43)}`) }), 401],
        ['GET chips, revoked token', () => http(`${base}/api/v1/chips`, { headers: bearer(revoked.token) }), 401],
        ['GET chips, ?p=wrong', () => http(`${base}/api/v1/chips?p=${rng.str(20)}`), 401],
        ['GET chips, bad cookie', () => http(`${base}/api/v1/chips`, { headers: { cookie: `fleetscope_session=${rng.str(30)}` } }), 401],
        ['GET series, agent token', () => http(`${base}/api/v1/series`, { headers: bearer(attacker) }), 403],
        ['POST write, no token', () => http(`${base}/api/v1/write`, { method: 'POST', body: lpLine('noauth', 'NOAUTH-0', Date.now()) }), 401],
        ['POST write, viewer token', () => http(`${base}/api/v1/write`, { method: 'POST', headers: bearer(hub.token.viewer), body: lpLine('viewer', 'VIEWER-0', Date.now()) }), 403],
        ['POST write, wrong token', () => http(`${base}/api/v1/write`, { method: 'POST', headers: { authorization: `Token ${rng.str(30)}` }, body: lpLine('wrong', 'WRONG-0', Date.now()) }), 401],
        ['POST tokens, agent token', () => http(`${base}/api/v1/tokens`, { method: 'POST', headers: { ...bearer(attacker), 'content-type': 'application/json' }, body: '{"role":"admin","name":"pwn"}' }), 403],
        ['POST tokens, no token', () => http(`${base}/api/v1/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"role":"admin","name":"pwn"}' }), 401],
        ['GET tokens, viewer token', () => http(`${base}/api/v1/tokens`, { headers: bearer(hub.token.viewer) }), 403],
      ];
      for (let k = 0; k < n; k++) {
        const r = rng.next();
        if (r < 0.5) {
          const lp = lpHostile(rng, idx * 100_000 + k);
          lp.chips.forEach((c) => lpChipsTried.add(c));
          const res = await http(`${base}/api/v1/write`, { method: 'POST', headers: bearer(attacker), body: lp.body });
          tally.record('line protocol (malformed)', lp.op, lp.expect.map(String), String(res.status), lp.body.slice(0, 200));
        } else if (r < 0.7) {
          const [path, statuses] = rng.pick(histCases);
          const res = await http(`${base}${path}`, { headers: bearer(hub.token.viewer) });
          tally.record('history API (bad query)', path, statuses.map(String), String(res.status));
        } else if (r < 0.82) {
          const [path, param] = rng.pick(fuzzParams);
          const junk = `zz${rng.str(1 + rng.int(40), 'abc!@#$%^&*()=?/\\\'" ,;:[]{}<>|~`+\u00e9\u4e2d')}`;
          const res = await http(`${base}${path}?${param}=${encodeURIComponent(junk)}`, { headers: bearer(hub.token.viewer) });
          tally.record('history API (bad query)', `fuzz ${param}`, ['400'], String(res.status), junk);
        } else {
          const [op, run, status] = rng.pick(authCases);
          const res = await run();
          tally.record('HTTP without a valid token', op, [String(status)], String(res.status));
        }
      }
    };

    /** Bodies over the limit, gzip bombs, bad encodings, huge declared lengths, huge URLs, takeovers by write. */
    const httpSpecialWorker = async (phase: string, n: number) => {
      const rng = prng(SEED + 500 + n);
      const write = `${base}/api/v1/write`;
      for (let i = 0; i < n; i++) {
        const res = await http(write, { method: 'POST', headers: { ...bearer(attacker), 'content-encoding': 'gzip' }, body: bomb });
        tally.record('write: gzip bomb (64 MiB of zeros)', 'gzip bomb', ['413'], String(res.status));
      }
      for (let i = 0; i < n; i++) {
        const res = await http(write, { method: 'POST', headers: { ...bearer(attacker), 'content-encoding': 'gzip' }, body: notGzip });
        tally.record('write: bad encodings', 'not gzip', ['400'], String(res.status));
        const enc = rng.pick(['br', 'deflate', 'compress', 'zstd', 'gzip, br', 'x-evil']);
        const res2 = await http(write, { method: 'POST', headers: { ...bearer(attacker), 'content-encoding': enc }, body: lpLine('enc', 'ENC-0', Date.now()) });
        tally.record('write: bad encodings', `Content-Encoding ${enc}`, ['415'], String(res2.status));
        const res3 = await http(`${write}?precision=${rng.pick(['xs', 'h', 'NS', ''])}x`, { method: 'POST', headers: bearer(attacker), body: lpLine('prec', 'PREC-0', Date.now()) });
        tally.record('write: bad precision', 'precision', ['400'], String(res3.status));
      }
      for (let i = 0; i < n; i++) {
        const got = await rawRequest(hub.port, `POST /api/v1/write HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${attacker}\r\nContent-Length: ${17 * 1024 * 1024 + rng.int(1e9)}\r\n\r\n`, 'chip,host=a');
        tally.record('write: declared body > 16 MiB', 'Content-Length', ['413'], String(got));
      }
      {
        // A real body over the limit (17 MiB, identity).
        const res = await http(write, { method: 'POST', headers: bearer(attacker), body: bigBody });
        tally.record('write: body > 16 MiB', 'identity', ['413', 'neterr'], String(res.status));
      }
      for (let i = 0; i < Math.min(n, 3); i++) {
        const res = await http(`${base}/api/v1/series?chip=${'A'.repeat(100_000)}`, { headers: bearer(hub.token.viewer) });
        tally.record('history API (100 KB URL)', 'huge URL', ['431', '414', '400', 'neterr'], String(res.status));
      }
      for (let i = 0; i < 2 * n; i++) {
        // Line-protocol takeover: a write naming a good agent's chip under another host.
        const victim = `GOOD-${i % 2 ? 'B' : 'A'}-${i % 4}`;
        const res = await http(`${write}?precision=ms`, { method: 'POST', headers: bearer(attacker), body: `chip,host=evil-${phase}-${i},chip=${victim},vendor=nvidia,model=H100 util_pct=13.37 ${Date.now() - 100}` });
        tally.record('write: takeover of a good agent\'s chip', 'line naming a good chip', ['409', '403', '400', '204'], String(res.status));
      }
      // History answers must be bounded in points x series.
      const res = await http(`${base}/api/v1/series?from=now-2d&step=1s&maxPoints=100000&fields=utilPct,powerW,tempC,memUsedBytes`, { headers: bearer(hub.token.viewer), timeoutMs: 30_000 });
      tally.record('history API (unbounded answer)', 'all chips x 2 days at 1 s', ['400'], String(res.status));
    };

    // Warm-up: every path once or a few times, so that the RSS baseline already holds what any first
    // request costs (allocator high-water marks of gzip, big bodies and frames, JIT code, pools).
    // The big ones also side by side: each of libuv's 4 threads that inflates a gzip body keeps its own malloc arena.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        const res = await http(`${base}/api/v1/write`, { method: 'POST', headers: { ...bearer(attacker), 'content-encoding': 'gzip' }, body: bomb });
        tally.record('write: gzip bomb (64 MiB of zeros)', 'gzip bomb', ['413'], String(res.status));
      }),
    );
    await Promise.all([helloWorker(8, 100), helloWorker(9, 100), batchWorker(6, 120), batchWorker(7, 120), batchWorker(8, 120), batchWorker(9, 120), heavyWorker('warm', 1), httpWorker(8, 80), httpWorker(9, 80), httpSpecialWorker('warm', 2)]);
    const warmupInputs = tally.total;

    await new Promise((r) => setTimeout(r, 300));
    // Baseline: the median of five readings; after the run: the lowest of ten over two seconds (where it settles).
    const rssBefore = (await rssReadings(5))[2]!;
    const memBefore = process.memoryUsage();
    const started = performance.now();

    // -- /healthz latency, every ~50 ms for the whole run, from a worker thread: its clock and timers keep
    // running while the hub's event loop (this thread) is busy, so a stall shows in the latency.
    const poller = await startHealthPoller(hub.port);
    const { monitorEventLoopDelay } = await import('node:perf_hooks');
    const eld = monitorEventLoopDelay({ resolution: 5 });
    eld.enable();
    const cpu0 = process.cpuUsage();

    // -- idle sockets that never say hello (opened first: they must be closed by the hub's hello timeout)
    const idleOpened = performance.now();
    const idle = await Promise.all(Array.from({ length: 20 }, () => openAttacker()));
    const idleDeadline = (HUB_BOUNDS.helloTimeoutMs ?? 10_000) + 5_000;
    const idleClosedAt = new Map<Conn, number>();
    for (const c of idle) c.ws.on('close', () => idleClosedAt.set(c, performance.now() - idleOpened));

    // -- slowloris: HTTP requests whose headers never end, one header byte per second
    const slowOpened = performance.now();
    const slow: { s: Socket; closedAfter: number | null; answered: string }[] = [];
    for (let i = 0; i < 20; i++) {
      const entry = { s: netConnect(hub.port, '127.0.0.1'), closedAfter: null as number | null, answered: '' };
      entry.s.on('error', () => undefined);
      entry.s.on('data', (d) => (entry.answered += d));
      entry.s.on('close', () => (entry.closedAfter = performance.now() - slowOpened));
      entry.s.write(`GET /api/v1/chips HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow-${i}: `);
      slow.push(entry);
    }
    const dribble = setInterval(() => {
      for (const e of slow) if (e.closedAfter === null) e.s.write('a');
    }, 1000);

    /** How long each worker ran (s), for the summary. */
    const workerTimes: string[] = [];
    const timed = async (name: string, p: Promise<void>) => {
      await p;
      workerTimes.push(`${name} ${((performance.now() - started) / 1000).toFixed(1)}`);
    };
    await Promise.all([
      timed('hello0', helloWorker(0, 800)),
      timed('hello1', helloWorker(1, 800)),
      timed('batch0', batchWorker(0, 1000)),
      timed('batch1', batchWorker(1, 1000)),
      timed('batch2', batchWorker(2, 1000)),
      timed('batch3', batchWorker(3, 1000)),
      timed('takeover', takeoverWorker()),
      timed('hijack', hijackWorker()),
      timed('flood', floodWorker()),
      timed('heavy', heavyWorker('main', 3)),
      timed('wsAuth', wsAuthWorker()),
      timed('http0', httpWorker(0, 600)),
      timed('http1', httpWorker(1, 600)),
      timed('http2', httpWorker(2, 600)),
      timed('httpSpecial', httpSpecialWorker('main', 10)),
    ]);
    const attackDoneS = (performance.now() - started) / 1000;
    eld.disable();
    const cpu1 = process.cpuUsage(cpu0);

    // The flood socket: whatever it got acked by now.
    const floodConn = flood as Conn | null;
    const floodAcks = floodConn ? floodConn.all.filter((f) => f.type === 'ack') : [];
    const floodErrors = floodConn ? floodConn.all.filter((f) => f.type === 'error') : [];
    // Paced by the hub (a token bucket per agent connection): at most the burst plus the rate over the time it
    // had, plus the frames of one socket read (64 KiB), which are handled before the pause takes hold.
    const floodWindowS = (performance.now() - floodStartedAt) / 1000;
    const floodAllowed = HUB_BOUNDS.agentFrameBurst! + HUB_BOUNDS.agentFramesPerSec! * floodWindowS * 1.1 + Math.ceil(65_536 / (floodFrameBytes + 8));
    tally.verdict('flood: valid batches paced', 'acks vs burst + rate x time', ['within the frame rate'], floodAcks.length <= floodAllowed ? 'within the frame rate' : `${floodAcks.length} acked in ${floodWindowS.toFixed(1)} s`);
    tally.count('flood: 2,000 valid batches on one socket', 'acked by the end of the attack', floodAcks.length);
    tally.count('flood: 2,000 valid batches on one socket', 'not (yet) acked', floodSent - floodAcks.length - floodErrors.length);
    for (const e of floodErrors) tally.count('flood: 2,000 valid batches on one socket', String(e.code));
    floodConn?.close();

    // Idle sockets: closed by the hub's hello timeout (wait for it, bounded).
    await eventually(() => idleClosedAt.size === idle.length, Math.max(1000, idleDeadline - (performance.now() - idleOpened)), 'the hub to close every socket that never said hello').catch(() => undefined);
    const slowDeadline = (HUB_BOUNDS.headersTimeoutMs ?? 10_000) + 5_000;
    await eventually(() => slow.every((e) => e.closedAfter !== null), Math.max(1000, slowDeadline - (performance.now() - slowOpened)), 'the hub to close every slowloris socket').catch(() => undefined);
    for (const c of idle) tally.record('idle sockets (never say hello)', 'idle', ['closed 1008 (no hello)'], idleClosedAt.has(c) ? `closed ${c.closeCode}${/hello/.test(c.closeReason) ? ' (no hello)' : ` (${c.closeReason})`}` : 'still open', `close code ${c.closeCode}`);
    clearInterval(dribble);
    for (const e of slow) {
      tally.record('slowloris sockets (headers never end)', 'slowloris', ['closed by hub (HTTP/1.1 408 Request Timeout)'], e.closedAfter === null ? 'still open at the end' : `closed by hub (${e.answered.split('\r\n')[0] || 'no answer'})`);
      e.s.destroy();
    }
    for (const c of idle) c.close();

    const { lat: latencies, fails: healthFailures, slow: slowPolls } = await poller.stop();
    const runS = (performance.now() - started) / 1000;

    // -- the good agents: every batch acked, every sample stored, nothing else went wrong
    for (const g of good) await g.drain();
    const endTs = Date.now();

    const rssAfter = (await rssReadings(10))[0]!;
    const memAfter = process.memoryUsage();

    // -- what is stored
    const chips = (await hub.get('/api/v1/chips')).body.chips as { chipId: string; agentId: string }[];
    const byId = new Map(chips.map((c) => [c.chipId, c]));
    const foreign: string[] = [];
    for (const c of chips) {
      if (goodChips.has(c.chipId)) continue;
      if (!attackerChips.has(c.chipId)) foreign.push(`${c.chipId} (agent ${c.agentId})`);
    }
    const storedProblems: string[] = [];
    let samplesChecked = 0;
    for (const c of chips) {
      const res = await hub.get(`/api/v1/chips/${encodeURIComponent(c.chipId)}/samples?from=0&to=${endTs + 86_400_000}&limit=100000`);
      const samples = res.body.samples as { ts: number; utilPct: number | null; extras?: Record<string, number> }[];
      samplesChecked += samples.length;
      for (const s of samples) {
        if (s.ts > endTs + 5_000) storedProblems.push(`${c.chipId}: future ts ${s.ts} (${Math.round((s.ts - endTs) / 1000)} s ahead)`);
        if (s.extras && Object.keys(s.extras).length > 64) storedProblems.push(`${c.chipId}: ${Object.keys(s.extras).length} extras keys`);
        if (goodChips.has(c.chipId) && s.utilPct === 13.37) storedProblems.push(`${c.chipId}: a forged sample (utilPct 13.37) at ${s.ts}`);
      }
      if (goodChips.has(c.chipId)) {
        const owner = goodChips.get(c.chipId)!;
        const sent = good.find((g) => g.id === owner)!.sentPerChip.get(c.chipId) ?? 0;
        if (samples.length !== sent) storedProblems.push(`${c.chipId}: ${samples.length} samples stored, ${sent} sent`);
      }
      if (c.chipId === 'ATK-FLOOD-0') {
        const ackedStored = floodAcks.reduce((a, f) => a + (f.stored ?? 0), 0);
        if (samples.length < ackedStored || samples.length > floodSent) storedProblems.push(`ATK-FLOOD-0: ${samples.length} stored, ${ackedStored} acked`);
      }
    }
    const lpStored = [...lpChipsTried].filter((c) => byId.has(c));

    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const max = Math.max(...latencies);
    const summary = [
      `hostile-input: seed ${SEED}; ${tally.total} hostile inputs (${warmupInputs} of them in the warm-up before the RSS baseline); attack ${attackDoneS.toFixed(1)} s, run ${runS.toFixed(1)} s`,
      tally.table(),
      `/healthz: ${latencies.length} polls, p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms, failures ${healthFailures.length}${slowPolls.length ? `; over 50 ms at ${slowPolls.slice(0, 10).join(' ')}` : ''}`,
      `hub thread during the attack: event-loop delay p99 ${(eld.percentile(99) / 1e6).toFixed(1)} ms, max ${(eld.max / 1e6).toFixed(1)} ms; CPU ${((cpu1.user + cpu1.system) / 1e6 / attackDoneS).toFixed(2)} cores (test clients included); workers done at (s): ${workerTimes.join(', ')}`,
      `most expensive frames to refuse (round trip): ${expensiveFrames.join('; ')}`,
      `good agents: ${good.map((g) => `${g.id} sent ${g.batchesSent} batches, acked ${g.batchesAcked}`).join('; ')}`,
      `stored: ${chips.length} chips (${attackerChips.size} attacker chips allowed), ${samplesChecked} samples checked`,
      `RSS: ${(rssBefore / 2 ** 20).toFixed(0)} MiB before, ${(rssAfter / 2 ** 20).toFixed(0)} MiB after (${(((rssAfter - rssBefore) / rssBefore) * 100).toFixed(1)} %); ` +
        (['heapTotal', 'heapUsed', 'external', 'arrayBuffers'] as const).map((k) => `${k} ${(memBefore[k] / 2 ** 20).toFixed(0)} -> ${(memAfter[k] / 2 ** 20).toFixed(0)} MiB`).join(', '),
      `slowloris closed by the hub: ${slow.filter((e) => e.closedAfter !== null).length}/${slow.length} (after ${slow.map((e) => (e.closedAfter === null ? '-' : (e.closedAfter / 1000).toFixed(1))).join(',')} s); idle sockets closed after ${[...idleClosedAt.values()].map((t) => (t / 1000).toFixed(1)).join(',') || '-'} s`,
    ];
    const unexpected: string[] = [];
    if (tally.mismatches.length) {
      const byKey = new Map<string, { n: number; m: Mismatch }>();
      for (const m of tally.mismatches) {
        const key = `${m.category} | ${m.op} | expected ${m.expected.join('/')} | got ${m.got}`;
        const e = byKey.get(key);
        if (e) e.n++;
        else byKey.set(key, { n: 1, m });
      }
      summary.push(`unexpected outcomes (${tally.mismatches.length}):`);
      for (const [key, { n, m }] of [...byKey].sort((a, b) => b[1].n - a[1].n).slice(0, 40)) {
        summary.push(`  ${n} x ${key}${m.detail ? `  e.g. ${m.detail.slice(0, 160)}` : ''}`);
        unexpected.push(`${n} x ${key}`);
      }
    }
    console.log(summary.join('\n'));

    // -- assertions (soft: every failed expectation is reported, not just the first)
    const check = expect.soft;
    check(tally.total).toBeGreaterThanOrEqual(10_000);
    check(healthFailures).toEqual([]);
    check(latencies.length).toBeGreaterThan(50);
    check(p99).toBeLessThanOrEqual(100);
    check((await hub.get('/healthz')).status).toBe(200);

    for (const g of good) {
      check(g.problems, g.id).toEqual([]);
      check(g.batchesAcked).toBe(g.batchesSent);
      check(g.batchesSent).toBeGreaterThan(20);
    }
    for (const [chipId, agentId] of goodChips) check(byId.get(chipId)?.agentId, chipId).toBe(agentId);
    check(foreign).toEqual([]);
    check(lpStored).toEqual([]);
    check(storedProblems).toEqual([]);

    // Every category got the codes it should have, and only those.
    check(unexpected, 'inputs that did not get the answer they should').toEqual([]);
    for (const code of ['bad_frame', 'out_of_range', 'unsupported_version', 'unknown_type', 'bad_json']) check(tally.seen('ws hello (mutated)', code) + tally.seen('ws batch (mutated)', code) + tally.seen('ws garbage frames', code), code).toBeGreaterThan(0);
    for (const code of ['no_hello', 'out_of_range']) check(tally.seen('ws hello (special)', code), code).toBeGreaterThan(0);
    for (const code of ['out_of_range', 'unknown_chip', 'duplicate_hello', 'bad_frame']) check(tally.seen('ws batch (special)', code), code).toBeGreaterThan(0);
    for (const code of ['ok', 'bad_frame']) check(tally.seen('ws batch (binary)', code), code).toBeGreaterThan(0);
    check(tally.seen('takeover: hello with a good agent\'s chips', 'chip_owned+ok')).toBe(20);
    check(tally.seen('hijack: hello with another token\'s agent id', 'agent_owned')).toBe(30);
    for (const s of ['400', '401', '403']) check(tally.seen('line protocol (malformed)', s) + tally.seen('HTTP without a valid token', s) + tally.seen('history API (bad query)', s), s).toBeGreaterThan(0);
    check(tally.seen('write: gzip bomb (64 MiB of zeros)', '413')).toBe(16);
    check(tally.seen('write: bad encodings', '415')).toBe(12);
    check(tally.seen('flood: garbage socket closed', '1008')).toBe(1);
    check(tally.seen('flood: garbage socket closed', '<= 50')).toBe(1);

    // Memory comes back.
    check(rssAfter).toBeLessThanOrEqual(rssBefore * 1.2);
  }, 120_000);

  it('one socket sending frames that are expensive to refuse, at the allowed frame rate, does not stall the hub', async () => {
    // The frame-rate limit counts frames, not the work they cost: a 3.4 MB frame whose one sample has
    // 200,000 extras keys is refused (out_of_range) only after it is parsed and validated.
    const token = hub.tokens.create('agent', 'expensive flooder').token;
    const c = await openWs(`ws://127.0.0.1:${hub.port}/ws/agent`, { authorization: `Bearer ${token}` });
    if ('refused' in c) throw new Error(`refused: ${c.status} ${c.code}`);
    c.send(JSON.stringify(helloFrame('atk-expensive', [chipInfo('ATK-EXP-0', 0)])));
    expect(outcome(await c.next(), c.closeCode)).toBe('ok');
    const b = fullBatch(0, ['ATK-EXP-0'], Date.now() - 60_000);
    b.samples[0].extras = Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`k${i}`, i]));
    const frame = JSON.stringify(b);
    expect(frame.length).toBeLessThan(4 * 1024 * 1024);

    const poller = await startHealthPoller(hub.port);
    await new Promise((r) => setTimeout(r, 250));
    // Three bursts of 15 (within the frame-rate burst of 200, and under the 50 errors that close a socket), half a second apart.
    const n = 45;
    const codes: string[] = [];
    const t0 = performance.now();
    for (let round = 0; round < 3; round++) {
      // The hub runs in this process: sending (masking 3 MiB a frame) yields between frames so the
      // poller measures the hub, not this loop's own sends.
      for (let i = 0; i < 15; i++) {
        c.send(frame);
        await new Promise((r) => setImmediate(r));
      }
      for (let i = 0; i < 15; i++) codes.push(outcome(await c.next(60_000), c.closeCode));
      await new Promise((r) => setTimeout(r, 500));
    }
    const elapsed = performance.now() - t0 - 1500;
    const { lat, fails, slow } = await poller.stop();
    c.close();

    const p99 = percentile(lat, 99);
    // (With about 100 polls, p99 is one of the two slowest.)
    console.log(
      `expensive frames: ${n} x ${(frame.length / 2 ** 20).toFixed(1)} MiB (200,000 extras keys) refused in ${(elapsed / 1000).toFixed(1)} s (${(elapsed / n).toFixed(0)} ms each); ` +
        `/healthz meanwhile: ${lat.length} polls, p50 ${percentile(lat, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${Math.max(...lat).toFixed(1)} ms; slow: ${slow.slice(0, 12).join(' ')}`,
    );
    expect(codes).toEqual(Array(n).fill('out_of_range'));
    expect(fails).toEqual([]);
    expect((await hub.get('/healthz')).status).toBe(200);
    expect(p99).toBeLessThanOrEqual(100);
  }, 90_000);
});
