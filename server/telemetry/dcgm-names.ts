/**
 * dcgm-exporter's names for NVIDIA chips (`/metrics/fleet?names=dcgm`), as in its
 * default-counters.csv, with its units: utilization in %, power in W, frame buffer in MiB,
 * temperature in degrees C, energy in mJ since driver load (a counter without `_total`).
 * Labels: gpu, UUID, device, modelName, Hostname (see fleet-exposition.ts).
 */
import { fieldFamily, type FamilySpec } from './family-spec.ts';

const MIB = 1024 * 1024;

export const DCGM_FAMILIES: readonly FamilySpec[] = [
  fieldFamily('DCGM_FI_DEV_GPU_UTIL', 'gauge', 'GPU utilization (in %).', (s) => s.utilPct),
  fieldFamily('DCGM_FI_DEV_MEM_COPY_UTIL', 'gauge', 'Memory utilization (in %).', (s) => s.memUtilPct),
  fieldFamily('DCGM_FI_DEV_FB_USED', 'gauge', 'Framebuffer memory used (in MiB).', (s) => (s.memUsedBytes === null ? null : s.memUsedBytes / MIB)),
  fieldFamily('DCGM_FI_DEV_FB_FREE', 'gauge', 'Framebuffer memory free (in MiB).', (s) => (s.memUsedBytes === null || s.memTotalBytes === null ? null : Math.max(0, s.memTotalBytes - s.memUsedBytes) / MIB)),
  fieldFamily('DCGM_FI_DEV_POWER_USAGE', 'gauge', 'Power draw (in W).', (s) => s.powerW),
  fieldFamily('DCGM_FI_DEV_GPU_TEMP', 'gauge', 'GPU temperature (in C).', (s) => s.tempC),
  fieldFamily('DCGM_FI_DEV_SM_CLOCK', 'gauge', 'SM clock frequency (in MHz).', (s) => s.smClockMhz),
  fieldFamily('DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION', 'counter', 'Total energy consumption since boot (in mJ).', (s) => (s.energyJ === null ? null : s.energyJ * 1000)),
];
