/**
 * The inventory write: an agent's host, the agent and its chips, upserted in one transaction.
 * Run by the writer thread, in a write turn like any commit, so a registration neither waits on
 * SQLite's sleep-and-retry behind a fold nor blocks the hub's event loop while it waits.
 */
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type Database from 'better-sqlite3';
import { eq, sql } from 'drizzle-orm';
import { agents, chips, hosts } from '../../../schema/tables.ts';
import type { AgentRegistration } from '../store.ts';

/**
 * The registration transaction on `client` (run it with `.immediate` under a write turn). A new
 * agent id is bound to the registration's token; a bound id keeps its token. A chip stored under
 * another agent keeps its row (its owner; see server/ownership.ts): callers leave such chips out.
 */
export function registerAgentTransaction(client: Database.Database, db: BetterSQLite3Database) {
  return client.transaction((reg: AgentRegistration, now: number) => {
    const { host } = reg;
    db.insert(hosts)
      .values({ hostname: host.hostname, instanceId: host.instanceId, instanceType: host.instanceType, lastAgentId: reg.agentId, firstSeen: now, lastSeen: now })
      .onConflictDoUpdate({ target: hosts.hostname, set: { instanceId: host.instanceId, instanceType: host.instanceType, lastAgentId: reg.agentId, lastSeen: now } })
      .run();
    db.insert(agents)
      .values({ id: reg.agentId, hostname: host.hostname, version: reg.agentVersion, intervalMs: reg.intervalMs, tokenId: reg.tokenId ?? null, firstSeen: now, lastSeen: now })
      .onConflictDoUpdate({
        target: agents.id,
        set: { hostname: host.hostname, version: reg.agentVersion, intervalMs: reg.intervalMs, tokenId: sql`coalesce(${agents.tokenId}, excluded.token_id)`, lastSeen: now },
      })
      .run();
    for (const c of reg.chips) {
      const row = { agentId: reg.agentId, hostname: host.hostname, vendor: c.vendor, model: c.model, idx: c.index, cores: c.cores, memTotalBytes: c.memTotalBytes, ratedPowerW: c.ratedPowerW, lastSeen: now };
      db.insert(chips).values({ id: c.chipId, firstSeen: now, ...row }).onConflictDoUpdate({ target: chips.id, set: row, setWhere: eq(chips.agentId, reg.agentId) }).run();
    }
  });
}

/**
 * An admin's chip move: the chip goes to `agentId`, on that agent's host. Returns false (and
 * changes nothing) when the chip or the agent is unknown.
 */
export function moveChipTransaction(client: Database.Database, db: BetterSQLite3Database) {
  return client.transaction((chipId: string, agentId: string, now: number): boolean => {
    const agent = db.select({ hostname: agents.hostname }).from(agents).where(eq(agents.id, agentId)).get();
    if (!agent) return false;
    return db.update(chips).set({ agentId, hostname: agent.hostname, lastSeen: now }).where(eq(chips.id, chipId)).run().changes > 0;
  });
}
