/**
 * The Store adapters the contract suite (test/integration/store-contract.test.ts) runs against,
 * each behind one harness: SQLite on a temporary file, PostgreSQL in a fresh schema of the server
 * at FLEETSCOPE_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test, dropped afterwards;
 * a server that does not answer fails the tests, it never skips them), and the memory store.
 * Also the suite's data: random telemetry and brute-force buckets to compare the rollups with.
 */
import { eventTimes } from '../../server/alerts/alert-texts.ts';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createPrng } from '../../agents/sources/prng.ts';
import type { ChipInfo, Sample } from '../../schema/sample.ts';
import { openSqliteStore } from '../../server/store/sqlite-store.ts';
import { openPgStore } from '../../server/store/pg/pg-store.ts';
import { openMemoryStore, type MemoryStore } from '../../server/store/memory-store.ts';
import type { Retention, Store } from '../../server/store/store.ts';
import { emptyBucket, mergeBucket, type RollupBucket } from '../../server/rollups/rollup-bucket.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';
import { chipInfo } from './frames.ts';

export const PG_URL = process.env.FLEETSCOPE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** An alert row as the contract reads it back from any adapter. */
export interface AlertRowsRead {
  states: { ruleId: string; chipId: string; state: unknown; labels: Record<string, string>; updatedAt: number }[];
  events: { ruleId: string; chipId: string; from: string; to: string; at: number; value: number | null; startsAt: number; endsAt: number | null }[];
}

export interface StoreHarness {
  /** Whether a store opened again on the same storage sees what the last one stored. */
  durable: boolean;
  /** Open a store on this harness's storage (again after a close: the same storage). */
  open(opts?: { retention?: Partial<Retention> }): Promise<Store>;
  /** The alert rows stored through writeAlerts, states by (rule, chip), events in order. */
  alertRows(): Promise<AlertRowsRead>;
  cleanup(): Promise<void>;
}

export interface Adapter {
  name: string;
  create(): Promise<StoreHarness>;
}

const byRuleChip = <T extends { ruleId: string; chipId: string }>(rows: T[]) => rows.sort((a, b) => (a.ruleId + a.chipId < b.ruleId + b.chipId ? -1 : 1));

/** Rows of alert_states / alert_events as both SQL stores write them. */
function alertRowsOf(states: Record<string, unknown>[], events: Record<string, unknown>[]): AlertRowsRead {
  return {
    states: byRuleChip(
      states.map((r) => ({ ruleId: String(r.rule_id), chipId: String(r.chip_id), state: JSON.parse(String(r.state)), labels: JSON.parse(String(r.labels)), updatedAt: Number(r.updated_at) })),
    ),
    events: events.map((r) => {
      const ann = JSON.parse(String(r.annotations)) as Record<string, unknown>;
      const { startsAt, endsAt } = eventTimes(Number(r.at), ann);
      return {
        ruleId: String(r.rule_id), chipId: String(r.chip_id), from: String(r.from_phase), to: String(r.to_phase), at: Number(r.at),
        value: r.value === null ? null : Number(r.value), startsAt, endsAt,
      };
    }),
  };
}

const sqlite: Adapter = {
  name: 'SQLite (temporary file)',
  async create() {
    const tmp = tempDir();
    const path = join(tmp.dir, 'fleet.db');
    return {
      durable: true,
      open: (opts) => openSqliteStore(path, { retention: opts?.retention }),
      async alertRows() {
        const db = new Database(path, { readonly: true });
        try {
          return alertRowsOf(db.prepare('SELECT * FROM alert_states').all() as Record<string, unknown>[], db.prepare('SELECT * FROM alert_events ORDER BY id').all() as Record<string, unknown>[]);
        } finally {
          db.close();
        }
      },
      async cleanup() {
        tmp.cleanup();
      },
    };
  },
};

/** A client on the test server, or an error saying clearly that PostgreSQL does not answer there. */
export async function pgClient(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`PostgreSQL does not answer at ${PG_URL} (${(err as Error).message}): the PostgreSQL store's contract tests need a server; start one or set FLEETSCOPE_TEST_PG_URL`);
  }
  return client;
}

