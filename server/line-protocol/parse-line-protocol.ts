/**
 * A pure, allocation-light parser for InfluxDB line protocol carrying chip samples:
 *
 *   chip,host=h1,chip=GPU-…,vendor=nvidia,model=H100 util_pct=97,power_w=612.45,mem_used_bytes=74690871296i 1795690552842000000
 *
 * and jobs' work counters (`work,job=run-7,host=h1 tokens=123456i,steps=15i`, see LineWork).
 *
 * One pass over the body with charCode scanning (no regex, no split); the first bad line stops
 * parsing and is reported as `line N: <what is wrong>`. Every finished sample satisfies
 * `sampleSchema` (bounds are read from it, see line-fields.ts).
 */
import { MAX_EXTRAS_KEYS, MIN_TS, type Sample, type Vendor } from '../../schema/sample.ts';
import { timeWindowProblem, windowBounds, type TimeWindow } from '../../schema/time-window.ts';
import { allDigits, CANONICAL_FIELDS, canonicalFieldAt, chipIdProblem, MAX_EXTRA_KEY, parseFieldNumber } from './line-fields.ts';
import { mapNvidiaSmi, NVIDIA_SMI_MEASUREMENT } from './telegraf-nvidia-smi.ts';
import { detached, TagCache } from './tag-cache.ts';
import { jobIdSchema, MAX_WORK_COUNTERS, MAX_WORK_LABELS, workUnitSchema, type WorkReport } from '../../schema/work.ts';

/** The measurement of work counter lines. */
export const WORK_MEASUREMENT = 'work';
import { BSLASH, COMMA, CR, EQ, fail, HASH, isBlank, LineError, LineScanner, outOfRange, QUOTE, SPACE, TAB, type LineErrorCode } from './line-scanner.ts';

/** Timestamp precisions accepted in `?precision=` (Influx's default is ns). */
export const PRECISIONS = ['ns', 'us', 'ms', 's'] as const;
/** A timestamp precision of `?precision=`. */
export type Precision = (typeof PRECISIONS)[number];

/** One parsed line: the canonical sample plus the tags that place its chip. */
export interface LinePoint {
  /** 1-based line number in the request body. */
  line: number;
  host: string;
  vendor: Vendor;
  model: string;
  instanceType: string | null;
  /** The chip's index on its host when the line names it (Telegraf nvidia_smi `index`). */
  index?: number | null;
  sample: Sample;
}

/**
 * One `work` line: a job's work counters on a host (`work,job=…,host=…[,chip=…][,label=…] tokens=…i`),
 * as a work report (schema/work.ts). Without a `chip` tag the report names every chip of the host.
 */
export interface LineWork {
  line: number;
  host: string;
  report: WorkReport;
}

/** All points and work reports of a body, or the first bad line (`message` starts with `line N: `). */
export type ParseResult = { ok: true; points: LinePoint[]; work: LineWork[] } | { ok: false; line: number; message: string; code: LineErrorCode };

export type { LineErrorCode };

/** Longest host tag: `lp-<host>` must still be a valid agent id (128 chars). */
export const MAX_HOST = 125;
const MAX_MODEL = 64;
const MAX_INSTANCE_TYPE = 64;

/**
 * Parse a request body (UTF-8 bytes, or text). `now` (ms) stamps points without a timestamp;
 * timestamps outside the `window` around it (default: more than 5 s ahead) are out of range.
 * Comment (`#`) and blank lines are skipped; CRLF line ends are accepted. Bytes are decoded a
 * line at a time (a newline byte is never part of a multi-byte character): short strings that
 * die young, where one string of the whole body would be one large allocation per request.
 */
export function parseLineProtocol(body: string | Uint8Array, now: number, precision: Precision = 'ns', window?: TimeWindow, tagCache: TagCache<Tags> = new TagCache()): ParseResult {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const p = new Parser(now, precision, window, tagCache);
  const points: LinePoint[] = [];
  const work: LineWork[] = [];
  const len = bytes.length;
  let pos = 0;
  let lineNo = 0;
  while (pos < len) {
    let nl = bytes.indexOf(10, pos);
    if (nl < 0) nl = len;
    lineNo++;
    const text = bytes.toString('utf8', pos, nl);
    pos = nl + 1;
    let start = 0;
    let end = text.length;
    if (end > start && text.charCodeAt(end - 1) === CR) end--;
    while (start < end && isBlank(text.charCodeAt(start))) start++;
    while (end > start && isBlank(text.charCodeAt(end - 1)) && text.charCodeAt(end - 2) !== BSLASH) end--;
    if (start === end || text.charCodeAt(start) === HASH) continue;
    try {
      const got = p.line(text, start, end, lineNo);
      if ('report' in got) work.push(got);
      else points.push(got);
    } catch (err) {
      if (err instanceof LineError) return { ok: false, line: lineNo, message: `line ${lineNo}: ${err.message}`, code: err.code };
      throw err;
    }
  }
  return { ok: true, points, work };
}

