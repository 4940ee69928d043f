/**
 * A pure, allocation-light parser for InfluxDB line protocol carrying chip samples:
 *
 *   chip,host=h1,chip=GPU-…,vendor=nvidia,model=H100 util_pct=97,power_w=612.45,mem_used_bytes=74690871296i 1795690552842000000
 *
 * One pass over the body with charCode scanning (no regex, no split); the first bad line stops
 * parsing and is reported as `line N: <what is wrong>`. Every finished sample satisfies
 * `sampleSchema` (bounds are read from it, see line-fields.ts).
 */
import { MAX_FUTURE_SKEW_MS, MIN_TS, type Sample, type Vendor } from '../../schema/sample.ts';
import { allDigits, CANONICAL_FIELDS, chipIdProblem, MAX_EXTRA_KEY, parseFieldNumber } from './line-fields.ts';

/** Timestamp precisions accepted in `?precision=` (Influx's default is ns). */
export const PRECISIONS = ['ns', 'us', 'ms', 's'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** One parsed line: the canonical sample plus the tags that place its chip. */
export interface LinePoint {
  /** 1-based line number in the request body. */
  line: number;
  host: string;
  vendor: Vendor;
  model: string;
  instanceType: string | null;
  sample: Sample;
}

export type ParseResult = { ok: true; points: LinePoint[] } | { ok: false; line: number; message: string };

/** Longest host tag: `lp-<host>` must still be a valid agent id (128 chars). */
export const MAX_HOST = 125;
const MAX_MODEL = 64;
const MAX_INSTANCE_TYPE = 64;

const NL = 10, CR = 13, SPACE = 32, TAB = 9, HASH = 35, COMMA = 44, EQ = 61, BSLASH = 92, QUOTE = 34;

class LineError extends Error {}

/**
 * Parse a request body. `now` (ms) stamps points without a timestamp and bounds the future skew.
 * Comment (`#`) and blank lines are skipped; CRLF line ends are accepted.
 */
export function parseLineProtocol(body: string, now: number, precision: Precision = 'ns'): ParseResult {
  const p = new Parser(body, now, precision);
  const points: LinePoint[] = [];
  const len = body.length;
  let pos = 0;
  let lineNo = 0;
  while (pos < len) {
    let nl = body.indexOf('\n', pos);
    if (nl < 0) nl = len;
    lineNo++;
    let start = pos;
    let end = nl;
    pos = nl + 1;
    if (end > start && body.charCodeAt(end - 1) === CR) end--;
    while (start < end && isBlank(body.charCodeAt(start))) start++;
    while (end > start && isBlank(body.charCodeAt(end - 1)) && body.charCodeAt(end - 2) !== BSLASH) end--;
    if (start === end || body.charCodeAt(start) === HASH) continue;
    try {
      points.push(p.line(start, end, lineNo));
    } catch (err) {
      if (err instanceof LineError) return { ok: false, line: lineNo, message: `line ${lineNo}: ${err.message}` };
      throw err;
    }
  }
  return { ok: true, points };
}

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

const fail = (message: string): never => {
  throw new LineError(message);
};

class Parser {
  private pos = 0;
  private end = 0;
  private readonly maxTs: number;

  constructor(
    private readonly s: string,
    private readonly now: number,
    private readonly precision: Precision,
  ) {
    this.maxTs = now + MAX_FUTURE_SKEW_MS;
  }

  line(start: number, end: number, line: number): LinePoint {
    const s = this.s;
    this.pos = start;
    this.end = end;
    const measurement = this.token(COMMA, SPACE, -1);
    if (measurement !== 'chip') fail(`measurement ${JSON.stringify(measurement)} is not accepted; only "chip"`);

    let host: string | null = null, chip: string | null = null, vendor: string | null = null;
    let model: string | null = null, instanceType: string | null = null;
    while (this.pos < end && s.charCodeAt(this.pos) === COMMA) {
      this.pos++;
      const key = this.token(EQ, COMMA, SPACE);
      if (this.pos >= end || s.charCodeAt(this.pos) !== EQ) fail(`tag ${JSON.stringify(key)} has no "=value"`);
      this.pos++;
      const value = this.token(COMMA, SPACE, -1);
      if (key === '') fail('a tag has an empty key');
      if (value === '') fail(`tag ${JSON.stringify(key)} has an empty value`);
      const dup = () => fail(`tag ${JSON.stringify(key)} is given twice`);
      switch (key) {
        case 'host': host === null ? (host = value) : dup(); break;
        case 'chip': chip === null ? (chip = value) : dup(); break;
        case 'vendor': vendor === null ? (vendor = value) : dup(); break;
        case 'model': model === null ? (model = value) : dup(); break;
        case 'instance_type': instanceType === null ? (instanceType = value) : dup(); break;
        default: fail(`unknown tag ${JSON.stringify(key)}; accepted: host, chip, vendor, model, instance_type`);
      }
    }
    if (host === null) fail('missing tag "host"');
    if (chip === null) fail('missing tag "chip"');
    if (vendor === null) fail('missing tag "vendor"');
    if (model === null) fail('missing tag "model"');
    const hostProblem = chipIdProblem(host!, MAX_HOST);
    if (hostProblem) fail(`tag "host": ${JSON.stringify(host)} ${hostProblem}`);
    const chipProblem = chipIdProblem(chip!);
    if (chipProblem) fail(`tag "chip": ${JSON.stringify(chip)} ${chipProblem}`);
    if (vendor !== 'nvidia' && vendor !== 'aws') fail(`tag "vendor": ${JSON.stringify(vendor)} is not "nvidia" or "aws"`);
    if (model!.length > MAX_MODEL) fail(`tag "model" is longer than ${MAX_MODEL} characters`);
    if (instanceType !== null && instanceType.length > MAX_INSTANCE_TYPE) fail(`tag "instance_type" is longer than ${MAX_INSTANCE_TYPE} characters`);

    if (this.pos >= end) fail('no fields');
    this.skipBlanks();
    const sample: Sample = {
      ts: 0, chipId: chip!, utilPct: null, memUtilPct: null, memUsedBytes: null, memTotalBytes: null, powerW: null,
      powerLimitW: null, tempC: null, energyJ: null, smClockMhz: null, eccCorrected: null, eccUncorrected: null,
    };
    this.fields(sample);
    sample.ts = this.pos < end ? this.timestamp() : this.now;
    return { line, host: host!, vendor: vendor as Vendor, model: model!, instanceType, sample };
  }

  /** Fields up to the first unescaped blank (or the line end), written into `sample`. */
  private fields(sample: Sample): void {
    const s = this.s;
    const end = this.end;
    let seen = 0;
    let extras: Record<string, number> | undefined;
    for (;;) {
      const key = this.token(EQ, COMMA, SPACE);
      if (key === '') fail('a field has an empty name (or the line has a stray blank)');
      if (this.pos >= end || s.charCodeAt(this.pos) !== EQ) fail(`field ${JSON.stringify(key)} has no "=value"`);
      const a = ++this.pos;
      if (a < end && s.charCodeAt(a) === QUOTE) fail(`field ${JSON.stringify(key)}: string values are not accepted; send a number`);
      let b = a;
      while (b < end) {
        const c = s.charCodeAt(b);
        if (c === COMMA || c === SPACE || c === TAB) break;
        b++;
      }
      if (a === b) fail(`field ${JSON.stringify(key)} has an empty value`);
      const v = parseFieldNumber(s, a, b);
      if (typeof v === 'string') fail(`field ${JSON.stringify(key)}: ${v}`);
      const n = v as number;
      const spec = CANONICAL_FIELDS.get(key);
      if (spec) {
        if (seen & spec.bit) fail(`field ${JSON.stringify(key)} is given twice`);
        seen |= spec.bit;
        if (n < spec.min) fail(`field ${JSON.stringify(key)}: ${s.slice(a, b)} is below ${spec.min}`);
        if (n > spec.max) fail(`field ${JSON.stringify(key)}: ${s.slice(a, b)} is above ${spec.max}`);
        sample[spec.prop] = n;
      } else {
        if (key.length > MAX_EXTRA_KEY) fail(`field ${JSON.stringify(key.slice(0, 20) + '…')}: names are limited to ${MAX_EXTRA_KEY} characters`);
        if (key === '__proto__') fail('field "__proto__" is not an accepted name');
        extras ??= {};
        if (key in extras) fail(`field ${JSON.stringify(key)} is given twice`);
        extras[key] = n;
      }
      this.pos = b;
      if (b < end && s.charCodeAt(b) === COMMA) {
        this.pos++;
        continue;
      }
      break;
    }
    if (extras) sample.extras = extras;
  }

  /** The optional timestamp after the fields, converted to integer ms (sub-ms digits dropped). */
  private timestamp(): number {
    this.skipBlanks();
    const s = this.s;
    const a = this.pos;
    const b = this.end;
    const raw = s.slice(a, b);
    if (s.charCodeAt(a) === 45 && allDigits(s, a + 1, b)) fail(`timestamp ${raw} (${this.precision}) is before 2000-01-01`);
    if (!allDigits(s, a, b)) fail(`timestamp ${JSON.stringify(raw)} is not an integer (or there is text after the fields)`);
    let ms: number;
    // Cut the sub-ms digits off the string so ns/us timestamps stay exact beyond 2^53.
    if (this.precision === 'ns') ms = b - a > 6 ? Number(s.slice(a, b - 6)) : 0;
    else if (this.precision === 'us') ms = b - a > 3 ? Number(s.slice(a, b - 3)) : 0;
    else if (this.precision === 'ms') ms = Number(raw);
    else ms = Number(raw) * 1000;
    if (ms < MIN_TS) fail(`timestamp ${raw} (${this.precision}) is before 2000-01-01`);
    if (ms > this.maxTs) fail(`timestamp ${raw} (${this.precision}) is more than ${MAX_FUTURE_SKEW_MS / 60_000} min in the future`);
    return ms;
  }

  private skipBlanks(): void {
    while (this.pos < this.end && isBlank(this.s.charCodeAt(this.pos))) this.pos++;
  }

  /**
   * Read from pos up to (not including) the first unescaped stop char or the line end.
   * `\,` `\=` `\ ` unescape to the char; any other backslash stays literal.
   */
  private token(stop1: number, stop2: number, stop3: number): string {
    const s = this.s;
    const end = this.end;
    const a = this.pos;
    let i = a;
    let escaped = false;
    while (i < end) {
      const c = s.charCodeAt(i);
      if (c === BSLASH && i + 1 < end) {
        const n = s.charCodeAt(i + 1);
        if (n === COMMA || n === EQ || n === SPACE) {
          escaped = true;
          i += 2;
          continue;
        }
      }
      if (c === stop1 || c === stop2 || c === stop3 || c === TAB) break;
      i++;
    }
    this.pos = i;
    if (!escaped) return s.slice(a, i);
    let out = '';
    let from = a;
    for (let j = a; j < i; j++) {
      if (s.charCodeAt(j) === BSLASH) {
        const n = s.charCodeAt(j + 1);
        if (n === COMMA || n === EQ || n === SPACE) {
          out += s.slice(from, j);
          from = j + 1;
          j++;
        }
      }
    }
    return out + s.slice(from, i);
  }
}
