/**
 * Neuron device power from the Neuron driver sysfs: `neuron<N>/stats/power/utilization` holds one
 * CSV line `<status>,<unix_epoch_s>,<min>,<max>,<avg>`, values in % of max device power with
 * background power backed out, refreshed once per wall-clock minute (aws-neuron-driver
 * `neuron_power.c`; telemetry-sources.md §1.1). Watts = avg % × an ASSUMED rated max, so always an
 * estimate. The epoch is not checked for staleness.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the Neuron driver exposes its devices (driver < 2.31 layout). */
export const DEFAULT_NEURON_SYSFS_DIR = '/sys/devices/virtual/neuron_device';

/** One parsed `stats/power/utilization` line. */
export interface NeuronPowerUtilization {
  /** `POWER_STATUS_VALID` | `POWER_STATUS_NO_DATA` | `POWER_STATUS_INVALID` (others kept as read). */
  status: string;
  /** End of the minute the values describe, unix seconds; null if unreadable. */
  epochS: number | null;
  /** % of max device power over that minute; null if unreadable. */
  minPct: number | null;
  maxPct: number | null;
  avgPct: number | null;
}

const field = (s: string | undefined): number | null => {
  if (s === undefined || s.trim() === '') return null;
  const n = Number(s.trim());
  return Number.isFinite(n) ? n : null;
};

/**
 * Parse the utilization file's content (one line; trailing newline allowed). Throws on content
 * that is not `<STATUS>,...`.
 */
export function parseNeuronPowerUtilization(text: string): NeuronPowerUtilization {
  const line = text.trim().split('\n')[0]?.trim() ?? '';
  const parts = line.split(',');
  const status = parts[0]?.trim() ?? '';
  if (!/^[A-Z_]+$/.test(status) || parts.length > 5) {
    throw new Error(`neuron sysfs power: not <status>,<epoch>,<min>,<max>,<avg>: ${JSON.stringify(line.slice(0, 80))}`);
  }
  return { status, epochS: field(parts[1]), minPct: field(parts[2]), maxPct: field(parts[3]), avgPct: field(parts[4]) };
}

/** Watts from a reading (avg % × rated / 100, 2 decimals); null unless VALID with avg in 0..100. */
export function neuronPowerWatts(u: NeuronPowerUtilization, ratedPowerW: number): number | null {
  if (u.status !== 'POWER_STATUS_VALID' || u.avgPct === null || u.avgPct < 0 || u.avgPct > 100) return null;
  return Math.round(u.avgPct * ratedPowerW) / 100;
}

/** Path of device `deviceIndex`'s power utilization file. */
export function neuronPowerPath(sysfsDir: string, deviceIndex: number): string {
  return join(sysfsDir, `neuron${deviceIndex}`, 'stats', 'power', 'utilization');
}

/**
 * Read device `deviceIndex`'s power in W (estimated from `ratedPowerW`). Null when the file is
 * missing or unreadable, malformed, or its status is NO_DATA / INVALID.
 */
export function readNeuronPowerW(deviceIndex: number, ratedPowerW: number, sysfsDir: string = DEFAULT_NEURON_SYSFS_DIR): number | null {
  let text: string;
  try {
    text = readFileSync(neuronPowerPath(sysfsDir, deviceIndex), 'utf8');
  } catch {
    return null;
  }
  try {
    return neuronPowerWatts(parseNeuronPowerUtilization(text), ratedPowerW);
  } catch {
    return null;
  }
}