export const postgres: Adapter & { schemaOf(h: StoreHarness): string } = {
  name: 'PostgreSQL (fresh schema)',
  schemaOf: (h) => (h as StoreHarness & { schema: string }).schema,
  async create() {
    const schema = `fs_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
    // Fails here, clearly, when the server does not answer.
    (await pgClient()).end();
    const query = async (text: string) => {
      const c = await pgClient();
      try {
        return (await c.query(text)).rows as Record<string, unknown>[];
      } finally {
        await c.end();
      }
    };
    return {
      schema,
      durable: true,
      open: (opts) => openPgStore(PG_URL, { schema, retention: opts?.retention, maxConnections: 4 }),
      async alertRows() {
        return alertRowsOf(await query(`SELECT * FROM ${schema}.alert_states`), await query(`SELECT * FROM ${schema}.alert_events ORDER BY id`));
      },
      async cleanup() {
        await query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      },
    } as StoreHarness & { schema: string };
  },
};

const memory: Adapter = {
  name: 'memory',
  async create() {
    let last: MemoryStore | undefined;
    return {
      durable: false,
      async open(opts) {
        return (last = openMemoryStore({ retention: opts?.retention }));
      },
      async alertRows() {
        const a = last!.alerts;
        return {
          states: byRuleChip([...a.states.values()].map((s) => ({ ...s, labels: { ...s.labels } }))),
          events: a.events.map((e) => ({ ruleId: e.ruleId, chipId: e.chipId, from: e.from, to: e.to, at: e.at, value: e.value, startsAt: e.startsAt, endsAt: e.endsAt })),
        };
      },
      async cleanup() {},
    };
  },
};

export const ADAPTERS: Adapter[] = [sqlite, postgres, memory];

// ---- data -------------------------------------------------------------------------------------

export const CHIPS: ChipInfo[] = [chipInfo(0), chipInfo(1), chipInfo(2, { chipId: 'i-0abc-neuron0', vendor: 'aws', model: 'Trainium2' })];

/**
 * Random telemetry of CHIPS from `t0` over `spanMs`: irregular intervals, nulls, a counter reset
 * on chip 0, a 7-minute outage on chip 1 (no energy pairing across it).
 */
export function randomTelemetry(seed: number, t0: number, spanMs: number): Sample[] {
  const rng = createPrng(seed);
  const out: Sample[] = [];
  for (const [ci, chip] of CHIPS.entries()) {
    let energy = 1e6 * (ci + 1);
    for (let ts = t0 + rng.int(0, 5000); ts < t0 + spanMs; ts += rng.int(3000, 25_000)) {
      if (ci === 1 && ts > t0 + 40 * 60_000 && ts < t0 + 47 * 60_000) continue;
      if (ci === 0 && Math.abs(ts - (t0 + 70 * 60_000)) < 12_000) energy = 50;
      const power = Math.round(rng.next() * 70_000) / 100;
      energy = Math.round((energy + power * 10) * 1000) / 1000;
      const maybe = (v: number) => (rng.next() < 0.05 ? null : v);
      out.push({
        ts,
        chipId: chip.chipId,
        utilPct: maybe(rng.int(0, 100)),
        memUtilPct: chip.vendor === 'aws' ? null : maybe(rng.int(0, 100)),
        memUsedBytes: maybe(rng.int(0, 80) * 1024 ** 3),
        memTotalBytes: 8e10,
        powerW: maybe(power),
        powerLimitW: 700,
        tempC: chip.vendor === 'aws' ? null : maybe(30 + rng.int(0, 50)),
        energyJ: rng.next() < 0.03 ? null : energy,
        ...(chip.vendor === 'nvidia' ? { smClockMhz: rng.int(300, 1980), eccCorrected: 0, eccUncorrected: 0 } : {}),
      });
    }
  }
  return out.sort((a, b) => a.ts - b.ts || (a.chipId < b.chipId ? -1 : 1));
}

/** Buckets of several key's buckets merged by start (a fleet group from its chips). */
export function mergeBuckets(lists: RollupBucket[][]): RollupBucket[] {
  const byStart = new Map<number, RollupBucket>();
  for (const list of lists) {
    for (const b of list) {
      if (!byStart.has(b.start)) byStart.set(b.start, emptyBucket(b.start));
      mergeBucket(byStart.get(b.start)!, b);
    }
  }
  return [...byStart.values()].sort((a, b) => a.start - b.start);
}
