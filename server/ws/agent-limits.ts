/**
 * Count limits on what agents may register: chips per agent, and agents per token (so a token
 * cannot mint throwaway agent ids, each kept forever with its chips). Pure.
 *
 * The agents-per-token quota counts the agent ids bound to each token (see server/ownership.ts:
 * an id is bound to the token that first registered it). Wire it where a NEW agent id is bound:
 * seed it from the store's bindings at start, `tryBind(tokenId)` before registering a new id
 * (refuse the hello with `out_of_range` and `tooManyAgentsMessage()` when it answers false),
 * `unbind(tokenId)` when an agent id is deleted.
 */
import { MAX_CHIPS_PER_AGENT } from '../../schema/protocol.ts';

export const DEFAULT_MAX_CHIPS_PER_AGENT = MAX_CHIPS_PER_AGENT;
export const DEFAULT_MAX_AGENTS_PER_TOKEN = 10_000;

/** Why a hello or inventory with `count` chips is refused (an `out_of_range` message), or null. */
export function chipCountProblem(count: number, max: number): string | null {
  if (count <= max) return null;
  return `chips: ${count} chips, but this hub accepts at most ${max} per agent; split the host's chips across several agents`;
}

/** The `out_of_range` message of a hello refused by the quota. */
export function tooManyAgentsMessage(max: number): string {
  return `this token already has ${max} agents (the most one token may register); reuse an agent id, or ask an admin for another token`;
}

/** Agent ids bound per token; the open hub's agents (token null) count under one key. */
export class AgentQuota {
  private readonly counts = new Map<string | null, number>();

  constructor(readonly maxPerToken: number = DEFAULT_MAX_AGENTS_PER_TOKEN) {}

  /** Start from the bindings the hub already has (token of each stored agent id). */
  seed(tokenIds: Iterable<string | null>): void {
    for (const t of tokenIds) this.counts.set(t, (this.counts.get(t) ?? 0) + 1);
  }

  /** Agent ids bound to `tokenId`. */
  count(tokenId: string | null): number {
    return this.counts.get(tokenId) ?? 0;
  }

  /** Bind one more agent id to `tokenId` if the token has room: true when bound. */
  tryBind(tokenId: string | null): boolean {
    const n = this.count(tokenId);
    if (n >= this.maxPerToken) return false;
    this.counts.set(tokenId, n + 1);
    return true;
  }

  /** An agent id bound to `tokenId` went away (deleted, or moved to another token). */
  unbind(tokenId: string | null): void {
    const n = this.count(tokenId);
    if (n <= 1) this.counts.delete(tokenId);
    else this.counts.set(tokenId, n - 1);
  }
}
