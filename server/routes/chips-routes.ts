/** GET /api/v1/chips, GET /api/v1/chips/:chipId/samples and GET /api/v1/chips/:chipId/events */
import { Hono } from 'hono';
import { noteTier } from '../telemetry/history-timing.ts';
import type { ChipEventsAnswer, ChipSamplesAnswer, ChipsAnswer } from '../../schema/api-answers.ts';
import { AGENT_EVENTS_READ_LIMIT } from '../agent-events/agent-event-rows.ts';
import { chipIdSchema } from '../../schema/sample.ts';
import type { FleetState } from '../fleet-state.ts';
import type { Store } from '../store/store.ts';
import { HttpError } from '../http-errors.ts';
import { parseTimeSpec, resolveTime, TIME_FORMS } from '../history/time-spec.ts';

const DEFAULT_RANGE_MS = 60 * 60_000;
const DEFAULT_LIMIT = 10_000;
const MAX_LIMIT = 100_000;

/** A time parameter in the forms the other history endpoints take (time-spec.ts), resolved at `now`. */
function timeParam(name: string, raw: string | undefined, fallback: number, now: number): number {
  if (raw === undefined || raw === '') return fallback;
  const t = parseTimeSpec(raw);
  if (t === null) throw new HttpError(400, 'bad_request', `${name} must be ${TIME_FORMS}, got ${JSON.stringify(raw)}`);
  return resolveTime(t, now);
}

export function chipsRoutes(fleet: FleetState, store: Store) {
  return new Hono()
    .get('/', (c) => c.json({ chips: fleet.list() } satisfies ChipsAnswer))
    .get('/:chipId/samples', async (c) => {
      const chipId = c.req.param('chipId');
      if (!chipIdSchema.safeParse(chipId).success || !fleet.get(chipId)) {
        throw new HttpError(404, 'not_found', `unknown chip ${JSON.stringify(chipId)}`);
      }
      const now = Date.now();
      const to = timeParam('to', c.req.query('to'), now, now);
      const from = timeParam('from', c.req.query('from'), to - DEFAULT_RANGE_MS, now);
      if (from > to) throw new HttpError(400, 'bad_request', `from (${from}) is after to (${to})`);
      const limitRaw = c.req.query('limit');
      const limit = limitRaw === undefined ? DEFAULT_LIMIT : Number(limitRaw);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
        throw new HttpError(400, 'bad_request', `limit must be an integer from 1 to ${MAX_LIMIT}`);
      }
      noteTier(c, 'raw');
      const samples = await store.chipSamples(chipId, from, to, limit + 1);
      const truncated = samples.length > limit;
      if (truncated) samples.length = limit;
      return c.json({
        chipId,
        from,
        to,
        samples,
        // When truncated, ask again with from = next to read the rest.
        ...(truncated ? { truncated: true, next: samples[samples.length - 1].ts + 1 } : {}),
      } satisfies ChipSamplesAnswer);
    })
    // The connection events (connected, disconnected) of the agent that owns the chip: the chip view marks reconnects with them.
    .get('/:chipId/events', async (c) => {
      const chipId = c.req.param('chipId');
      const chip = chipIdSchema.safeParse(chipId).success ? fleet.get(chipId) : undefined;
      if (!chip) throw new HttpError(404, 'not_found', `unknown chip ${JSON.stringify(chipId)}`);
      const now = Date.now();
      const to = timeParam('to', c.req.query('to'), now, now);
      const from = timeParam('from', c.req.query('from'), to - DEFAULT_RANGE_MS, now);
      if (from > to) throw new HttpError(400, 'bad_request', `from (${from}) is after to (${to})`);
      const rows = await store.agentEvents(chip.agentId, from, to, AGENT_EVENTS_READ_LIMIT + 1);
      const truncated = rows.length > AGENT_EVENTS_READ_LIMIT;
      if (truncated) rows.length = AGENT_EVENTS_READ_LIMIT;
      return c.json({
        chipId,
        agentId: chip.agentId,
        from,
        to,
        events: rows.map((r) => (r.detail ? { ts: r.ts, kind: r.kind, detail: r.detail } : { ts: r.ts, kind: r.kind })),
        ...(truncated ? { truncated: true as const } : {}),
      } satisfies ChipEventsAnswer);
    });
}
