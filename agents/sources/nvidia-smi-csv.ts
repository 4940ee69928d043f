/**
 * Pure parsing of `nvidia-smi --query-gpu` output: the `--help-query-gpu` field list, CSV rows
 * with or without units (`97 %`, `612.45 W`, `81559 MiB`), model names, and the energy integral
 * nvidia-smi does not give (it has no energy field). No I/O here.
 */
import type { ChipInfo, Sample } from '../../schema/sample.ts';

export { MIB } from '../../schema/units.ts';
import { MIB } from '../../schema/units.ts';
import { gpuModelFromName, knownGpuModel } from '../../schema/gpu-models.ts';

/** What one CSV column means for us. */
export type NvsmiKey =
  | 'timestamp'
  | 'index'
  | 'uuid'
  | 'name'
  | 'utilPct'
  | 'memUtilPct'
  | 'memUsedBytes'
  | 'memTotalBytes'
  | 'powerW'
  | 'powerLimitW'
  | 'tempC'
  | 'smClockMhz'
  | 'eccCorrected'
  | 'eccUncorrected';

interface FieldSpec {
  key: NvsmiKey;
  /** Query names, preferred first (aliases and the names nvidia-smi prints in headers included). */
  names: readonly string[];
  required?: boolean;
  /** Multiplier to canonical units (MiB → bytes). */
  scale?: number;
  /** Valid range in canonical units; values outside become null. */
  range?: readonly [number, number];
}

/** The fields the nvidia-smi source wants, in query order. */
export const NVSMI_FIELDS: readonly FieldSpec[] = [
  { key: 'timestamp', names: ['timestamp'], required: true },
  { key: 'index', names: ['index'] },
  { key: 'uuid', names: ['uuid', 'gpu_uuid'], required: true },
  { key: 'name', names: ['name', 'gpu_name'] },
  { key: 'utilPct', names: ['utilization.gpu'], range: [0, 100] },
  { key: 'memUtilPct', names: ['utilization.memory'], range: [0, 100] },
  { key: 'memUsedBytes', names: ['memory.used'], scale: MIB, range: [0, 2 ** 50] },
  { key: 'memTotalBytes', names: ['memory.total'], scale: MIB, range: [0, 2 ** 50] },
  // power.draw is the 1 s average on Ampere+ (= power.draw.average), instantaneous before
  { key: 'powerW', names: ['power.draw', 'power.draw.average', 'gpu.power.draw.average'], range: [0, 10_000] },
  { key: 'powerLimitW', names: ['power.limit', 'enforced.power.limit', 'gpu.power.requested_limit', 'gpu.power.current_limit'], range: [0, 10_000] },
  { key: 'tempC', names: ['temperature.gpu'], range: [-40, 150] },
  { key: 'smClockMhz', names: ['clocks.current.sm', 'clocks.sm'], range: [0, 10_000] },
  { key: 'eccCorrected', names: ['ecc.errors.corrected.volatile.total'], range: [0, 1e15] },
  { key: 'eccUncorrected', names: ['ecc.errors.uncorrected.volatile.total'], range: [0, 1e15] },
];

const SPEC_BY_KEY = new Map(NVSMI_FIELDS.map((f) => [f.key, f]));

/** The query (and column order) used when every wanted field is supported. */
export const DEFAULT_QUERY_FIELDS: readonly string[] = NVSMI_FIELDS.map((f) => f.names[0]);

/**
 * Field names (aliases included) listed by `nvidia-smi --help-query-gpu`: the lines that hold
 * only quoted names, e.g. `"clocks.current.sm" or "clocks.sm"`.
 */
export function parseHelpQueryGpu(text: string): Set<string> {
  const out = new Set<string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!/^"[A-Za-z0-9_.]+"(\s+or\s+"[A-Za-z0-9_.]+")*$/.test(line)) continue;
    for (const m of line.matchAll(/"([^"]+)"/g)) out.add(m[1]);
  }
  return out;
}