/** The tags of a line, validated; shared by every line with the same raw tag section. */
export interface Tags {
  host: string;
  chip: string;
  vendor: Vendor;
  model: string;
  instanceType: string | null;
}

class Parser extends LineScanner {
  private readonly minTs: number;
  private readonly maxTs: number;
  /** Canonical field values of the current line, by slot (valid where the seen bit is set). */
  private readonly values = new Float64Array(CANONICAL_FIELDS.size);
  private extras: Record<string, number> | undefined;

  constructor(
    private readonly now: number,
    private readonly precision: Precision,
    private readonly window: TimeWindow | undefined,
    private readonly tagCache: TagCache<Tags>,
  ) {
    super();
    ({ lo: this.minTs, hi: this.maxTs } = windowBounds(now, window));
  }

  line(s: string, start: number, end: number, line: number): LinePoint | LineWork {
    this.s = s;
    this.pos = start;
    this.end = end;
    if (s.startsWith('chip', start) && (s.charCodeAt(start + 4) === COMMA || isBlank(s.charCodeAt(start + 4)))) this.pos = start + 4;
    else {
      const measurement = this.token(COMMA, SPACE);
      if (measurement === NVIDIA_SMI_MEASUREMENT) return this.nvidiaSmiLine(line);
      if (measurement === WORK_MEASUREMENT) return this.workLine(line);
      if (measurement !== 'chip') fail(`measurement ${JSON.stringify(measurement)} is not accepted; only "chip", "work" and Telegraf's "nvidia_smi"`);
    }
    const tags = this.cachedTags();
    if (this.pos >= end) fail('no fields');
    this.skipBlanks();
    const v = this.values;
    const seen = this.fields();
    const ts = this.pos < end ? this.timestamp() : this.now;
    // Slot i / bit 1 << i is SAMPLE_FIELDS[i] (checked in line-fields.ts).
    const sample: Sample = {
      ts, chipId: tags.chip, utilPct: seen & 1 ? v[0] : null, memUtilPct: seen & 2 ? v[1] : null,
      memUsedBytes: seen & 4 ? v[2] : null, memTotalBytes: seen & 8 ? v[3] : null, powerW: seen & 16 ? v[4] : null,
      powerLimitW: seen & 32 ? v[5] : null, tempC: seen & 64 ? v[6] : null, energyJ: seen & 128 ? v[7] : null,
      smClockMhz: seen & 256 ? v[8] : null, eccCorrected: seen & 512 ? v[9] : null, eccUncorrected: seen & 1024 ? v[10] : null,
    };
    if (this.extras) sample.extras = this.extras;
    return { line, host: tags.host, vendor: tags.vendor, model: tags.model, instanceType: tags.instanceType, sample };
  }

  /** A Telegraf nvidia_smi line (telegraf-nvidia-smi.ts), from its tags on. */
  private nvidiaSmiLine(line: number): LinePoint {
    const tags = this.rawTags();
    if (this.pos >= this.end) fail('no fields');
    this.skipBlanks();
    const fields = this.rawFields();
    const ts = this.pos < this.end ? this.timestamp() : this.now;
    const res = mapNvidiaSmi(tags, fields, MAX_HOST);
    if (!res.ok) throw new LineError(res.message, res.code);
    const { point } = res;
    const v = point.values;
    const sample: Sample = {
      ts, chipId: point.chipId, utilPct: v.utilPct ?? null, memUtilPct: v.memUtilPct ?? null, memUsedBytes: v.memUsedBytes ?? null,
      memTotalBytes: v.memTotalBytes ?? null, powerW: v.powerW ?? null, powerLimitW: v.powerLimitW ?? null, tempC: v.tempC ?? null,
      energyJ: null, smClockMhz: v.smClockMhz ?? null, eccCorrected: null, eccUncorrected: null,
    };
    if (point.extras) sample.extras = point.extras;
    return { line, host: point.host, vendor: 'nvidia', model: point.model, instanceType: point.instanceType, index: point.index, sample };
  }

