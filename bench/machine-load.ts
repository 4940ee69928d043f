/** Whole-machine CPU use from /proc/stat (Linux), to state what else ran during a measurement. */
import { readFileSync } from 'node:fs';

export interface CpuTimes {
  busy: number;
  total: number;
}

/** Aggregate CPU jiffies so far. */
export function cpuTimes(): CpuTimes {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...
  const idle = f[3] + (f[4] ?? 0);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** Machine CPU busy between two readings, in % of one core (2 cores fully busy = 200). */
export function machineBusyPct(a: CpuTimes, b: CpuTimes, cores: number): number {
  const total = b.total - a.total;
  return total > 0 ? Math.round(((b.busy - a.busy) / total) * cores * 100) : 0;
}
