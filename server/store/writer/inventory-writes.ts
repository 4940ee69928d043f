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
  // Prepared once: thousands of agents reconnecting at once register 16 chips each, and building
  // and preparing each upsert anew cost ~0.3 ms a chip (most of a 100,000-chip cold start).
  const p = (name: string) => sql.placeholder(name);
  /** The value the conflicting insert brought (`excluded.<column>`). */
  const ex = (column: string) => sql.raw(`excluded.${column}`);
  const upsertHost = db
    .insert(hosts)
    .values({ hostname: p('hostname'), instanceId: p('instanceId'), instanceType: p('instanceType'), lastAgentId: p('agentId'), firstSeen: p('now'), lastSeen: p('now') })
    .onConflictDoUpdate({ target: hosts.hostname, set: { instanceId: ex('instance_id'), instanceType: ex('instance_type'), lastAgentId: ex('last_agent_id'), lastSeen: ex('last_seen') } })
    .prepare();
  const upsertAgent = db
    .insert(agents)
    .values({ id: p('agentId'), hostname: p('hostname'), version: p('version'), intervalMs: p('intervalMs'), tokenId: p('tokenId'), firstSeen: p('now'), lastSeen: p('now') })
    .onConflictDoUpdate({
      target: agents.id,
      set: { hostname: ex('hostname'), version: ex('version'), intervalMs: ex('interval_ms'), tokenId: sql`coalesce(${agents.tokenId}, excluded.token_id)`, lastSeen: ex('last_seen') },
    })
    .prepare();
  const upsertChip = db
    .insert(chips)
    .values({ id: p('chipId'), agentId: p('agentId'), hostname: p('hostname'), vendor: p('vendor'), model: p('model'), idx: p('idx'), cores: p('cores'), memTotalBytes: p('memTotalBytes'), ratedPowerW: p('ratedPowerW'), firstSeen: p('now'), lastSeen: p('now') })
    .onConflictDoUpdate({
      target: chips.id,
      set: { agentId: ex('agent_id'), hostname: ex('hostname'), vendor: ex('vendor'), model: ex('model'), idx: ex('idx'), cores: ex('cores'), memTotalBytes: ex('mem_total_bytes'), ratedPowerW: ex('rated_power_w'), lastSeen: ex('last_seen') },
      // A chip stored under another agent keeps its row (its owner).
      setWhere: sql`${chips.agentId} = excluded.agent_id`,
    })
    .prepare();
  return client.transaction((reg: AgentRegistration, now: number) => {
    const { host } = reg;
    upsertHost.run({ hostname: host.hostname, instanceId: host.instanceId, instanceType: host.instanceType, agentId: reg.agentId, now });
    upsertAgent.run({ agentId: reg.agentId, hostname: host.hostname, version: reg.agentVersion, intervalMs: reg.intervalMs, tokenId: reg.tokenId ?? null, now });
    for (const c of reg.chips) {
      upsertChip.run({ chipId: c.chipId, agentId: reg.agentId, hostname: host.hostname, vendor: c.vendor, model: c.model, idx: c.index, cores: c.cores, memTotalBytes: c.memTotalBytes, ratedPowerW: c.ratedPowerW, now });
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
