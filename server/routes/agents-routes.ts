/** GET /api/v1/agents: connected and known agents with their sources' health and spool drops. */
import { Hono } from 'hono';
import type { AgentsAnswer } from '../../schema/api-answers.ts';
import type { FleetState } from '../fleet-state.ts';

export function agentsRoutes(fleet: FleetState) {
  return new Hono().get('/', (c) => c.json({ agents: fleet.listAgents() } satisfies AgentsAnswer));
}
