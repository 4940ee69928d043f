/**
 * Embedded SQLite store (better-sqlite3 through Drizzle): WAL, migrations applied at open,
 * prepared statements on the ingest path, one transaction per batch.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { and, asc, eq, gte, lte, sql } from 'drizzle-orm';
import { agents, chips, hosts, samples } from '../../schema/tables.ts';
import type { Sample } from '../../schema/sample.ts';
import { rowToSample, sampleToRow, type SampleRow } from './sample-row.ts';
import type { AgentRegistration, InsertResult, Store, StoredChip } from './store.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../schema/migrations', import.meta.url));

const ph = (name: keyof SampleRow) => sql.placeholder(name);

export function openSqliteStore(path: string): Store {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const client = new Database(path);
  client.pragma('journal_mode = WAL');
  client.pragma('synchronous = NORMAL');
  client.pragma('busy_timeout = 5000');
  const db = drizzle(client);
  migrate(db, { migrationsFolder: MIGRATIONS_DIR });

  const insertSample = db
    .insert(samples)
    .values({
      chipId: ph('chipId'), ts: ph('ts'), utilPct: ph('utilPct'), memUtilPct: ph('memUtilPct'),
      memUsedBytes: ph('memUsedBytes'), memTotalBytes: ph('memTotalBytes'), powerW: ph('powerW'),
      powerLimitW: ph('powerLimitW'), tempC: ph('tempC'), energyJ: ph('energyJ'),
      smClockMhz: ph('smClockMhz'), eccCorrected: ph('eccCorrected'),
      eccUncorrected: ph('eccUncorrected'), flags: ph('flags'), extras: ph('extras'),
    })
    .onConflictDoNothing()
    .prepare();
  const markSeq = db
    .update(agents)
    .set({ lastSeq: sql`max(coalesce(${agents.lastSeq}, -1), ${sql.placeholder('seq')})`, lastSeen: sql`${sql.placeholder('now')}` })
    .where(eq(agents.id, sql.placeholder('agentId')))
    .prepare();

  const insertBatchTx = client.transaction((agentId: string, seq: number, batch: Sample[]): number => {
    let stored = 0;
    for (const s of batch) stored += insertSample.run(sampleToRow(s)).changes;
    markSeq.run({ seq, now: Date.now(), agentId });
    return stored;
  });

  const registerTx = client.transaction((reg: AgentRegistration, now: number) => {
    const { host } = reg;
    db.insert(hosts)
      .values({ hostname: host.hostname, instanceId: host.instanceId, instanceType: host.instanceType, lastAgentId: reg.agentId, firstSeen: now, lastSeen: now })
      .onConflictDoUpdate({ target: hosts.hostname, set: { instanceId: host.instanceId, instanceType: host.instanceType, lastAgentId: reg.agentId, lastSeen: now } })
      .run();
    db.insert(agents)
      .values({ id: reg.agentId, hostname: host.hostname, version: reg.agentVersion, intervalMs: reg.intervalMs, firstSeen: now, lastSeen: now })
      .onConflictDoUpdate({ target: agents.id, set: { hostname: host.hostname, version: reg.agentVersion, intervalMs: reg.intervalMs, lastSeen: now } })
      .run();
    for (const c of reg.chips) {
      const row = { agentId: reg.agentId, hostname: host.hostname, vendor: c.vendor, model: c.model, idx: c.index, cores: c.cores, memTotalBytes: c.memTotalBytes, ratedPowerW: c.ratedPowerW, lastSeen: now };
      db.insert(chips).values({ id: c.chipId, firstSeen: now, ...row }).onConflictDoUpdate({ target: chips.id, set: row }).run();
    }
  });

  return {
    async registerAgent(reg, now) {
      registerTx(reg, now);
    },
    async insertBatch(agentId, seq, batch): Promise<InsertResult> {
      return { stored: insertBatchTx(agentId, seq, batch) };
    },
    async listChips(): Promise<StoredChip[]> {
      const rows = db
        .select({ chip: chips, instanceType: hosts.instanceType, intervalMs: agents.intervalMs })
        .from(chips)
        .leftJoin(hosts, eq(hosts.hostname, chips.hostname))
        .leftJoin(agents, eq(agents.id, chips.agentId))
        .orderBy(asc(chips.hostname), asc(chips.idx))
        .all();
      return rows.map(({ chip, instanceType, intervalMs }) => ({
        chipId: chip.id, vendor: chip.vendor, model: chip.model, index: chip.idx, cores: chip.cores,
        memTotalBytes: chip.memTotalBytes, ratedPowerW: chip.ratedPowerW, agentId: chip.agentId,
        host: chip.hostname, instanceType: instanceType ?? null, intervalMs: intervalMs ?? 1000, lastSeen: chip.lastSeen,
      }));
    },
    async latestSamples() {
      const rows = db
        .select()
        .from(samples)
        .where(sql`(${samples.chipId}, ${samples.ts}) IN (SELECT chip_id, max(ts) FROM samples GROUP BY chip_id)`)
        .all();
      return new Map(rows.map((r) => [r.chipId, rowToSample(r)]));
    },
    async chipSamples(chipId, from, to, limit) {
      return db
        .select()
        .from(samples)
        .where(and(eq(samples.chipId, chipId), gte(samples.ts, from), lte(samples.ts, to)))
        .orderBy(asc(samples.ts))
        .limit(limit)
        .all()
        .map(rowToSample);
    },
    async countSamples() {
      const row = db.select({ n: sql<number>`count(*)` }).from(samples).get();
      return row?.n ?? 0;
    },
    async close() {
      client.close();
    },
  };
}
