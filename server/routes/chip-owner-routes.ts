/**
 * POST /api/v1/chips/:chipId/owner `{ "agentId": "..." }` — an admin gives a chip to another
 * agent (server/ownership.ts: only an admin moves chips). The chip's later samples are accepted
 * from the new owner only. Answers the chip's view; 404 for an unknown chip or agent, 400 for a bad
 * body. Mounted under /api/v1/chips behind admin auth.
 */
import { Hono } from 'hono';
import { chipOwnerBodySchema } from '../../schema/api-answers.ts';
import type { ChipView } from '../../schema/protocol.ts';
import { chipIdSchema } from '../../schema/sample.ts';
import type { Ingest } from '../ingest.ts';
import type { Logger } from '../../common/logger.ts';
import { HttpError } from '../http-errors.ts';
import { principalOf } from '../auth/http-auth.ts';

export function chipOwnerRoutes(ingest: Ingest, log: Logger) {
  return new Hono().post('/:chipId/owner', async (c) => {
    const chipId = c.req.param('chipId');
    if (!chipIdSchema.safeParse(chipId).success) throw new HttpError(404, 'not_found', `unknown chip ${JSON.stringify(chipId)}`);
    let raw: unknown;
    try {
      raw = await c.req.json();
    } catch {
      throw new HttpError(400, 'bad_request', 'the body must be JSON: {"agentId": "<agent id>"}');
    }
    const body = chipOwnerBodySchema.safeParse(raw);
    if (!body.success) {
      const issue = body.error.issues[0];
      const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
      throw new HttpError(400, 'bad_request', `the body must be {"agentId": "<agent id>"}; ${where}${issue?.message ?? 'invalid'}`);
    }
    const { agentId } = body.data;
    const moved = await ingest.moveChip(chipId, agentId);
    if (!moved.ok) {
      throw new HttpError(404, 'not_found', moved.missing === 'chip' ? `unknown chip ${JSON.stringify(chipId)}` : `unknown agent ${JSON.stringify(agentId)}`);
    }
    log.info('chip moved', { chipId, agentId, by: principalOf(c)?.name ?? null });
    return c.json(moved.chip satisfies ChipView, 200);
  });
}
