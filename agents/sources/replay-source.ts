/**
 * `replay`: plays a capture file back as live data. Formats, told apart by content:
 * nvidia-smi CSV (a header line, with or without units, or no header in the default query order),
 * NVML JSON lines (`{"t": …, "power_mw": …, "energy_mj": …}`) and neuron-monitor JSON reports.
 * Rows keep the spacing of the file's timestamps (divided by `replaySpeed`) and are re-stamped to
 * the replay clock; with `replayLoop` the file starts over and energy keeps counting up.
 *
 * With a phases file (`replayPhases`, or `phases.json` next to the capture when it has a `steps`
 * object) the replay also reports the training run's work: a `steps` counter (and `tokens` when the
 * file gives the model's `seq` and `batch`) for job `replay/<capture folder>`, each phase's steps
 * spread evenly over it and mapped to the replay clock exactly like the rows.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ChipInfo, HostInfo, Sample } from '../../schema/sample.ts';
import { MAX_WORK_CHIPS } from '../../schema/work-limits.ts';
import type { WorkReport } from '../../schema/work.ts';
import type { ChipSource, SourceHealth } from './chip-source.ts';
import { createEccAccumulator, parseNeuronMonitorReport } from './neuron-monitor-report.ts';
import {
  DEFAULT_QUERY_FIELDS,
  EnergyIntegrator,
  columnsForFields,
  gpuModelFromName,
  knownGpuModel,
  parseCsvHeader,
  parseCsvRow,
  rowToChipInfo,
  rowToSample,
} from './nvidia-smi-csv.ts';
import type { SourceOptions } from './source-registry.ts';

const KIND = 'replay';
/** Most samples one read returns (a far-ahead `now` with looping would never end otherwise). */
const MAX_PER_READ = 100_000;

/** Which capture format a replay file holds. */
export type ReplayFormat = 'nvidia-smi-csv' | 'nvml-jsonl' | 'neuron-monitor';

/** Options the replay source reads. */
export type ReplaySourceOptions = Pick<SourceOptions, 'log' | 'replayFile' | 'replaySpeed' | 'replayLoop' | 'replayPhases' | 'hostname' | 'model'>;

/** One point in the file: the samples it produced, stamped with the file's own time. */
export interface ReplayEntry {
  fileTs: number;
  samples: Sample[];
}

/** A parsed capture. */
export interface ReplayCapture {
  format: ReplayFormat;
  /** Host from the capture (neuron-monitor), else null. */
  host: HostInfo | null;
  chips: ChipInfo[];
  /** In file-time order. */
  entries: ReplayEntry[];
  parseErrors: number;
}

/** Tell the format from the first non-empty, non-comment line (null: unknown). */
export function detectReplayFormat(firstLine: string): ReplayFormat | null {
  const line = firstLine.trim();
  if (line.startsWith('{')) {
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      return null;
    }
    if (!o || typeof o !== 'object') return null;
    if ('neuron_runtime_data' in o || 'neuron_hardware_info' in o) return 'neuron-monitor';
    if ('t' in o && ('power_mw' in o || 'energy_mj' in o || 'util_gpu' in o)) return 'nvml-jsonl';
    return null;
  }
  if (parseCsvHeader(line)) return 'nvidia-smi-csv';
  return parseCsvRow(line, columnsForFields(DEFAULT_QUERY_FIELDS)).ok ? 'nvidia-smi-csv' : null;
}

const num = (v: unknown, min: number, max: number): number | null =>
  typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? v : null;

function parseCsv(lines: string[], cap: ReplayCapture): void {
  const header = parseCsvHeader(lines[0]);
  const columns = header ?? columnsForFields(DEFAULT_QUERY_FIELDS);
  const energy = new EnergyIntegrator();
  const chips = new Map<string, ChipInfo>();
  const rows = (header ? lines.slice(1) : lines)
    .map((l) => parseCsvRow(l, columns))
    .flatMap((r) => (r.ok ? [r.row] : (cap.parseErrors++, [])))
    .sort((a, b) => a.ts - b.ts);
  for (const row of rows) {
    if (!chips.has(row.uuid)) chips.set(row.uuid, rowToChipInfo(row, chips.size));
    cap.entries.push({ fileTs: row.ts, samples: [rowToSample(row, energy.add(row.uuid, row.ts, row.powerW))] });
  }
  cap.chips = [...chips.values()];
}

