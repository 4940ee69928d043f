/**
 * Lowers the OS scheduling priority of the calling thread only. Folding is background work that
 * comes in bursts: at a lower priority it uses the CPU the event loop, the writer and the agents
 * leave, instead of delaying live frames and acks while it runs. Linux only (a thread there has its
 * own id, and setpriority on that id affects that thread); elsewhere nothing happens.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** The calling thread's kernel id, or null off Linux (this module is loaded once per thread). */
const tid: number | null = (() => {
  if (process.platform !== 'linux') return null;
  try {
    // /proc/thread-self -> "<pid>/task/<tid>"
    const id = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(id) && id > 0 ? id : null;
  } catch {
    return null;
  }
})();

/** Returns the niceness applied, or null when the thread's priority could not be changed. */
export function lowerThreadPriority(niceness: number): number | null {
  if (niceness <= 0 || tid === null) return null;
  try {
    setPriority(tid, niceness);
    return niceness;
  } catch {
    return null;
  }
}

/**
 * Runs `fn` at the hub's priority when the thread was lowered to `niceness`, then lowers it again.
 * For work done while holding a lock others wait for: at the lower priority the lock would be
 * held longer whenever the CPU is busy. Raising a priority needs CAP_SYS_NICE (or RLIMIT_NICE);
 * without it `fn` simply runs at the lower one.
 */
export function atNormalPriority<T>(niceness: number, fn: () => T): T {
  let raised = false;
  if (niceness > 0 && tid !== null) {
    try {
      setPriority(tid, 0);
      raised = true;
    } catch {
      // not permitted: stay lowered
    }
  }
  try {
    return fn();
  } finally {
    if (raised) setPriority(tid!, niceness);
  }
}