  /** A `work` line, from its tags on: tags job and host (chip optional, others are labels), counters as fields. */
  private workLine(line: number): LineWork {
    const tags = this.rawTags();
    if (this.pos >= this.end) fail('no fields');
    this.skipBlanks();
    const fields = this.rawFields();
    const ts = this.pos < this.end ? this.timestamp() : this.now;
    const job = tags.get('job');
    const host = tags.get('host');
    if (job === undefined) fail('missing tag "job"');
    if (host === undefined) fail('missing tag "host"');
    const jobOk = jobIdSchema.safeParse(job);
    if (!jobOk.success) fail(`tag "job": ${jobOk.error.issues[0].message}`);
    const hostProblem = chipIdProblem(host, MAX_HOST);
    if (hostProblem) fail(`tag "host": ${JSON.stringify(host)} ${hostProblem}`);
    const chip = tags.get('chip');
    if (chip !== undefined) {
      const chipProblem = chipIdProblem(chip);
      if (chipProblem) fail(`tag "chip": ${JSON.stringify(chip)} ${chipProblem}`);
    }
    const labels: Record<string, string> = {};
    let nLabels = 0;
    for (const [k, v] of tags) {
      if (k === 'job' || k === 'host' || k === 'chip') continue;
      if (k === '__proto__' || k.length > 64 || v.length > 256) fail(`tag ${JSON.stringify(k.slice(0, 20))}: labels are names of at most 64 characters with values of at most 256`);
      if (++nLabels > MAX_WORK_LABELS) outOfRange(`at most ${MAX_WORK_LABELS} labels on a work line`);
      labels[k] = v;
    }
    const counters: Record<string, number> = {};
    let nCounters = 0;
    for (const [unit, v] of fields) {
      if (!workUnitSchema.safeParse(unit).success || unit === '__proto__') fail(`field ${JSON.stringify(unit)}: a unit is a letter, then letters, digits or _ (tokens, steps, samples)`);
      if (typeof v !== 'number') fail(`field ${JSON.stringify(unit)}: a work counter is a number`);
      if (v < 0 || v > 1e18) outOfRange(`field ${JSON.stringify(unit)}: a work counter is from 0 to 1e18`);
      if (++nCounters > MAX_WORK_COUNTERS) outOfRange(`at most ${MAX_WORK_COUNTERS} counters on a work line`);
      counters[unit] = v;
    }
    const report: WorkReport = { ts, job, counters };
    if (chip !== undefined) report.chips = [chip];
    if (nLabels > 0) report.labels = labels;
    return { line, host, report };
  }

  /** The tag section (from pos to the first unescaped blank), parsed once per distinct text (tag-cache.ts). */
  private cachedTags(): Tags {
    const a = this.pos;
    const b = this.scan(SPACE, -1, -1);
    const raw = this.s.slice(a, b);
    let tags = this.tagCache.get(raw);
    if (tags === undefined) {
      this.pos = a;
      tags = this.tags();
      this.tagCache.set(raw, tags);
    }
    this.pos = b;
    return tags;
  }

  private tags(): Tags {
    const s = this.s;
    const end = this.end;
    let host: string | null = null, chip: string | null = null, vendor: string | null = null;
    let model: string | null = null, instanceType: string | null = null;
    while (this.pos < end && s.charCodeAt(this.pos) === COMMA) {
      this.pos++;
      const key = this.token(EQ, COMMA, SPACE);
      if (this.pos >= end || s.charCodeAt(this.pos) !== EQ) fail(`tag ${JSON.stringify(key)} has no "=value"`);
      this.pos++;
      const value = this.token(COMMA, SPACE);
      if (key === '') fail('a tag has an empty key');
      if (value === '') fail(`tag ${JSON.stringify(key)} has an empty value`);
      let dup = false;
      switch (key) {
        case 'host': dup = host !== null; host = value; break;
        case 'chip': dup = chip !== null; chip = value; break;
        case 'vendor': dup = vendor !== null; vendor = value; break;
        case 'model': dup = model !== null; model = value; break;
        case 'instance_type': dup = instanceType !== null; instanceType = value; break;
        default: fail(`unknown tag ${JSON.stringify(key)}; accepted: host, chip, vendor, model, instance_type`);
      }
      if (dup) fail(`tag ${JSON.stringify(key)} is given twice`);
    }
    if (host === null) fail('missing tag "host"');
    if (chip === null) fail('missing tag "chip"');
    if (vendor === null) fail('missing tag "vendor"');
    if (model === null) fail('missing tag "model"');
    const hostProblem = chipIdProblem(host, MAX_HOST);
    if (hostProblem) fail(`tag "host": ${JSON.stringify(host)} ${hostProblem}`);
    const chipProblem = chipIdProblem(chip);
    if (chipProblem) fail(`tag "chip": ${JSON.stringify(chip)} ${chipProblem}`);
    if (vendor !== 'nvidia' && vendor !== 'aws') fail(`tag "vendor": ${JSON.stringify(vendor)} is not "nvidia" or "aws"`);
    if (model.length > MAX_MODEL) fail(`tag "model" is longer than ${MAX_MODEL} characters`);
    if (instanceType !== null && instanceType.length > MAX_INSTANCE_TYPE) fail(`tag "instance_type" is longer than ${MAX_INSTANCE_TYPE} characters`);
    // Copies: the cache keeps these beyond the request (tag-cache.ts, detached).
    return { host: detached(host), chip: detached(chip), vendor: vendor === 'nvidia' ? 'nvidia' : 'aws', model: detached(model), instanceType: instanceType === null ? null : detached(instanceType) };
  }