function parseNvml(lines: string[], file: string, model: string | undefined, cap: ReplayCapture): void {
  const base = path.basename(file).replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 100);
  const energy = new EnergyIntegrator();
  const chips = new Map<string, ChipInfo>();
  for (const line of lines) {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line);
    } catch {
      cap.parseErrors++;
      continue;
    }
    const t = o && typeof o === 'object' ? num(o.t, 946_684_800, 1e11) : null;
    if (t === null) {
      cap.parseErrors++;
      continue;
    }
    const ts = Math.round(t * 1000);
    const index = num(o.index ?? o.gpu ?? 0, 0, 4096) ?? 0;
    const chipId = typeof o.uuid === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(o.uuid) ? o.uuid : `replay-${base}-gpu${index}`;
    const mw = (v: unknown) => (num(v, 0, 1e7) === null ? null : (v as number) / 1000);
    const powerW = mw(o.power_mw);
    const counterJ = num(o.energy_mj, 0, 1e18) === null ? null : (o.energy_mj as number) / 1000;
    const derivedJ = counterJ === null ? energy.add(chipId, ts, powerW) : null;
    const s: Sample = {
      ts,
      chipId,
      utilPct: num(o.util_gpu, 0, 100),
      memUtilPct: num(o.util_mem, 0, 100),
      memUsedBytes: num(o.mem_used, 0, 2 ** 50),
      memTotalBytes: num(o.mem_total, 0, 2 ** 50),
      powerW,
      powerLimitW: mw(o.power_limit_mw),
      tempC: num(o.temp_c, -40, 150),
      energyJ: counterJ ?? derivedJ,
      smClockMhz: num(o.sm_mhz, 0, 10_000),
    };
    if (derivedJ !== null) s.flags = { energyDerived: true };
    if (!chips.has(chipId)) {
      const name = typeof o.name === 'string' ? o.name : null;
      chips.set(chipId, {
        chipId,
        vendor: 'nvidia',
        model: model ?? (name ? gpuModelFromName(name) : (knownGpuModel(file) ?? 'NVIDIA-GPU')),
        index,
        cores: null,
        memTotalBytes: s.memTotalBytes ?? null,
        ratedPowerW: s.powerLimitW,
      });
    }
    cap.entries.push({ fileTs: ts, samples: [s] });
  }
  cap.entries.sort((a, b) => a.fileTs - b.fileTs);
  cap.chips = [...chips.values()];
}

/** Report cadence of a neuron-monitor report: the shortest metric-group `period` (s), default 5 s. */
function neuronPeriodS(o: Record<string, any>): number {
  const groups = [...Object.values(o.system_data ?? {}), ...(Array.isArray(o.neuron_runtime_data) ? o.neuron_runtime_data.flatMap((r: any) => Object.values(r?.report ?? {})) : [])];
  const periods = groups.map((g: any) => g?.period).filter((p): p is number => typeof p === 'number' && p > 0);
  return periods.length ? Math.min(...periods) : 5;
}

/** neuron-monitor reports carry no time: they are spaced by their own periods. No power in a replay. */
function parseNeuron(lines: string[], hostname: string, cap: ReplayCapture): void {
  const chips = new Map<string, ChipInfo>();
  const accumulateEcc = createEccAccumulator(); // ECC counts are per period: make them running totals
  let fileTs = Date.now();
  for (const line of lines) {
    try {
      const r = parseNeuronMonitorReport(line, { ts: fileTs, fallbackHostname: hostname });
      cap.host ??= r.host;
      for (const c of r.chips) if (!chips.has(c.chipId)) chips.set(c.chipId, c);
      accumulateEcc(r.samples);
      cap.entries.push({ fileTs, samples: r.samples });
      fileTs += Math.round(neuronPeriodS(JSON.parse(line)) * 1000);
    } catch {
      cap.parseErrors++;
    }
  }
  cap.chips = [...chips.values()];
}

