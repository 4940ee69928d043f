/**
 * Pure parser for one `neuron-monitor` JSON report line (aws-neuronx-tools; format in
 * `telemetry-sources.md` §1.1-1.2) into the canonical host, chip inventory and samples.
 *
 * Mapping decisions:
 * - One chip per Neuron device `0..neuron_device_count-1` (from `neuron_hardware_info`).
 * - NeuronCore keys in `neuroncores_in_use` / `neuroncore_memory_usage` are GLOBAL logical core
 *   indices: device = floor(core / neuroncore_per_device_count), local = core % that.
 * - `ChipInfo.cores` = `neuroncore_per_device_count`, i.e. the (logical) cores neuron-monitor
 *   reports: 4 on trn2 at LNC=2, 8 at LNC=1, 2 on trn1/inf2.
 * - `utilPct` = mean `neuroncore_utilization` of the device's cores listed in use by any runtime;
 *   a device none of whose cores is listed (or whose runtime / counters group has `error` set)
 *   has `utilPct: null` and no extras, never 0. An attached but idle core counts as 0.
 * - `extras`: `nc<local>` = each in-use logical core's utilization (local index on the device, as
 *   sim-neuron does); on Trn2 the `v3d` block adds `pnc<localPhysical>` per physical core, where
 *   localPhysical = (N in `nc_v3.N`) mod (cores × logical_neuroncore_config), so both global and
 *   per-device numbering of `nc_v3.N` map to the same key.
 * - `memUsedBytes` = sum of the `usage_breakdown.neuroncore_memory_usage` categories of the
 *   device's cores over all runtimes; if a runtime has no breakdown but all its in-use cores are on
 *   one device, its `neuron_device` total goes to that device; otherwise null.
 * - ECC: `eccCorrected` = mem + sram corrected, `eccUncorrected` = mem + sram uncorrected, as
 *   reported in THIS report. neuron-monitor reports them per captured period (the official
 *   Prometheus exporter `.inc()`s its counters by each report's value), so callers that need the
 *   schema's monotonic counts run the samples through {@link createEccAccumulator}.
 * - `instance_info` with `error` set is not trusted at all: host name = fallback, ids null.
 * - `neuron_hardware_info` with `error` set (driver not loaded) yields no chips and no samples.
 */
import type { ChipInfo, HostInfo, Sample } from '../../schema/sample.ts';

/** What a `neuron_device_type` maps to. */
export interface NeuronDeviceType {
  model: string;
  /** Assumed max device power, W; null when unknown. */
  ratedPowerW: number | null;
}

/**
 * Known `neuron_device_type` values. AWS publishes no per-chip power, so EVERY ratedPowerW here is
 * an ESTIMATE (Trainium2 ~500 W [3p, NAND Research], Trainium3 ~1 kW [3p, DCD quoting AWS],
 * Trainium 400 W and Inferentia2 120 W our own guesses), the same numbers sim-neuron assumes.
 */
export const NEURON_DEVICE_TYPES: Readonly<Record<string, NeuronDeviceType>> = {
  trainium: { model: 'Trainium', ratedPowerW: 400 },
  trainium2: { model: 'Trainium2', ratedPowerW: 500 },
  trainium3: { model: 'Trainium3', ratedPowerW: 1000 },
  inferentia2: { model: 'Inferentia2', ratedPowerW: 120 },
};

/** Model and rated power for a `neuron_device_type`; unknown types keep their name, rated null. */
export function neuronDeviceType(raw: string | null): NeuronDeviceType {
  const known = raw ? NEURON_DEVICE_TYPES[raw.toLowerCase()] : undefined;
  if (known) return known;
  const name = raw && raw.trim() ? raw.trim().slice(0, 64) : 'Neuron';
  return { model: name[0]!.toUpperCase() + name.slice(1), ratedPowerW: null };
}

/** Result of parsing one report line. */
export interface NeuronMonitorParse {
  host: HostInfo;
  chips: ChipInfo[];
  samples: Sample[];
}

type Obj = Record<string, unknown>;
const TOP_LEVEL_KEYS = ['neuron_runtime_data', 'system_data', 'instance_info', 'neuron_hardware_info'];
const ID_CHARS = /^[A-Za-z0-9._:-]+$/;

const obj = (v: unknown): Obj | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
const int = (v: unknown, min: number, max: number): number | null => {
  const n = num(v);
  return n !== null && Number.isInteger(n) && n >= min && n <= max ? n : null;
};
/** A group is usable when present and its `error` is absent or empty. */
const okGroup = (v: unknown): Obj | null => {
  const g = obj(v);
  return g && !str(g.error) ? g : null;
};
const coreKey = (k: string): number | null => (/^\d+$/.test(k) ? int(Number(k), 0, 1_000_000) : null);
const round2 = (x: number) => Math.round(x * 100) / 100;
const clampPct = (x: number) => Math.min(100, Math.max(0, x));

