/**
 * The inventory in PostgreSQL through Drizzle: an agent's hello (host, agent and chips upserted in
 * one transaction; a chip stored under another agent keeps its owner), admin chip moves, and the
 * reads of agents and chips — the same rules as the SQLite store's inventory writes.
 */
import { asc, eq, sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { agents, chips, hosts } from '../../../schema/pg/tables.ts';
import type { AgentRegistration, StoredAgent, StoredChip } from '../store.ts';

/** The value the conflicting insert brought (`excluded.<column>`). */
const ex = (column: string) => sql.raw(`excluded.${column}`);

export async function registerAgent(db: NodePgDatabase, reg: AgentRegistration, now: number): Promise<void> {
  const { host } = reg;
  await db.transaction(async (tx) => {
    await tx
      .insert(hosts)
      .values({ hostname: host.hostname, instanceId: host.instanceId, instanceType: host.instanceType, lastAgentId: reg.agentId, firstSeen: now, lastSeen: now })
      .onConflictDoUpdate({ target: hosts.hostname, set: { instanceId: ex('instance_id'), instanceType: ex('instance_type'), lastAgentId: ex('last_agent_id'), lastSeen: ex('last_seen') } });
    await tx
      .insert(agents)
      .values({ id: reg.agentId, hostname: host.hostname, version: reg.agentVersion, intervalMs: reg.intervalMs, tokenId: reg.tokenId ?? null, firstSeen: now, lastSeen: now })
      .onConflictDoUpdate({
        target: agents.id,
        set: { hostname: ex('hostname'), version: ex('version'), intervalMs: ex('interval_ms'), tokenId: sql`coalesce(${agents.tokenId}, excluded.token_id)`, lastSeen: ex('last_seen') },
      });
    if (reg.chips.length === 0) return;
    await tx
      .insert(chips)
      .values(
        reg.chips.map((c) => ({
          id: c.chipId, agentId: reg.agentId, hostname: host.hostname, vendor: c.vendor, model: c.model, idx: c.index, cores: c.cores,
          memTotalBytes: c.memTotalBytes, ratedPowerW: c.ratedPowerW, firstSeen: now, lastSeen: now,
        })),
      )
      .onConflictDoUpdate({
        target: chips.id,
        set: { agentId: ex('agent_id'), hostname: ex('hostname'), vendor: ex('vendor'), model: ex('model'), idx: ex('idx'), cores: ex('cores'), memTotalBytes: ex('mem_total_bytes'), ratedPowerW: ex('rated_power_w'), lastSeen: ex('last_seen') },
        // A chip stored under another agent keeps its row (its owner; only moveChip moves it).
        setWhere: sql`${chips.agentId} = excluded.agent_id`,
      });
  });
}

/** Give a chip to a registered agent, on its host; false when the chip or the agent is unknown. */
export async function moveChip(db: NodePgDatabase, chipId: string, agentId: string, now: number): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [agent] = await tx.select({ hostname: agents.hostname }).from(agents).where(eq(agents.id, agentId));
    if (!agent) return false;
    const moved = await tx.update(chips).set({ agentId, hostname: agent.hostname, lastSeen: now }).where(eq(chips.id, chipId)).returning({ id: chips.id });
    return moved.length > 0;
  });
}

export async function getAgent(db: NodePgDatabase, agentId: string): Promise<StoredAgent | null> {
  const [row] = await db.select({ hostname: agents.hostname, version: agents.version, tokenId: agents.tokenId }).from(agents).where(eq(agents.id, agentId));
  return row ? { agentId, ...row } : null;
}

export async function agentTokenIds(db: NodePgDatabase): Promise<(string | null)[]> {
  return (await db.select({ tokenId: agents.tokenId }).from(agents)).map((r) => r.tokenId);
}

/** Every chip with its host's instance type and its agent's interval, by host then index; frozen. */
export async function listChips(db: NodePgDatabase): Promise<readonly StoredChip[]> {
  const rows = await db
    .select({ chip: chips, instanceType: hosts.instanceType, intervalMs: agents.intervalMs })
    .from(chips)
    .leftJoin(hosts, eq(hosts.hostname, chips.hostname))
    .leftJoin(agents, eq(agents.id, chips.agentId))
    .orderBy(asc(chips.hostname), asc(chips.idx));
  return Object.freeze(
    rows.map(({ chip, instanceType, intervalMs }) =>
      Object.freeze({
        chipId: chip.id, vendor: chip.vendor, model: chip.model, index: chip.idx, cores: chip.cores,
        memTotalBytes: chip.memTotalBytes, ratedPowerW: chip.ratedPowerW, agentId: chip.agentId,
        host: chip.hostname, instanceType: instanceType ?? null, intervalMs: intervalMs ?? 1000, lastSeen: chip.lastSeen,
      }),
    ),
  );
}
