/**
 * The inventory write: an agent's host, the agent and its chips, upserted in one transaction.
 * Run by the writer thread, in a write turn like any commit, so a registration neither waits on
 * SQLite's sleep-and-retry behind a fold nor blocks the hub's event loop while it waits.
 */
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type Database from 'better-sqlite3';
import { agents, chips, hosts } from '../../../schema/tables.ts';
import type { AgentRegistration } from '../store.ts';

/** The registration transaction on `client` (run it with `.immediate` under a write turn). */
export function registerAgentTransaction(client: Database.Database, db: BetterSQLite3Database) {
  return client.transaction((reg: AgentRegistration, now: number) => {
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
}