function parseRoot(line: string): Obj {
  const text = line.trim();
  if (text === '') throw new Error('neuron-monitor: empty line, not a report');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`neuron-monitor: not JSON (${(err as Error).message}); line starts ${JSON.stringify(text.slice(0, 40))}`);
  }
  const root = obj(value);
  if (!root) throw new Error(`neuron-monitor: not a report: JSON ${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value}, expected an object`);
  if (!TOP_LEVEL_KEYS.some((k) => k in root)) throw new Error(`neuron-monitor: not a report: none of ${TOP_LEVEL_KEYS.join(', ')}`);
  return root;
}

interface Hardware {
  count: number;
  /** Logical NeuronCores per device; null when unknown (core → device mapping impossible). */
  coresPerDevice: number | null;
  lnc: number | null;
  memBytes: number | null;
  type: NeuronDeviceType;
}

function parseHardware(v: unknown): Hardware {
  const hw = okGroup(v);
  return {
    count: hw ? (int(hw.neuron_device_count, 0, 4096) ?? 0) : 0,
    coresPerDevice: hw ? int(hw.neuroncore_per_device_count, 1, 1024) : null,
    lnc: hw ? int(hw.logical_neuroncore_config, 1, 64) : null,
    memBytes: hw ? int(hw.neuron_device_memory_size, 0, 2 ** 50) : null,
    type: neuronDeviceType(hw ? str(hw.neuron_device_type) : null),
  };
}

function parseHost(v: unknown, fallbackHostname: string): HostInfo {
  const ii = okGroup(v);
  const id = ii ? str(ii.instance_id) : null;
  const type = ii ? str(ii.instance_type) : null;
  return {
    hostname: ((ii ? str(ii.instance_name) : null) ?? (fallbackHostname.trim() || 'neuron-host')).slice(0, 253),
    instanceId: id && id.length <= 64 && ID_CHARS.test(id) ? id : null,
    instanceType: type && type.length <= 64 ? type : null,
  };
}

/** Per-device accumulation over all runtimes. */
interface DeviceAcc {
  /** local logical core → utilization (null: listed in use without a number). */
  util: Map<number, number | null>;
  /** local physical core → utilization (Trn2 v3d). */
  phys: Map<number, number>;
  memBytes: number | null;
}

function collectRuntimes(data: unknown, hw: Hardware): Map<number, DeviceAcc> {
  const devices = new Map<number, DeviceAcc>();
  const acc = (d: number): DeviceAcc => {
    let a = devices.get(d);
    if (!a) devices.set(d, (a = { util: new Map(), phys: new Map(), memBytes: null }));
    return a;
  };
  const cpd = hw.coresPerDevice;
  const locate = (k: string): { device: number; local: number } | null => {
    const core = coreKey(k);
    if (core === null || cpd === null || Math.floor(core / cpd) >= hw.count) return null;
    return { device: Math.floor(core / cpd), local: core % cpd };
  };
  for (const entry of Array.isArray(data) ? data : []) {
    const rt = okGroup(entry);
    const report = rt ? obj(rt.report) : null;
    if (!report) continue;
    const runtimeDevices = new Set<number>();
    const inUse = obj(okGroup(report.neuroncore_counters)?.neuroncores_in_use) ?? {};
    for (const [k, v] of Object.entries(inUse)) {
      const at = locate(k);
      if (!at) continue;
      runtimeDevices.add(at.device);
      const a = acc(at.device);
      const u = num(obj(v)?.neuroncore_utilization);
      a.util.set(at.local, u);
      const v3d = obj(obj(v)?.v3d) ?? {};
      const perDevice = cpd! * (hw.lnc ?? Math.max(1, Object.keys(v3d).length));
      for (const [pk, pv] of Object.entries(v3d)) {
        const m = /(\d+)$/.exec(pk);
        const pu = num(obj(pv)?.neuroncore_utilization);
        if (m && pu !== null) a.phys.set(Number(m[1]) % perDevice, pu);
      }
    }
    const used = obj(okGroup(report.memory_used)?.neuron_runtime_used_bytes);
    const perCore = obj(obj(used?.usage_breakdown)?.neuroncore_memory_usage);
    if (perCore) {
      for (const [k, v] of Object.entries(perCore)) {
        const at = locate(k);
        const parts = Object.values(obj(v) ?? {}).map(num).filter((x): x is number => x !== null && x >= 0);
        if (!at || parts.length === 0) continue;
        const a = acc(at.device);
        a.memBytes = (a.memBytes ?? 0) + parts.reduce((s, x) => s + x, 0);
      }
    } else {
      const total = num(used?.neuron_device);
      if (total !== null && total >= 0 && runtimeDevices.size === 1) {
        const a = acc([...runtimeDevices][0]!);
        a.memBytes = (a.memBytes ?? 0) + total;
      }
    }
  }
  return devices;
}