/**
 * The names to query: for each wanted field the first supported name; unsupported optional
 * fields are left out (an unknown field would fail the whole query). Throws if a required one is missing.
 */
export function selectQueryFields(supported: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const f of NVSMI_FIELDS) {
    const name = f.names.find((n) => supported.has(n));
    if (name) out.push(name);
    else if (f.required) throw new Error(`nvidia-smi does not support the required field ${JSON.stringify(f.names[0])}`);
  }
  return out;
}

/** The meaning of each CSV column, by position (null = ignored). */
export type ColumnMap = ReadonlyArray<NvsmiKey | null>;

/**
 * Column map for a list of field names (query names or header names without units). When two
 * columns mean the same thing (power.draw and power.draw.average) the preferred name wins.
 */
export function columnsForFields(fields: readonly string[]): ColumnMap {
  const best = new Map<NvsmiKey, { col: number; rank: number }>();
  fields.forEach((raw, col) => {
    const name = raw.trim();
    for (const f of NVSMI_FIELDS) {
      const rank = f.names.indexOf(name);
      if (rank < 0) continue;
      const cur = best.get(f.key);
      if (!cur || rank < cur.rank) best.set(f.key, { col, rank });
      break;
    }
  });
  const out: Array<NvsmiKey | null> = fields.map(() => null);
  for (const [key, { col }] of best) out[col] = key;
  return out;
}

/** Column map from a `--format=csv` header line (`memory.used [MiB]`); null if it is not one. */
export function parseCsvHeader(line: string): ColumnMap | null {
  const names = line.split(',').map((c) => c.trim().replace(/\s*\[[^\]]*\]$/, ''));
  const cols = columnsForFields(names);
  return cols.includes('timestamp') && cols.includes('uuid') ? cols : null;
}

/** One parsed row, canonical units; null = not reported. */
export interface NvsmiRow {
  ts: number;
  index: number | null;
  uuid: string;
  name: string | null;
  utilPct: number | null;
  memUtilPct: number | null;
  memUsedBytes: number | null;
  memTotalBytes: number | null;
  powerW: number | null;
  powerLimitW: number | null;
  tempC: number | null;
  smClockMhz: number | null;
  eccCorrected: number | null;
  eccUncorrected: number | null;
}

/** A row, or why the line was skipped. */
export type RowResult = { ok: true; row: NvsmiRow } | { ok: false; error: string };

/** `[N/A]`, `[Not Supported]`, `[Unknown Error]`, `N/A`, empty: the tool has no value. */
export function isMissing(cell: string): boolean {
  return cell === '' || /^\[.*\]$/.test(cell) || cell === 'N/A' || cell === 'Not Supported';
}

/** `YYYY/MM/DD HH:MM:SS.mmm` in the host's local time → ms since epoch (null if malformed). */
export function parseNvidiaSmiTimestamp(s: string): number | null {
  const m = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/.exec(s.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number);
  const ms = m[7] ? Number(m[7].padEnd(3, '0')) : 0;
  const date = new Date(y, mo - 1, d, h, mi, sec, ms);
  if (date.getFullYear() !== y || date.getMonth() !== mo - 1 || date.getDate() !== d || h > 23 || mi > 59 || sec > 59) return null;
  return date.getTime();
}

const NUMBER_WITH_UNIT = /^(-?\d+(?:\.\d+)?)(?:\s*(?:%|W|MiB|MHz|C))?$/;

/**
 * Parse one CSV line (with or without units) laid out as `columns`. Garbage, partial lines, a
 * wrong number of fields, a bad timestamp or a non-numeric value give `ok: false`.
 */
