/**
 * GET /readyz: can this hub take work now? Each check answers ok or a reason (no secrets); the
 * hub is ready when all are. Checks are a list, so a configured bus (or another dependency) adds
 * its own. `/healthz` stays "the process is up".
 */
import { accessSync, constants, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ReadinessAnswer } from '../schema/api-answers.ts';

export type CheckResult = { ok: true } | { ok: false; reason: string };

export interface ReadinessCheck {
  name: string;
  run(): CheckResult | Promise<CheckResult>;
}

export type { ReadinessAnswer };

/** Run every check (a throwing check fails with its message). */
export async function readiness(checks: readonly ReadinessCheck[]): Promise<ReadinessAnswer> {
  const results = await Promise.all(
    checks.map(async (c): Promise<[string, CheckResult]> => {
      try {
        return [c.name, await c.run()];
      } catch (err) {
        return [c.name, { ok: false, reason: `check failed: ${(err as Error).message ?? String(err)}` }];
      }
    }),
  );
  const reasons = results.filter(([, r]) => !r.ok).map(([n, r]) => `${n}: ${(r as { reason: string }).reason}`);
  return { status: reasons.length ? 'not_ready' : 'ready', checks: Object.fromEntries(results.map(([n, r]) => [n, r.ok ? 'ok' : r.reason])), reasons };
}

/** Below this much free space where the database lives, writes are about to fail. */
export const MIN_FREE_BYTES = 64 * 1024 * 1024;

/**
 * The SQLite database is writable: the file and its directory (WAL and shared-memory files live
 * beside it) may be written by this process, and the file system has room. No query: cheap.
 */
export function databaseCheck(dbPath: string, minFree = MIN_FREE_BYTES): ReadinessCheck {
  return {
    name: 'database',
    run() {
      for (const p of [dbPath, dirname(dbPath)]) {
        try {
          accessSync(p, constants.W_OK);
        } catch (err) {
          return { ok: false, reason: `${p === dbPath ? 'the database file' : "the database's directory"} is not writable (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
        }
      }
      const fs = statfsSync(dirname(dbPath));
      const free = fs.bavail * fs.bsize;
      if (free < minFree) return { ok: false, reason: `${Math.floor(free / 1048576)} MiB free on the database's file system (needs ${Math.ceil(minFree / 1048576)} MiB)` };
      return { ok: true };
    },
  };
}

/** The writer keeps up: its backlog is under the mark where ingest starts withholding acks. */
export function writerCheck(backlog: () => number, highWater: number): ReadinessCheck {
  return {
    name: 'writer',
    run() {
      const n = backlog();
      return n > highWater ? { ok: false, reason: `${n} sample rows wait for the writer (backpressure above ${highWater})` } : { ok: true };
    },
  };
}

/** The live bus (server/bus/): connected, or why not and since when (the client keeps reconnecting). */
export function busCheck(bus: { readonly url: string; state(): { connected: boolean; since: number; lastError: string | null } }, now: () => number = Date.now): ReadinessCheck {
  return {
    name: 'bus',
    run() {
      const s = bus.state();
      if (s.connected) return { ok: true };
      const secs = Math.max(0, Math.round((now() - s.since) / 1000));
      return { ok: false, reason: `not connected to ${bus.url} for ${secs}s, reconnecting${s.lastError ? ` (${s.lastError})` : ''}` };
    },
  };
}
