/**
 * Lowers the OS scheduling priority of the calling thread only. Folding is background work that
 * comes in bursts: at a lower priority it uses the CPU the event loop, the writer and the agents
 * leave, instead of delaying live frames and acks while it runs. Linux only (a thread there has its
 * own id, and setpriority on that id affects that thread); elsewhere nothing happens.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Returns the niceness applied, or null when the thread's priority could not be changed. */
export function lowerThreadPriority(niceness: number): number | null {
  if (niceness <= 0 || process.platform !== 'linux') return null;
  try {
    // /proc/thread-self -> "<pid>/task/<tid>"
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return null;
    setPriority(tid, niceness);
    return niceness;
  } catch {
    return null;
  }
}
