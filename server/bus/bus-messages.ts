/**
 * The messages hubs exchange on the live bus, and their encoding. Pure.
 *
 * Every message is one JSON object whose first key is `hub`, the origin hub's id (a hub drops its
 * own by comparing the first bytes, `ownMessagePrefix`, without parsing), then `t`, its kind, and
 * `at`, the origin's clock (ms) when it was published. Samples travel as rows, not objects:
 * `[ts, utilPct, memUtilPct, memUsedBytes, memTotalBytes, powerW, powerLimitW, tempC, energyJ,
 * flags]` (nulls kept, flags as the bitmask of schema/sample-flags.ts), then, only when the
 * sample has any of them, an object of `smClockMhz`, `eccCorrected`, `eccUncorrected`, `extras`
 * (a row is ~45 % of the bytes of the sample object without its chip id, which a message carries
 * once: 77 bytes against 175 for a typical H100 sample).
 *
 * - `samples`: one chip's committed samples of one agent commit (`chip`, `rows`).
 * - `status`: one chip's status change (`chip`, `status`).
 * - `alerts`: one chip's alert transitions (`events`, as /ws/live `alert` frames carry them).
 * - `summary`: the origin's fleet summary, in parts (`part` of `parts`): chips whose inventory
 *   entry or status changed (`chips`, each with its `slot`, a number the origin gives it for good;
 *   all of them when `full`), and the newest overview values of each chip that reported since the
 *   last summary, in columns by slot (`latest`: `slot`, `age` = at − ts, `utilPct`, `powerW`,
 *   `tempC`, `memUsedBytes`, `flags`; ~40 bytes a chip).
 * - `sync`: asks every hub for a full summary (a hub that just connected or reconnected).
 */
import { alertEventSchema, type AlertEventAnswer } from '../../schema/api-answers.ts';
import type { ChipView } from '../../schema/protocol.ts';
import { OPTIONAL_SAMPLE_FIELDS, type ChipStatus, type Sample } from '../../schema/sample.ts';
import { bitsToFlags, flagsToBits } from '../../schema/sample-flags.ts';

/** A chip as a summary carries it: its view without the latest sample. */
export type RemoteChip = Omit<ChipView, 'latest'>;
/** ... with its slot on the origin hub (what `latest` columns name it by). */
export type SummaryChip = RemoteChip & { slot: number };

/** The overview values of a summary, in columns: index i of every array is one chip. */
export interface SummaryLatest {
  slot: number[];
  /** The summary's `at` minus the sample's ts (ms). */
  age: number[];
  utilPct: (number | null)[];
  powerW: (number | null)[];
  tempC: (number | null)[];
  memUsedBytes: (number | null)[];
  flags: number[];
}

/** A sample as a row (see the module comment). */
export type SampleRow = (number | null | RowRest)[];
interface RowRest {
  smClockMhz?: number | null;
  eccCorrected?: number | null;
  eccUncorrected?: number | null;
  extras?: Record<string, number>;
}

export type BusMessage =
  | { hub: string; t: 'samples'; at: number; chip: string; samples: Sample[] }
  | { hub: string; t: 'status'; at: number; chip: string; status: ChipStatus }
  | { hub: string; t: 'alerts'; at: number; events: AlertEventAnswer[] }
  | { hub: string; t: 'summary'; at: number; full: boolean; part: number; parts: number; chips: SummaryChip[]; latest: SummaryLatest }
  | { hub: string; t: 'sync'; at: number };

export type BusMessageKind = BusMessage['t'];

