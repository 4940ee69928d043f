/**
 * Chips' staleness deadlines (missedIntervals rules), one timer-wheel entry per agent. An agent's
 * chips are heard together, so their deadlines move together: at 100,000 chips at 1 Hz a wheel
 * entry per chip was ~33,000 wheel moves a second, one per chip every few seconds. Here each chip
 * keeps its own deadline (`staleDue`), and its agent's entry is due no later than the first of
 * them; when it goes off, the chips whose deadline passed are handed back to be checked and the
 * entry is set again for the next deadline among the rest.
 */
import type { ChipEntry } from './alert-slots.ts';

/** One agent's entry in the wheel. */
export interface AgentStale {
  readonly agentId: string;
  /** Chips that set a deadline under this agent (a chip that moved on or cleared its deadline is dropped when the entry goes off). */
  members: ChipEntry[];
  /** When the entry is due in the wheel (Infinity: not in it). */
  at: number;
}

export const isAgentStale = (k: unknown): k is AgentStale => typeof k === 'object' && k !== null && 'members' in k;

export class StaleTimers {
  private readonly agents = new Map<string, AgentStale>();

  /** `schedule`: puts an agent's entry in the alerting timer wheel for `at` (moving it if it is there). */
  constructor(private readonly schedule: (g: AgentStale, at: number) => void) {}

  /** The chip, of agent `agentId`, is to be checked for silence at `due`. */
  set(e: ChipEntry, agentId: string, due: number): void {
    let g = e.staleGroup;
    if (g === null || g.agentId !== agentId) {
      let of = this.agents.get(agentId);
      if (of === undefined) this.agents.set(agentId, (of = { agentId, members: [], at: Infinity }));
      of.members.push(e);
      e.staleGroup = g = of;
    }
    e.staleDue = due;
    e.staleTimer = true;
    if (due < g.at) {
      g.at = due;
      this.schedule(g, due);
    }
  }

  /** The chip's check is put off to `due`, under the agent it was set for. */
  postpone(e: ChipEntry, due: number): void {
    this.set(e, e.staleGroup!.agentId, due);
  }

  /** The chip has no deadline any more. */
  clear(e: ChipEntry): void {
    e.staleTimer = false;
  }

  /**
   * The agent's entry went off at `now`: the chips whose deadline passed, earliest first, no longer
   * timed (each is to be checked, which may set it again). The entry is set again for the first
   * deadline among the others; an agent with none left is forgotten.
   */
  fired(g: AgentStale, now: number): ChipEntry[] {
    g.at = Infinity;
    const due: ChipEntry[] = [];
    const { members } = g;
    let kept = 0;
    let next = Infinity;
    for (let i = 0; i < members.length; i++) {
      const e = members[i]!;
      if (e.staleGroup !== g || !e.staleTimer) {
        if (e.staleGroup === g) e.staleGroup = null;
        continue;
      }
      if (e.staleDue <= now) {
        e.staleTimer = false;
        due.push(e);
      } else if (e.staleDue < next) next = e.staleDue;
      members[kept++] = e;
    }
    members.length = kept;
    if (next !== Infinity) {
      g.at = next;
      this.schedule(g, next);
    }
    if (kept === 0) this.agents.delete(g.agentId);
    if (due.length > 1) due.sort((a, b) => a.staleDue - b.staleDue);
    return due;
  }
}