/** Read and parse a capture file (any of the three formats). Throws with a clear message if it cannot. */
export async function loadReplayCapture(file: string, opts: { hostname: string; model?: string }): Promise<ReplayCapture> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new Error(`replay: cannot read ${JSON.stringify(file)}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  });
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw new Error(`replay: ${JSON.stringify(file)} is empty`);
  const format = detectReplayFormat(lines[0]);
  if (!format) {
    throw new Error(
      `replay: cannot tell the format of ${JSON.stringify(file)}: expected an nvidia-smi CSV header (timestamp, index, uuid, …) ` +
        `or rows in the order ${DEFAULT_QUERY_FIELDS.join(',')}, NVML JSON lines ({"t": …, "power_mw": …}) or neuron-monitor JSON`,
    );
  }
  const cap: ReplayCapture = { format, host: null, chips: [], entries: [], parseErrors: 0 };
  if (format === 'nvidia-smi-csv') parseCsv(lines, cap);
  else if (format === 'nvml-jsonl') parseNvml(lines, file, opts.model, cap);
  else parseNeuron(lines, opts.hostname, cap);
  if (cap.entries.length === 0) throw new Error(`replay: no readable records in ${JSON.stringify(file)} (${cap.parseErrors} skipped)`);
  return cap;
}

/** A training phase with its steps, in the capture's own clock (ms). */
export interface StepSpan {
  phase: string;
  startTs: number;
  endTs: number;
  steps: number;
}

/** What a phases file says about the work of a capture. */
export interface ReplayPhases {
  /** Every phase in time order, start in ms (the capture's clock). */
  phases: Array<{ phase: string; startTs: number }>;
  /** Steps per training phase, in order (the k-th goes to the k-th phase whose name starts with `train`). */
  steps: number[];
  /** Tokens per step (model.seq × model.batch), when the file says. */
  tokensPerStep: number | null;
}

/**
 * Parse a phases file: `{"phases": [{"phase": "train", "t": <epoch s>}, …], "steps": {"train1": 1101, …},
 * "model": {"seq": 512, "batch": 16}}` (`steps` may also be an array). Returns null when it has no
 * `steps` (e.g. a bare list of phases); throws a clear Error when it is malformed.
 */
export function parseReplayPhases(text: string, file: string): ReplayPhases | null {
  const where = `replay: phases file ${JSON.stringify(file)}`;
  let o: any;
  try {
    o = JSON.parse(text);
  } catch (err) {
    throw new Error(`${where} is not JSON: ${(err as Error).message}`);
  }
  if (!o || typeof o !== 'object' || Array.isArray(o) || o.steps === undefined) return null;
  if (!Array.isArray(o.phases)) throw new Error(`${where}: "phases" must be a list of {"phase": NAME, "t": EPOCH_SECONDS}`);
  const phases = o.phases.map((p: any, i: number) => {
    if (!p || typeof p.phase !== 'string' || num(p.t, 946_684_800, 1e11) === null) throw new Error(`${where}: phase ${i} needs a "phase" name and "t" in epoch seconds`);
    return { phase: p.phase as string, startTs: Math.round((p.t as number) * 1000) };
  });
  for (let i = 1; i < phases.length; i++) {
    if (phases[i].startTs < phases[i - 1].startTs) throw new Error(`${where}: phases must be in time order (${phases[i].phase} starts before ${phases[i - 1].phase})`);
  }
  const raw: unknown[] = Array.isArray(o.steps) ? o.steps : o.steps && typeof o.steps === 'object' ? Object.values(o.steps) : [null];
  const steps = raw.map((v) => {
    if (num(v, 0, 1e15) === null) throw new Error(`${where}: "steps" must map names to step counts (numbers ≥ 0), got ${JSON.stringify(v)}`);
    return v as number;
  });
  const trains = phases.filter((p: { phase: string }) => p.phase.startsWith('train')).length;
  if (steps.length > trains) throw new Error(`${where}: ${steps.length} step counts but only ${trains} phases whose name starts with "train"`);
  const seq = num(o.model?.seq, 1, 1e9);
  const batch = num(o.model?.batch, 1, 1e9);
  return { phases, steps, tokensPerStep: seq !== null && batch !== null ? seq * batch : null };
}

/**
 * The training phases with steps: the k-th step count goes to the k-th phase whose name starts with
 * `train`; a phase ends where the next one starts (the last at `endTs`).
 */
export function stepSpans(p: ReplayPhases, endTs: number): StepSpan[] {
  const spans: StepSpan[] = [];
  let k = 0;
  p.phases.forEach((ph, i) => {
    if (!ph.phase.startsWith('train') || k >= p.steps.length) return;
    const end = i + 1 < p.phases.length ? p.phases[i + 1].startTs : Math.max(endTs, ph.startTs);
    spans.push({ phase: ph.phase, startTs: ph.startTs, endTs: end, steps: p.steps[k++] });
  });
  return spans;
}

/** Steps done by capture time `ts` (ms): each span's steps spread evenly over it (unrounded). */
export function stepsAt(spans: readonly StepSpan[], ts: number): number {
  let n = 0;
  for (const s of spans) {
    if (ts >= s.endTs) n += s.steps;
    else if (ts > s.startTs) n += (s.steps * (ts - s.startTs)) / (s.endTs - s.startTs);
  }
  return n;
}

/** Job id of a replayed capture: `replay/<folder of the capture file>`. */
export function replayJobId(file: string): string {
  const folder = path.basename(path.dirname(path.resolve(file))).replace(/[^A-Za-z0-9._:/@+=-]/g, '-') || 'capture';
  return `replay/${folder}`.slice(0, 128);
}

/** The phases file to use: the explicit one, else `phases.json` next to the capture (null: none there). */
function phasesFileFor(opts: ReplaySourceOptions): { file: string; explicit: boolean } | null {
  if (opts.replayPhases) return { file: opts.replayPhases, explicit: true };
  if (!opts.replayFile) return null;
  const auto = path.join(path.dirname(opts.replayFile), 'phases.json');
  return existsSync(auto) ? { file: auto, explicit: false } : null;
}

/** Create the `replay` source (`--replay FILE`); the file is read by `start()`. */
export function createReplaySource(opts: ReplaySourceOptions): ChipSource {
  const hostname = opts.hostname ?? os.hostname();
  const speed = opts.replaySpeed ?? 1;
  const loop = opts.replayLoop ?? false;
  let host: HostInfo = { hostname, instanceId: null, instanceType: null };
  let chips: ChipInfo[] = [];
  let cap: ReplayCapture | null = null;
  const health: SourceHealth = { kind: KIND, state: 'starting', restarts: 0, parseErrors: 0, lastError: null };
  let startedAt = 0;
  let loopMs = 0;
  let pass = 0;
  let next = 0;
  const perChip = new Map<string, { lastTs: number; pass: number; lastRawJ: number | null; offsetJ: number }>();
  /** The run's work, when a phases file gives it. */
  let work: { job: string; spans: StepSpan[]; tokensPerStep: number | null; chips: string[]; labels: Record<string, string>; perLoop: number } | null = null;

  /** Read the phases file (explicit: errors reject start(); found next to the capture: logged and ignored). */
  async function loadWork(c: ReplayCapture): Promise<void> {
    const pf = phasesFileFor(opts);
    if (!pf) return;
    let parsed: ReplayPhases | null;
    try {
      const text = await readFile(pf.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new Error(`replay: cannot read phases file ${JSON.stringify(pf.file)}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
      });
      parsed = parseReplayPhases(text, pf.file);
      if (!parsed && pf.explicit) throw new Error(`replay: phases file ${JSON.stringify(pf.file)} has no "steps": nothing to replay as work`);
    } catch (err) {
      if (pf.explicit) throw err;
      opts.log.warn('replay: phases file next to the capture ignored', { file: pf.file, error: (err as Error).message });
      return;
    }
    if (!parsed) return;
    const e = c.entries;
    const first = e[0].fileTs;
    const last = e[e.length - 1].fileTs;
    const spans = stepSpans(parsed, last);
    if (!spans.some((sp) => sp.endTs > first && sp.startTs < last)) {
      opts.log.warn('replay: no training phase of the phases file falls within the capture: no work reported', { file: pf.file });
      return;
    }
    const model = c.chips[0]?.model;
    work = {
      job: replayJobId(opts.replayFile!),
      spans,
      tokensPerStep: parsed.tokensPerStep,
      chips: c.chips.length <= MAX_WORK_CHIPS ? c.chips.map((x) => x.chipId) : [],
      labels: model ? { generation: model } : {},
      perLoop: stepsAt(spans, first + loopMs) - stepsAt(spans, first),
    };
    opts.log.info('replay reports work', { job: work.job, phases: pf.file, steps: parsed.steps.reduce((a, b) => a + b, 0) });
  }

  /** Re-stamp a sample of pass `p` to `t`; energy continues across passes. */
  function restamp(s: Sample, t: number, p: number): Sample {
    let c = perChip.get(s.chipId);
    if (!c) perChip.set(s.chipId, (c = { lastTs: -Infinity, pass: p, lastRawJ: null, offsetJ: 0 }));
    const out: Sample = { ...s, ts: Math.max(Math.round(t), c.lastTs + 1) };
    c.lastTs = out.ts;
    if (s.energyJ !== null) {
      if (c.pass !== p && c.lastRawJ !== null) c.offsetJ += Math.max(0, c.lastRawJ - s.energyJ);
      c.pass = p;
      c.lastRawJ = s.energyJ;
      out.energyJ = s.energyJ + c.offsetJ;
    }
    return out;
  }

  return {
    kind: KIND,
    get host() {
      return host;
    },
    get chips() {
      return chips;
    },
    async start() {
      try {
        if (!opts.replayFile) throw new Error('replay: no capture file given (--replay FILE)');
        if (!(speed > 0 && Number.isFinite(speed))) throw new Error(`replay: speed must be a positive number, got ${speed}`);
        cap = await loadReplayCapture(opts.replayFile, { hostname, model: opts.model });
      } catch (err) {
        health.state = 'failed';
        health.lastError = (err as Error).message;
        throw err;
      }
      if (cap.host) host = cap.host;
      chips = cap.chips;
      health.parseErrors = cap.parseErrors;
      const e = cap.entries;
      const deltas = e.slice(1).map((x, i) => x.fileTs - e[i].fileTs).filter((d) => d > 0).sort((a, b) => a - b);
      loopMs = e[e.length - 1].fileTs - e[0].fileTs + (deltas.length ? deltas[deltas.length >> 1] : 1000);
      try {
        await loadWork(cap);
      } catch (err) {
        cap = null;
        chips = [];
        health.state = 'failed';
        health.lastError = (err as Error).message;
        throw err;
      }
      startedAt = Date.now();
      health.state = 'ok';
      opts.log.info('replay started', { file: opts.replayFile, format: cap.format, records: e.length, chips: chips.length, speed, loop });
    },
    read(now: number): Sample[] {
      const out: Sample[] = [];
      if (!cap) return out;
      const e = cap.entries;
      const first = e[0].fileTs;
      while (out.length < MAX_PER_READ) {
        if (next >= e.length) {
          if (!loop) break;
          pass++;
          next = 0;
        }
        const t = startedAt + (pass * loopMs + e[next].fileTs - first) / speed;
        if (t > now) break;
        for (const s of e[next].samples) out.push(restamp(s, t, pass));
        next++;
      }
      if (!loop && next >= e.length && health.lastError === null) {
        health.lastError = 'replay finished';
        opts.log.info('replay finished', { file: opts.replayFile });
      }
      return out;
    },
    readWork(now: number): WorkReport[] {
      if (!cap || !work) return [];
      const e = cap.entries;
      const first = e[0].fileTs;
      // file time elapsed at `now`: the inverse of the rows' mapping startedAt + (pass × loopMs + fileTs − first) / speed
      const x = Math.max(0, (now - startedAt) * speed);
      let total: number;
      if (loop) {
        const p = Math.floor(x / loopMs);
        total = p * work.perLoop + stepsAt(work.spans, first + (x - p * loopMs)) - stepsAt(work.spans, first);
      } else {
        total = stepsAt(work.spans, first + Math.min(x, e[e.length - 1].fileTs - first)) - stepsAt(work.spans, first);
      }
      const counters: Record<string, number> = { steps: Math.floor(total + 1e-9) };
      if (work.tokensPerStep !== null) counters.tokens = Math.floor(total * work.tokensPerStep + 1e-6);
      const r: WorkReport = { ts: Math.floor(now), job: work.job, counters };
      if (work.chips.length) r.chips = [...work.chips];
      if (Object.keys(work.labels).length) r.labels = { ...work.labels };
      return [r];
    },
    async stop() {},
    health: () => ({ ...health }),
  };
}