interface Ecc {
  corrected: number | null;
  uncorrected: number | null;
}

function collectEcc(systemData: unknown): Map<number, Ecc> {
  const out = new Map<number, Ecc>();
  const hc = okGroup(obj(systemData)?.neuron_hw_counters);
  const list = hc && Array.isArray(hc.neuron_devices) ? hc.neuron_devices : [];
  const sum = (a: number | null, b: number | null) => (a !== null && b !== null && a >= 0 && b >= 0 ? a + b : null);
  for (const d of list) {
    const o = obj(d);
    const idx = o ? int(o.neuron_device_index, 0, 4096) : null;
    if (!o || idx === null) continue;
    out.set(idx, {
      corrected: sum(num(o.mem_ecc_corrected), num(o.sram_ecc_corrected)),
      uncorrected: sum(num(o.mem_ecc_uncorrected), num(o.sram_ecc_uncorrected)),
    });
  }
  return out;
}

function sortedExtras(prefix: string, m: Map<number, number | null>, into: Record<string, number>): void {
  for (const k of [...m.keys()].sort((a, b) => a - b)) {
    const v = m.get(k);
    if (v !== null && v !== undefined) into[`${prefix}${k}`] = v;
  }
}

/**
 * Parse one neuron-monitor report line. Throws an Error for an empty line, non-JSON (garbage or a
 * partial line) or JSON that is not a report; groups that are missing or carry `error` only turn
 * the values they feed into null. `ts` is the sample time (ms); `powerW(device)` supplies watts
 * (e.g. from driver sysfs), flagged `powerEstimated`. energyJ is always null here, and ECC counts
 * are this report's (see the module comment).
 */
export function parseNeuronMonitorReport(
  line: string,
  opts: { ts: number; fallbackHostname: string; powerW?: (deviceIndex: number) => number | null },
): { host: HostInfo; chips: ChipInfo[]; samples: Sample[] } {
  const root = parseRoot(line);
  const host = parseHost(root.instance_info, opts.fallbackHostname);
  const hw = parseHardware(root.neuron_hardware_info);
  const prefix = host.instanceId ?? (opts.fallbackHostname.replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 100) || 'neuron-host');
  const runtimes = collectRuntimes(root.neuron_runtime_data, hw);
  const ecc = collectEcc(root.system_data);
  const chips: ChipInfo[] = [];
  const samples: Sample[] = [];
  for (let i = 0; i < hw.count; i++) {
    const chip: ChipInfo = {
      chipId: `${prefix}-neuron${i}`,
      vendor: 'aws',
      model: hw.type.model,
      index: i,
      cores: hw.coresPerDevice,
      memTotalBytes: hw.memBytes,
      ratedPowerW: hw.type.ratedPowerW,
    };
    chips.push(chip);
    const rt = runtimes.get(i);
    const utils = rt ? [...rt.util.values()].filter((u): u is number => u !== null) : [];
    const watts = opts.powerW?.(i) ?? null;
    const powerW = watts !== null && Number.isFinite(watts) && watts >= 0 && watts <= 10_000 ? watts : null;
    const e = ecc.get(i);
    const sample: Sample = {
      ts: opts.ts,
      chipId: chip.chipId,
      utilPct: utils.length ? round2(clampPct(utils.reduce((s, u) => s + u, 0) / utils.length)) : null,
      memUtilPct: null,
      memUsedBytes: rt?.memBytes ?? null,
      memTotalBytes: hw.memBytes,
      powerW,
      powerLimitW: hw.type.ratedPowerW,
      tempC: null,
      energyJ: null,
      eccCorrected: e?.corrected ?? null,
      eccUncorrected: e?.uncorrected ?? null,
    };
    if (powerW !== null) sample.flags = { powerEstimated: true };
    if (rt && rt.util.size > 0) {
      const extras: Record<string, number> = {};
      sortedExtras('nc', rt.util, extras);
      sortedExtras('pnc', rt.phys, extras);
      if (Object.keys(extras).length) sample.extras = extras;
    }
    samples.push(sample);
  }
  return { host, chips, samples };
}

/**
 * Turn per-report ECC counts into the schema's monotonic counts: returns a function that rewrites
 * each sample's `eccCorrected` / `eccUncorrected` in place to the running total per chip since the
 * accumulator was created. A null count (group missing or in error) stays null and adds nothing.
 */
export function createEccAccumulator(): (samples: Sample[]) => void {
  const totals = new Map<string, { corrected: number; uncorrected: number }>();
  return (samples) => {
    for (const s of samples) {
      let t = totals.get(s.chipId);
      if (!t) totals.set(s.chipId, (t = { corrected: 0, uncorrected: 0 }));
      if (typeof s.eccCorrected === 'number') s.eccCorrected = t.corrected += s.eccCorrected;
      if (typeof s.eccUncorrected === 'number') s.eccUncorrected = t.uncorrected += s.eccUncorrected;
    }
  };
}
