/**
 * The alert engine's API, mounted under /api/v1/alerts (GET: viewer; the rest: admin):
 * - `GET /` the alerts that are not inactive (`?chip=&rule=&phase=pending|firing|resolved`);
 * - `GET /history?from&to&chip&rule&limit` transitions, newest first (limit 100 by default, at
 *   most 1000; `truncated` when more matched);
 * - `GET /rules`, `POST /rules` (a new rule: 201; 409 when the id is taken or is a built-in's);
 * - `GET /rules/:id`; `PUT /rules/:id` creates or replaces a rule of the API (201 / 200); for a
 *   built-in id (stale, agent-offline, …) the body is an override — any of the rule's fields but
 *   id, e.g. `{"enabled": false}` or `{"threshold": 90, "for": "5m"}` — which replaces the API's
 *   earlier override and is applied over the rules file's `builtins.<id>`;
 * - `DELETE /rules/:id` (204) removes a rule of the API, or the API's override of a built-in.
 * Rules of the rules file are read-only here (409). Every refused body is a 400 whose message
 * names the field (`for: invalid duration "1x": …`).
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { AlertHistoryAnswer, AlertRulesAnswer, AlertRuleView, AlertsAnswer } from '../../schema/api-answers.ts';
import type { Logger } from '../../common/logger.ts';
import type { AlertEngine, RuleChange } from '../alerts/alert-engine.ts';
import { principalOf } from '../auth/http-auth.ts';
import { HttpError } from '../http-errors.ts';
import { resolveTime } from '../history/time-spec.ts';
import { timeParam } from '../history/query-schemas.ts';
import { jsonOf } from './json-body.ts';

const RULE_NOT_JSON = 'the body must be JSON: an alert rule, or for a built-in rule an override of its fields';

/** Largest rule body. */
export const MAX_RULE_BODY_BYTES = 64 * 1024;
export const DEFAULT_HISTORY_LIMIT = 100;
export const MAX_HISTORY_LIMIT = 1000;
/** Without `to`, history reaches this far past now (sample times may run ahead of the hub's clock). */
const FUTURE_SLACK_MS = 60_000;

const quote = (v: unknown) => JSON.stringify(v);

/** GET /api/v1/alerts query (also the OpenAPI parameters). */
export const alertsQuerySchema = z.object({
  chip: z.string().max(128).optional().describe('Only this chip’s alerts.'),
  rule: z.string().max(64).optional().describe('Only this rule’s alerts.'),
  phase: z.enum(['pending', 'firing', 'resolved']).optional().describe('Only alerts in this phase.'),
});

/** GET /api/v1/alerts/history query (also the OpenAPI parameters). */
export const alertHistoryQuerySchema = z.object({
  from: timeParam('Earliest transition, inclusive: epoch ms, ISO-8601 or now-6h (default: the beginning).'),
  to: timeParam('Latest transition, inclusive (default: now, plus a minute for agents whose clocks run ahead).'),
  chip: z.string().max(128).optional().describe('Only this chip’s transitions.'),
  rule: z.string().max(64).optional().describe('Only this rule’s transitions.'),
  limit: z
    .string()
    .transform((s, ctx) => {
      const n = /^\d{1,9}$/.test(s.trim()) ? Number(s) : NaN;
      if (!(n >= 1 && n <= MAX_HISTORY_LIMIT)) ctx.addIssue({ code: 'custom', message: `must be a whole number from 1 to ${MAX_HISTORY_LIMIT}; got ${quote(s)}` });
      return n;
    })
    .optional()
    .describe(`Most transitions, newest first (default ${DEFAULT_HISTORY_LIMIT}, at most ${MAX_HISTORY_LIMIT}).`),
});

function query<S extends z.ZodObject>(schema: S, raw: Record<string, string>): z.output<S> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new HttpError(400, 'bad_request', `${issue.path.map(String).join('.') || 'query'}: ${issue.message}`);
}

function answer(change: RuleChange): AlertRuleView {
  if (change.ok) return change.rule;
  if (change.reason === 'not_found') throw new HttpError(404, 'not_found', change.message);
  if (change.reason === 'conflict') throw new HttpError(409, 'conflict', change.message);
  throw new HttpError(400, 'bad_request', change.message);
}

export function alertRoutes(engine: AlertEngine, log: Logger) {
  const limit = bodyLimit({
    maxSize: MAX_RULE_BODY_BYTES,
    onError: () => {
      throw new HttpError(413, 'too_large', `a rule body may have at most ${MAX_RULE_BODY_BYTES} bytes`);
    },
  });
  const changed = (what: string, id: string, by: string | null) => log.info(`alert rule ${what}`, { id, by });
  return new Hono()
    .get('/', (c) => {
      const q = query(alertsQuerySchema, c.req.query());
      return c.json({ alerts: engine.activeAlerts({ chipId: q.chip, ruleId: q.rule, phase: q.phase }) } satisfies AlertsAnswer);
    })
    .get('/history', async (c) => {
      const q = query(alertHistoryQuerySchema, c.req.query());
      const now = Date.now();
      const to = q.to ? resolveTime(q.to, now) : now + FUTURE_SLACK_MS;
      const from = q.from ? resolveTime(q.from, now) : 0;
      if (from > to) throw new HttpError(400, 'bad_request', `from: must not be after to (${from} > ${to})`);
      const n = q.limit ?? DEFAULT_HISTORY_LIMIT;
      const events = await engine.history({ from, to, chipId: q.chip, ruleId: q.rule, limit: n + 1 });
      return c.json({ from, to, limit: n, truncated: events.length > n, events: events.slice(0, n) } satisfies AlertHistoryAnswer);
    })
    .get('/rules', (c) => c.json({ rules: engine.rules() } satisfies AlertRulesAnswer))
    .post('/rules', limit, async (c) => {
      const rule = answer(engine.createRule(await jsonOf(c.req.raw, RULE_NOT_JSON)));
      changed('created', rule.rule.id, principalOf(c)?.name ?? null);
      return c.json(rule, 201);
    })
    .get('/rules/:id', (c) => {
      const rule = engine.rule(c.req.param('id'));
      if (!rule) throw new HttpError(404, 'not_found', `no alert rule ${quote(c.req.param('id'))}; GET /api/v1/alerts/rules lists them`);
      return c.json(rule satisfies AlertRuleView);
    })
    .put('/rules/:id', limit, async (c) => {
      const change = engine.putRule(c.req.param('id'), await jsonOf(c.req.raw, RULE_NOT_JSON));
      const rule = answer(change);
      changed(change.ok && change.created ? 'created' : 'replaced', rule.rule.id, principalOf(c)?.name ?? null);
      return c.json(rule, change.ok && change.created ? 201 : 200);
    })
    .delete('/rules/:id', (c) => {
      answer(engine.deleteRule(c.req.param('id')));
      changed('deleted', c.req.param('id'), principalOf(c)?.name ?? null);
      return c.body(null, 204);
    });
}
