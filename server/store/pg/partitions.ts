/**
 * Day partitions of the sample log and the chunks (PARTITION BY RANGE on the sample time, one
 * partition per UTC day, named `<table>_dYYYYMMDD`): created ahead (today and the next two days)
 * and on demand for the day of an incoming sample, dropped whole by retention once a day is
 * entirely past the raw retention (detached concurrently first, so readers of the other days
 * never wait on the drop).
 */
import type pg from 'pg';

export const DAY_MS = 86_400_000;
/** The partitioned tables, each partitioned by its sample time column. */
export const PARTITIONED_TABLES = ['sample_log', 'sample_chunks'] as const;
/** Days created ahead of today. */
export const DAYS_AHEAD = 2;

export const dayOf = (ts: number): number => Math.floor(ts / DAY_MS) * DAY_MS;

export function partitionName(table: string, day: number): string {
  return `${table}_d${new Date(day).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

/** `sample_chunks_d20261126` → its day (ms), or null for a name of another shape. */
export function dayOfPartition(name: string): number | null {
  const m = /_d(\d{4})(\d{2})(\d{2})$/.exec(name);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null;
}

/** Postgres error codes when two sessions create the same partition at once. */
const ALREADY_THERE = new Set(['42P07', '23505']);

/** Knows which day partitions exist; creates missing ones (one creation at a time per day). */
export class DayPartitions {
  private readonly known = new Set<number>();
  private readonly pending = new Map<number, Promise<void>>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
  ) {}

  /** Read the partitions that exist now (at open, and after drops). */
  async load(): Promise<void> {
    this.known.clear();
    const days = new Map<number, number>();
    for (const { name } of await this.list()) {
      const day = dayOfPartition(name);
      if (day !== null) days.set(day, (days.get(day) ?? 0) + 1);
    }
    // A day counts as there when every partitioned table has it.
    for (const [day, n] of days) if (n === PARTITIONED_TABLES.length) this.known.add(day);
  }

  /** Partitions of the partitioned tables in this schema, with their table. */
  async list(): Promise<{ table: string; name: string }[]> {
    const r = await this.pool.query<{ table: string; name: string }>(
      `SELECT parent.relname AS table, child.relname AS name
         FROM pg_inherits i
         JOIN pg_class parent ON parent.oid = i.inhparent
         JOIN pg_class child ON child.oid = i.inhrelid
         JOIN pg_namespace ns ON ns.oid = parent.relnamespace
        WHERE ns.nspname = $1 AND parent.relname = ANY($2::text[])
        ORDER BY child.relname`,
      [this.schema, PARTITIONED_TABLES],
    );
    return r.rows;
  }

  /** Today and the next DAYS_AHEAD days. */
  async ensureAhead(now = Date.now()): Promise<void> {
    const today = dayOf(now);
    await this.ensureDays(Array.from({ length: DAYS_AHEAD + 1 }, (_, i) => today + i * DAY_MS));
  }

  /** The partitions of the days of these timestamps (most calls: all known, no query). */
  async ensureFor(timestamps: Iterable<number>): Promise<void> {
    let missing: Set<number> | undefined;
    for (const ts of timestamps) {
      const day = dayOf(ts);
      if (!this.known.has(day)) (missing ??= new Set()).add(day);
    }
    if (missing) await this.ensureDays([...missing]);
  }

  async ensureDays(days: readonly number[]): Promise<void> {
    await Promise.all(days.filter((d) => !this.known.has(d)).map((d) => this.create(d)));
  }

  private create(day: number): Promise<void> {
    let p = this.pending.get(day);
    if (!p) {
      p = this.createNow(day).finally(() => this.pending.delete(day));
      this.pending.set(day, p);
    }
    return p;
  }

  private async createNow(day: number): Promise<void> {
    for (const table of PARTITIONED_TABLES) {
      const sql = `CREATE TABLE IF NOT EXISTS ${partitionName(table, day)} PARTITION OF ${table} FOR VALUES FROM (${day}) TO (${day + DAY_MS})`;
      try {
        await this.pool.query(sql);
      } catch (err) {
        // Another session created it between our check and our CREATE: it is there.
        if (!ALREADY_THERE.has((err as { code?: string }).code ?? '')) throw err;
      }
    }
    this.known.add(day);
  }

  /**
   * Drop the day partitions whose whole day is older than `cutoff` (ts < cutoff is past
   * retention). Returns the names dropped.
   */
  async dropBefore(cutoff: number): Promise<string[]> {
    const dropped: string[] = [];
    for (const { table, name } of await this.list()) {
      const day = dayOfPartition(name);
      if (day === null || day + DAY_MS > cutoff) continue;
      this.known.delete(day);
      // A detach an earlier run began and did not finish is finalized; otherwise detach
      // concurrently (no lock that blocks readers of the parent), then drop the detached table.
      const pending = await this.pool.query<{ p: boolean }>(
        `SELECT i.inhdetachpending AS p FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace ns ON ns.oid = c.relnamespace WHERE ns.nspname = $1 AND c.relname = $2`,
        [this.schema, name],
      );
      if (pending.rows[0]?.p) await this.pool.query(`ALTER TABLE ${table} DETACH PARTITION ${name} FINALIZE`);
      else if (pending.rows.length > 0) await this.pool.query(`ALTER TABLE ${table} DETACH PARTITION ${name} CONCURRENTLY`);
      await this.pool.query(`DROP TABLE IF EXISTS ${name}`);
      dropped.push(name);
    }
    return dropped;
  }
}
