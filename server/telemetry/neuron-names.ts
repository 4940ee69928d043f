/**
 * neuron-monitor-prometheus.py's names for Neuron chips (`/metrics/fleet?names=neuron`):
 * per-NeuronCore utilization as a ratio (from the per-core values the agent sends as extras
 * `nc0`, `nc1`, …), device memory in use, hardware ECC events by type. neuron-monitor has no
 * power metric: use fleetscope_chip_power_watts. Labels: instance_name (host), instance_type,
 * neuron_device_index (see fleet-exposition.ts), plus neuroncore on utilization.
 */
import type { FamilySpec } from './family-spec.ts';
import { extraLabel } from './prom-text.ts';

/** Per-core extras are `nc<N>` in % (agents/sources/sim-neuron.ts, neuron-monitor-report.ts). */
const CORE_KEY = /^nc(\d{1,4})$/;

const MEMORY_LOCATION = extraLabel('memory_location', 'neuron_device');
const ECC_CORRECTED = extraLabel('event_type', 'mem_ecc_corrected');
const ECC_UNCORRECTED = extraLabel('event_type', 'mem_ecc_uncorrected');

const coreUtilization: FamilySpec = {
  name: 'neuroncore_utilization_ratio',
  type: 'gauge',
  help: 'NeuronCore utilization, 0..1.',
  emit(s, chip, out) {
    if (!s.extras) return;
    const cores = Object.keys(s.extras).filter((k) => CORE_KEY.test(k));
    for (const k of cores) {
      const local = Number(k.slice(2));
      // The script's neuroncore is the core's index on the instance.
      const global = chip.index * (chip.cores ?? cores.length) + local;
      out(s.extras[k] / 100, extraLabel('neuroncore', global));
    }
  },
};

const memory: FamilySpec = {
  name: 'neuron_runtime_memory_used_bytes',
  type: 'gauge',
  help: 'Device memory in use (bytes).',
  emit(s, _chip, out) {
    if (s.memUsedBytes !== null) out(s.memUsedBytes, MEMORY_LOCATION);
  },
};

const ecc: FamilySpec = {
  name: 'hardware_ecc_events_total',
  type: 'counter',
  help: 'Hardware ECC events.',
  emit(s, _chip, out) {
    if (s.eccCorrected !== null && s.eccCorrected !== undefined) out(s.eccCorrected, ECC_CORRECTED);
    if (s.eccUncorrected !== null && s.eccUncorrected !== undefined) out(s.eccUncorrected, ECC_UNCORRECTED);
  },
};

export const NEURON_FAMILIES: readonly FamilySpec[] = [coreUtilization, memory, ecc];
