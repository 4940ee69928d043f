/**
 * Telegraf's `inputs.nvidia_smi` measurement, as its line protocol output carries it:
 *
 *   nvidia_smi,compute_mode=Default,host=gpu-1,index=0,name=NVIDIA\ H100\ 80GB\ HBM3,pstate=P0,uuid=GPU-… \
 *     fan_speed=0i,memory_total=81559i,memory_used=74227i,power_draw=612.45,temperature_gpu=61i,utilization_gpu=97i,… 1796…
 *
 * mapped to the canonical sample: uuid → chip id, name → model (`H100`), index → chip index, host
 * → host (Telegraf adds it unless `omit_hostname`), MiB → bytes, power_draw → powerW, power_limit
 * → powerLimitW, temperature_gpu → tempC, utilization_gpu/_memory → utilPct/memUtilPct,
 * clocks_current_sm → smClockMhz. Other numeric fields go to `extras`; string fields
 * (driver_version, cuda_version, …) and other tags are ignored. nvidia-smi has no energy counter:
 * energyJ stays null. Pure.
 */
import { gpuModelFromName } from '../../schema/gpu-models.ts';
import { MAX_EXTRAS_KEYS, type SampleField } from '../../schema/sample.ts';
import { CANONICAL_FIELDS, chipIdProblem, MAX_EXTRA_KEY } from './line-fields.ts';

export const NVIDIA_SMI_MEASUREMENT = 'nvidia_smi';

/** A field value of a generic line: number (float, integer, unsigned), string or boolean. */
export type RawFieldValue = number | string | boolean;

const MIB = 1024 * 1024;

/** nvidia_smi field -> canonical property and the factor to its unit. */
export const NVIDIA_SMI_FIELDS: ReadonlyMap<string, { prop: SampleField; factor: number }> = new Map([
  ['utilization_gpu', { prop: 'utilPct', factor: 1 }],
  ['utilization_memory', { prop: 'memUtilPct', factor: 1 }],
  ['memory_used', { prop: 'memUsedBytes', factor: MIB }],
  ['memory_total', { prop: 'memTotalBytes', factor: MIB }],
  ['power_draw', { prop: 'powerW', factor: 1 }],
  ['power_limit', { prop: 'powerLimitW', factor: 1 }],
  ['temperature_gpu', { prop: 'tempC', factor: 1 }],
  ['clocks_current_sm', { prop: 'smClockMhz', factor: 1 }],
]);

const BOUNDS = new Map([...CANONICAL_FIELDS.values()].map((f) => [f.prop, f]));

export interface NvidiaSmiPoint {
  host: string;
  chipId: string;
  model: string;
  index: number | null;
  instanceType: string | null;
  values: Partial<Record<SampleField, number>>;
  extras: Record<string, number> | undefined;
}

export type NvidiaSmiResult = { ok: true; point: NvidiaSmiPoint } | { ok: false; code: 'bad_request' | 'out_of_range'; message: string };

const bad = (message: string): NvidiaSmiResult => ({ ok: false, code: 'bad_request', message });

/** Map one nvidia_smi line's tags and fields; the first problem is returned, not thrown. */
export function mapNvidiaSmi(tags: ReadonlyMap<string, string>, fields: ReadonlyMap<string, RawFieldValue>, maxHost: number): NvidiaSmiResult {
  const host = tags.get('host');
  if (host === undefined) return bad('nvidia_smi: missing tag "host" (Telegraf adds it unless omit_hostname = true)');
  const hostProblem = chipIdProblem(host, maxHost);
  if (hostProblem) return bad(`nvidia_smi: tag "host": ${JSON.stringify(host)} ${hostProblem}`);
  const uuid = tags.get('uuid');
  if (uuid === undefined) return bad('nvidia_smi: missing tag "uuid" (the chip id)');
  const idProblem = chipIdProblem(uuid);
  if (idProblem) return bad(`nvidia_smi: tag "uuid": ${JSON.stringify(uuid)} ${idProblem}`);
  const rawIndex = tags.get('index');
  const index = rawIndex !== undefined && /^\d{1,4}$/.test(rawIndex) ? Number(rawIndex) : null;
  const instanceType = tags.get('instance_type') ?? null;
  if (instanceType !== null && instanceType.length > 64) return bad('nvidia_smi: tag "instance_type" is longer than 64 characters');

  const values: Partial<Record<SampleField, number>> = {};
  let extras: Record<string, number> | undefined;
  let nExtras = 0;
  for (const [name, raw] of fields) {
    if (typeof raw !== 'number') continue;
    const spec = NVIDIA_SMI_FIELDS.get(name);
    if (spec) {
      const v = raw * spec.factor;
      const b = BOUNDS.get(spec.prop)!;
      if (v < b.min || v > b.max) return { ok: false, code: 'out_of_range', message: `nvidia_smi: field "${name}": ${raw} is outside ${b.min / spec.factor}..${b.max / spec.factor}` };
      values[spec.prop] = v;
      continue;
    }
    if (name.length > MAX_EXTRA_KEY || name === '__proto__' || nExtras >= MAX_EXTRAS_KEYS) continue;
    extras ??= {};
    extras[name] = raw;
    nExtras++;
  }
  return { ok: true, point: { host, chipId: uuid, model: gpuModelFromName(tags.get('name') ?? null), index, instanceType, values, extras } };
}