  /**
   * Fields up to the first blank (or the line end): canonical values go to `values[slot]`
   * (returns the bitmask of slots set), others to `this.extras`.
   */
  private fields(): number {
    const s = this.s;
    const end = this.end;
    const values = this.values;
    let seen = 0;
    let extras: Record<string, number> | undefined;
    let nExtras = 0;
    for (;;) {
      const ka = this.pos;
      const kb = this.scan(EQ, COMMA, SPACE);
      const escaped = this.escaped;
      if (ka === kb) fail('a field has an empty name (or the line has a stray blank)');
      const spec = escaped ? CANONICAL_FIELDS.get(this.unescape(ka, kb)) : canonicalFieldAt(s, ka, kb);
      if (kb >= end || s.charCodeAt(kb) !== EQ) fail(`field ${JSON.stringify(this.text(ka, kb, escaped))} has no "=value"`);
      const a = kb + 1;
      if (a < end && s.charCodeAt(a) === QUOTE) fail(`field ${JSON.stringify(this.text(ka, kb, escaped))}: string values are not accepted; send a number`);
      let b = a;
      while (b < end) {
        const c = s.charCodeAt(b);
        if (c === COMMA || c === SPACE || c === TAB) break;
        b++;
      }
      if (a === b) fail(`field ${JSON.stringify(this.text(ka, kb, escaped))} has an empty value`);
      const v = parseFieldNumber(s, a, b);
      if (typeof v === 'string') fail(`field ${JSON.stringify(this.text(ka, kb, escaped))}: ${v}`);
      if (spec !== undefined) {
        if (seen & spec.bit) fail(`field ${JSON.stringify(this.text(ka, kb, escaped))} is given twice`);
        seen |= spec.bit;
        if (v < spec.min) outOfRange(`field ${JSON.stringify(this.text(ka, kb, escaped))}: ${s.slice(a, b)} is below ${spec.min}`);
        if (v > spec.max) outOfRange(`field ${JSON.stringify(this.text(ka, kb, escaped))}: ${s.slice(a, b)} is above ${spec.max}`);
        values[spec.slot] = v;
      } else {
        const name = this.text(ka, kb, escaped);
        if (name.length > MAX_EXTRA_KEY) outOfRange(`field ${JSON.stringify(name.slice(0, 20) + '…')}: names are limited to ${MAX_EXTRA_KEY} characters`);
        if (name === '__proto__') fail('field "__proto__" is not an accepted name');
        extras ??= {};
        if (name in extras) fail(`field ${JSON.stringify(name)} is given twice`);
        if (++nExtras > MAX_EXTRAS_KEYS) outOfRange(`field ${JSON.stringify(name)}: at most ${MAX_EXTRAS_KEYS} fields besides the chip's own (${CANONICAL_FIELDS.size}) per line`);
        extras[name] = v;
      }
      this.pos = b;
      if (b < end && s.charCodeAt(b) === COMMA) {
        this.pos++;
        continue;
      }
      break;
    }
    this.extras = extras;
    return seen;
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
    if (ms < MIN_TS) outOfRange(`timestamp ${raw} (${this.precision}) is before 2000-01-01`);
    if (ms > this.maxTs || ms < this.minTs) outOfRange(`timestamp ${raw} (${this.precision}) ${timeWindowProblem(ms, this.now, this.window)}`);
    return ms;
  }

}
