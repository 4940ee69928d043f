/**
 * The power each chip model draws when idle (no process, idle clocks), W: the floor the
 * "idle but powered" rule measures against. Copied (read only) from the simulated sources, which
 * are calibrated on real captures; test/unit/alert-builtins.test.ts checks they still agree.
 */

/** Idle power by model, W (keys as ChipInfo.model spells them). */
export const IDLE_FLOOR_W: Readonly<Record<string, number>> = {
  // agents/sources/sim-nvml.ts NVML_MODELS[*].idleW (H100 from the H100 capture: 76 W at 345 MHz)
  H100: 76,
  H200: 79,
  B200: 140,
  // agents/sources/sim-neuron.ts IDLE_PCT (3 % of max, sysfs backs background power out) times
  // NEURON_DEVICE_TYPES[*].ratedPowerW of agents/sources/neuron-monitor-report.ts (estimates)
  Trainium: 12,
  Trainium2: 15,
  Trainium3: 30,
  Inferentia2: 3.6,
};

const BY_UPPER = new Map(Object.entries(IDLE_FLOOR_W).map(([model, w]) => [model.toUpperCase(), w]));

/** The idle floor of `model` (case-insensitive), W, or null for a model not in the table. */
export function idleFloorW(model: string): number | null {
  return BY_UPPER.get(model.toUpperCase()) ?? null;
}