/** The row of a sample. */
export function sampleRow(s: Sample): SampleRow {
  const row: SampleRow = [s.ts, s.utilPct, s.memUtilPct, s.memUsedBytes, s.memTotalBytes, s.powerW, s.powerLimitW, s.tempC, s.energyJ, flagsToBits(s.flags)];
  if (s.smClockMhz !== undefined || s.eccCorrected !== undefined || s.eccUncorrected !== undefined || s.extras !== undefined) {
    const rest: RowRest = {};
    if (s.smClockMhz !== undefined) rest.smClockMhz = s.smClockMhz;
    if (s.eccCorrected !== undefined) rest.eccCorrected = s.eccCorrected;
    if (s.eccUncorrected !== undefined) rest.eccUncorrected = s.eccUncorrected;
    if (s.extras !== undefined) rest.extras = s.extras;
    row.push(rest);
  }
  return row;
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isNumOrNull = (x: unknown): x is number | null => x === null || isNum(x);

/** The sample of a row; throws on a row this module cannot have written. */
export function rowSample(chipId: string, row: unknown): Sample {
  if (!Array.isArray(row) || (row.length !== 10 && row.length !== 11)) throw new Error('a sample row has 10 or 11 elements');
  const [ts, utilPct, memUtilPct, memUsedBytes, memTotalBytes, powerW, powerLimitW, tempC, energyJ, flags, rest] = row as unknown[];
  if (!isNum(ts) || !isNum(flags)) throw new Error('a sample row needs a numeric ts and flags');
  for (let i = 1; i < 9; i++) if (!isNumOrNull(row[i])) throw new Error(`sample row element ${i} is not a number or null`);
  const s: Sample = {
    ts,
    chipId,
    utilPct: utilPct as number | null,
    memUtilPct: memUtilPct as number | null,
    memUsedBytes: memUsedBytes as number | null,
    memTotalBytes: memTotalBytes as number | null,
    powerW: powerW as number | null,
    powerLimitW: powerLimitW as number | null,
    tempC: tempC as number | null,
    energyJ: energyJ as number | null,
  };
  if (rest !== undefined) {
    if (typeof rest !== 'object' || rest === null || Array.isArray(rest)) throw new Error('the 11th element of a sample row is an object');
    const r = rest as Record<string, unknown>;
    for (const k of OPTIONAL_SAMPLE_FIELDS) {
      if (!(k in r)) continue;
      if (!isNumOrNull(r[k])) throw new Error(`sample row ${k} is not a number or null`);
      s[k] = r[k] as number | null;
    }
    if ('extras' in r) {
      const x = r.extras;
      if (typeof x !== 'object' || x === null || Array.isArray(x) || !Object.values(x).every(isNum)) throw new Error('sample row extras must be an object of numbers');
      s.extras = x as Record<string, number>;
    }
  }
  const f = bitsToFlags(flags);
  if (f !== undefined) s.flags = f;
  return s;
}

/** The first bytes of every message published by `hubId`. */
export function ownMessagePrefix(hubId: string): Buffer {
  return Buffer.from(`{"hub":${JSON.stringify(hubId)},`);
}

/** Was this message published by the hub whose prefix this is? (No parsing.) */
export function hasPrefix(data: Uint8Array, prefix: Uint8Array): boolean {
  if (data.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[i] !== prefix[i]) return false;
  return true;
}

/** A message as bytes (JSON; `hub` first). */
export function encodeBusMessage(m: BusMessage): Uint8Array {
  const head = `{"hub":${JSON.stringify(m.hub)},"t":"${m.t}","at":${JSON.stringify(m.at)}`;
  let body: string;
  switch (m.t) {
    case 'samples':
      body = `,"chip":${JSON.stringify(m.chip)},"rows":${JSON.stringify(m.samples.map(sampleRow))}`;
      break;
    case 'status':
      body = `,"chip":${JSON.stringify(m.chip)},"status":${JSON.stringify(m.status)}`;
      break;
    case 'alerts':
      body = `,"events":${JSON.stringify(m.events)}`;
      break;
    case 'summary':
      body = `,"full":${m.full},"part":${m.part},"parts":${m.parts},"chips":${JSON.stringify(m.chips)},"latest":${JSON.stringify(m.latest)}`;
      break;
    case 'sync':
      body = '';
      break;
  }
  return Buffer.from(`${head}${body}}`);
}

const STATUSES = new Set<ChipStatus>(['live', 'stale', 'offline']);

function str(o: Record<string, unknown>, k: string): string {
  const v = o[k];
  if (typeof v !== 'string' || v === '') throw new Error(`${k} must be a non-empty string`);
  return v;
}

function arr(o: Record<string, unknown>, k: string): unknown[] {
  const v = o[k];
  if (!Array.isArray(v)) throw new Error(`${k} must be an array`);
  return v;
}

function summaryChip(x: unknown): SummaryChip {
  if (typeof x !== 'object' || x === null) throw new Error('a summary chip is an object');
  const c = x as Record<string, unknown>;
  str(c, 'chipId');
  str(c, 'agentId');
  str(c, 'host');
  str(c, 'vendor');
  str(c, 'model');
  if (!STATUSES.has(c.status as ChipStatus)) throw new Error(`a summary chip's status is live, stale or offline`);
  if (!isNum(c.index)) throw new Error("a summary chip's index is a number");
  if (!Number.isInteger(c.slot)) throw new Error("a summary chip's slot is an integer");
  const { latest: _latest, ...chip } = c;
  return chip as unknown as SummaryChip;
}

const LATEST_COLUMNS = ['slot', 'age', 'utilPct', 'powerW', 'tempC', 'memUsedBytes', 'flags'] as const;

/** The columns of `entries` (chip slot, newest sample), ages from `at`. */
export function latestColumns(entries: readonly { slot: number; sample: Sample }[], at: number): SummaryLatest {
  const l: SummaryLatest = { slot: [], age: [], utilPct: [], powerW: [], tempC: [], memUsedBytes: [], flags: [] };
  for (const { slot, sample: s } of entries) {
    l.slot.push(slot);
    l.age.push(at - s.ts);
    l.utilPct.push(s.utilPct);
    l.powerW.push(s.powerW);
    l.tempC.push(s.tempC);
    l.memUsedBytes.push(s.memUsedBytes);
    l.flags.push(flagsToBits(s.flags));
  }
  return l;
}

/**
 * The samples of summary columns, for the chips `chipOf` knows (the fields the columns lack are
 * null, memTotalBytes from `chipOf`); the slots it does not know are listed apart.
 */
export function latestSamples(l: SummaryLatest, at: number, chipOf: (slot: number) => { chipId: string; memTotalBytes: number | null } | undefined): { samples: Sample[]; unknown: number[] } {
  const samples: Sample[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < l.slot.length; i++) {
    const chip = chipOf(l.slot[i]!);
    if (!chip) {
      unknown.push(l.slot[i]!);
      continue;
    }
    const s: Sample = { ts: at - l.age[i]!, chipId: chip.chipId, utilPct: l.utilPct[i]!, memUtilPct: null, memUsedBytes: l.memUsedBytes[i]!, memTotalBytes: chip.memTotalBytes, powerW: l.powerW[i]!, powerLimitW: null, tempC: l.tempC[i]!, energyJ: null };
    const f = bitsToFlags(l.flags[i]!);
    if (f !== undefined) s.flags = f;
    samples.push(s);
  }
  return { samples, unknown };
}

function summaryLatest(x: unknown): SummaryLatest {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new Error('summary latest is an object of columns');
  const o = x as Record<string, unknown>;
  const n = arr(o, 'slot').length;
  for (const k of LATEST_COLUMNS) {
    const col = arr(o, k);
    if (col.length !== n) throw new Error(`summary latest column ${k} has ${col.length} entries, slot ${n}`);
    const nullable = k !== 'slot' && k !== 'age' && k !== 'flags';
    if (!col.every(nullable ? isNumOrNull : isNum)) throw new Error(`summary latest column ${k} holds a value that is not a number${nullable ? ' or null' : ''}`);
  }
  return o as unknown as SummaryLatest;
}

/**
 * A message from its bytes; throws an Error saying what is wrong with one this module cannot
 * have written (the caller counts and drops it).
 */
export function decodeBusMessage(data: Uint8Array): BusMessage {
  const o = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as unknown;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error('a bus message is a JSON object');
  const m = o as Record<string, unknown>;
  const hub = str(m, 'hub');
  const at = m.at;
  if (!isNum(at)) throw new Error('at must be a number');
  switch (m.t) {
    case 'samples': {
      const chip = str(m, 'chip');
      return { hub, t: 'samples', at, chip, samples: arr(m, 'rows').map((r) => rowSample(chip, r)) };
    }
    case 'status': {
      if (!STATUSES.has(m.status as ChipStatus)) throw new Error('status must be live, stale or offline');
      return { hub, t: 'status', at, chip: str(m, 'chip'), status: m.status as ChipStatus };
    }
    case 'alerts':
      {
      const events = alertEventSchema.array().safeParse(arr(m, 'events'));
      if (!events.success) throw new Error(`alert events: ${events.error.issues[0]!.message}`);
      return { hub, t: 'alerts', at, events: events.data };
    }
    case 'summary': {
      const { part, parts } = m;
      if (!isNum(part) || !isNum(parts) || part < 0 || part >= parts) throw new Error('a summary needs part < parts');
      return { hub, t: 'summary', at, full: m.full === true, part, parts, chips: arr(m, 'chips').map(summaryChip), latest: summaryLatest(m.latest) };
    }
    case 'sync':
      return { hub, t: 'sync', at };
    default:
      throw new Error(`unknown bus message kind ${JSON.stringify(m.t)}`);
  }
}
