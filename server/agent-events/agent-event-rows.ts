/**
 * Agent connection events: an agent's /ws/agent connection accepted (`connected`) or ended
 * (`disconnected`), as recorded by the hub (agent-event-recorder.ts) in the `agent_events` table
 * of each store and read back per agent for the chip view's reconnect marks
 * (GET /api/v1/chips/:chipId/events).
 */

export const AGENT_EVENT_KINDS = ['connected', 'disconnected'] as const;
export type AgentEventKind = (typeof AGENT_EVENT_KINDS)[number];

/** One event to record. */
export interface AgentEventWrite {
  agentId: string;
  /** ms since epoch */
  ts: number;
  kind: AgentEventKind;
  /** The hub that saw it (host:port), when known. */
  hub?: string | null;
  /** Why, for a disconnect: `replaced` (a newer connection of the agent), `hub-stopped`; else absent. */
  detail?: string | null;
}

/** One event as read back (of one agent). */
export interface AgentEventRow {
  ts: number;
  kind: AgentEventKind;
  hub: string | null;
  detail: string | null;
}

/** Most events one read returns by default. */
export const AGENT_EVENTS_READ_LIMIT = 10_000;
