/**
 * Who may use an agent id and who owns a chip: pure decisions, applied by Ingest under its
 * inventory lock (so two registrations never decide against the same state).
 *
 * - An agent id is bound to the token that first registered it (null on an open hub: anyone may
 *   use it; the first token to use a null-bound id claims it). Once the bound token is revoked,
 *   the next token to say hello for the id claims it (token rotation). Another token's hello is refused
 *   (`agent_owned`). A hello for a connected id with the same token replaces the older connection
 *   (the normal reconnect: the old socket may be half-dead).
 * - The ids of line-protocol hosts (`lp-<host>`) are the hub's own: no /ws/agent hello may use one.
 * - A chip belongs to the agent that first registered it. Another agent listing it is told
 *   (`chip_owned`) and the chip is left out of its registration; only an admin moves chips
 *   (POST /api/v1/chips/:chipId/owner).
 */

/** What the hub knows about an agent id when a hello for it arrives (null: never seen). */
export interface ExistingAgent {
  /** The token the id is bound to (null: registered on an open hub, or before auth was on). */
  tokenId: string | null;
  /** The id is a line-protocol host's (`lp-<host>`, registered by POST /api/v1/write). */
  pushAgent: boolean;
  /** An /ws/agent connection of this id is open now. */
  connected: boolean;
  /** The token the id is bound to has been revoked (the id is free for the next token). */
  tokenRevoked?: boolean;
}

export type HelloDecision =
  /** `bindTo`: the token the id is bound to from now on; `replace`: close the id's older connection. */
  | { ok: true; bindTo: string | null; replace: boolean }
  | { ok: false; code: 'agent_owned'; message: string };

/** May a hello from a connection authenticated as `tokenId` use `agentId`? */
export function decideHello(agentId: string, existing: ExistingAgent | null, tokenId: string | null): HelloDecision {
  if (existing === null) return { ok: true, bindTo: tokenId, replace: false };
  if (existing.pushAgent) {
    return { ok: false, code: 'agent_owned', message: `agent id ${JSON.stringify(agentId)} is a line-protocol host's (POST /api/v1/write); choose another --agent-id` };
  }
  if (existing.tokenId !== null && existing.tokenId !== tokenId && existing.tokenRevoked) return { ok: true, bindTo: tokenId, replace: existing.connected };
  if (existing.tokenId !== null && existing.tokenId !== tokenId) {
    return {
      ok: false,
      code: 'agent_owned',
      message: `agent id ${JSON.stringify(agentId)} is registered to another token; connect with that token or choose another --agent-id`,
    };
  }
  return { ok: true, bindTo: existing.tokenId ?? tokenId, replace: existing.connected };
}

/** A chip an agent listed that another agent owns. */
export interface ForeignChip {
  chipId: string;
  /** The agent that owns it. */
  owner: string;
}

/**
 * Split an agent's chip list into the chips it may register (new ones, and its own) and those
 * another agent owns. `ownerOf` answers the owning agent of a known chip, undefined for a new one.
 */
export function partitionChips<C extends { chipId: string }>(agentId: string, chips: readonly C[], ownerOf: (chipId: string) => string | undefined): { kept: C[]; foreign: ForeignChip[] } {
  const kept: C[] = [];
  const foreign: ForeignChip[] = [];
  for (const c of chips) {
    const owner = ownerOf(c.chipId);
    if (owner === undefined || owner === agentId) kept.push(c);
    else foreign.push({ chipId: c.chipId, owner });
  }
  return { kept, foreign };
}

/** Chip ids named in one message at most; the rest are counted. */
const MAX_NAMED_CHIPS = 20;

/** The message of a `chip_owned` refusal, naming the chips and their owners. */
export function chipOwnedMessage(foreign: readonly ForeignChip[]): string {
  const named = foreign.slice(0, MAX_NAMED_CHIPS).map((f) => `${f.chipId} (agent ${f.owner})`);
  const more = foreign.length > MAX_NAMED_CHIPS ? ` and ${foreign.length - MAX_NAMED_CHIPS} more` : '';
  const which = foreign.length === 1 ? 'chip belongs' : 'chips belong';
  return `${foreign.length} ${which} to another agent and ${foreign.length === 1 ? 'was' : 'were'} left out: ${named.join(', ')}${more}; an admin can move a chip with: fleetscope chips reassign <chipId> --to <agentId>`;
}