export function parseCsvRow(line: string, columns: ColumnMap): RowResult {
  const cells = line.split(',').map((c) => c.trim());
  if (cells.length !== columns.length) return { ok: false, error: `expected ${columns.length} fields, got ${cells.length}` };
  const row: NvsmiRow = {
    ts: 0,
    index: null,
    uuid: '',
    name: null,
    utilPct: null,
    memUtilPct: null,
    memUsedBytes: null,
    memTotalBytes: null,
    powerW: null,
    powerLimitW: null,
    tempC: null,
    smClockMhz: null,
    eccCorrected: null,
    eccUncorrected: null,
  };
  for (let i = 0; i < cells.length; i++) {
    const key = columns[i];
    const cell = cells[i];
    if (key === null) continue;
    if (key === 'timestamp') {
      const ts = parseNvidiaSmiTimestamp(cell);
      if (ts === null) return { ok: false, error: `bad timestamp ${JSON.stringify(cell)}` };
      row.ts = ts;
    } else if (key === 'uuid') {
      if (!/^[A-Za-z0-9._:-]{1,128}$/.test(cell) || isMissing(cell)) return { ok: false, error: `bad uuid ${JSON.stringify(cell)}` };
      row.uuid = cell;
    } else if (key === 'name') {
      row.name = isMissing(cell) ? null : cell;
    } else if (!isMissing(cell)) {
      const m = NUMBER_WITH_UNIT.exec(cell);
      if (!m) return { ok: false, error: `bad ${key} ${JSON.stringify(cell)}` };
      const spec = SPEC_BY_KEY.get(key)!;
      const v = Number(m[1]) * (spec.scale ?? 1);
      if (key === 'index') row.index = Number.isInteger(v) && v >= 0 && v <= 4096 ? v : null;
      else row[key] = spec.range && (v < spec.range[0] || v > spec.range[1]) ? null : v;
    }
  }
  return { ok: true, row };
}

export { gpuModelFromName, knownGpuModel };

/** Chip inventory entry for a GPU from one of its rows (rated power = its power limit then). */
export function rowToChipInfo(row: NvsmiRow, fallbackIndex: number): ChipInfo {
  return {
    chipId: row.uuid,
    vendor: 'nvidia',
    model: gpuModelFromName(row.name),
    index: row.index ?? fallbackIndex,
    cores: null,
    memTotalBytes: row.memTotalBytes,
    ratedPowerW: row.powerLimitW,
  };
}

/** Canonical sample for a row; `energyJ` is the integral of power (so flagged derived when set). */
export function rowToSample(row: NvsmiRow, energyJ: number | null, ts: number = row.ts): Sample {
  const s: Sample = {
    ts,
    chipId: row.uuid,
    utilPct: row.utilPct,
    memUtilPct: row.memUtilPct,
    memUsedBytes: row.memUsedBytes,
    memTotalBytes: row.memTotalBytes,
    powerW: row.powerW,
    powerLimitW: row.powerLimitW,
    tempC: row.tempC,
    energyJ,
    smClockMhz: row.smClockMhz,
    eccCorrected: row.eccCorrected,
    eccUncorrected: row.eccUncorrected,
  };
  if (energyJ !== null) s.flags = { energyDerived: true };
  return s;
}

/**
 * Energy per chip as the trapezoid integral of power over the rows' own timestamps, starting at 0
 * with the first power reading. Monotonic: rows with no power or a non-increasing time add nothing.
 */
export class EnergyIntegrator {
  private readonly last = new Map<string, { ts: number; powerW: number; energyJ: number }>();

  /** Account one reading; returns the chip's energy so far in J (null before any power reading). */
  add(chipId: string, ts: number, powerW: number | null): number | null {
    const prev = this.last.get(chipId);
    if (powerW === null) return prev ? prev.energyJ : null;
    if (!prev) {
      this.last.set(chipId, { ts, powerW, energyJ: 0 });
      return 0;
    }
    const dtS = (ts - prev.ts) / 1000;
    const energyJ = dtS > 0 ? prev.energyJ + ((prev.powerW + powerW) / 2) * dtS : prev.energyJ;
    this.last.set(chipId, { ts: Math.max(ts, prev.ts), powerW, energyJ });
    return energyJ;
  }
}
