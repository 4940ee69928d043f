/**
 * The notifier's API, mounted under /api/v1/alerts (GET: viewer; the rest: admin):
 * - receivers: `GET /receivers`, `POST /receivers` (201; 409 when the name is taken),
 *   `GET|PUT|DELETE /receivers/:name` (PUT creates or replaces; a secret left out keeps the stored
 *   one, null removes it; receivers of the rules file or `--webhook` are 409 here). Secrets are
 *   never answered (`hasSecret`), nor a URL's query or a Slack webhook's path.
 * - silences: `GET /silences`, `POST /silences` (201), `DELETE /silences/:id` (ends it now; 200
 *   with the ended silence, 404 when there is none still to end).
 * - dead letters: `GET /dead-letters?limit=100`, `POST /dead-letters/:id/retry` (202: pending
 *   again, attempts from zero).
 * Bodies are checked with the zod schemas of schema/alert-notify.ts; a 400 names the field.
 */
import { Hono } from 'hono';
import type { z } from 'zod';
import { MAX_SILENCE_MS, receiverNameSchema, receiverPutSchema, receiverSpecSchema, silenceBodySchema } from '../../schema/alert-notify.ts';
import type { DeadLettersAnswer, OutboxEntry, ReceiverAnswer, ReceiversAnswer, SilenceAnswer, SilencesAnswer } from '../../schema/api-answers.ts';
import { principalOf } from '../auth/http-auth.ts';
import { HttpError } from '../http-errors.ts';
import { NotifyError, silenceState, type Notifier } from '../alerts/notifier.ts';
import type { Silence, StoredReceiver } from '../alerts/notify-store.ts';
import type { OutboxRow } from '../alerts/outbox.ts';
import { jsonBody } from './json-body.ts';

/** The URL without what may be a credential: the query, and a Slack webhook's path (its secret). */
export function redactUrl(url: string, kind: string): string {
  try {
    const u = new URL(url);
    if (kind === 'slack') return `${u.origin}/…`;
    return `${u.origin}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '…';
  }
}

export function receiverAnswer(r: StoredReceiver): ReceiverAnswer {
  const s = r.spec;
  return {
    name: s.name,
    kind: s.kind,
    url: redactUrl(s.url, s.kind),
    hasSecret: s.secret !== undefined,
    matchers: s.matchers,
    groupBy: s.groupBy,
    groupWait: s.groupWait,
    repeatInterval: s.repeatInterval,
    rateLimit: s.rateLimit,
    sendResolved: s.sendResolved,
    source: r.source,
    updatedAt: r.updatedAt,
  };
}

const silenceAnswer = (s: Silence, now: number): SilenceAnswer => ({ ...s, state: silenceState(s, now) });

function outboxEntry(r: OutboxRow): OutboxEntry {
  let payload: unknown = r.body;
  try {
    payload = JSON.parse(r.body);
  } catch {
    /* kept as text */
  }
  return { id: r.id, receiver: r.receiver, idempotencyKey: r.idempotencyKey, status: r.status, createdAt: r.createdAt, attempts: r.attempts, nextAt: r.nextAt, lastError: r.lastError, payload };
}

function mapped<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof NotifyError) throw new HttpError(err.reason === 'not_found' ? 404 : 409, err.reason, err.message);
    throw err;
  }
}

function receiverName(raw: string): string {
  if (!receiverNameSchema.safeParse(raw).success) throw new HttpError(404, 'not_found', `no receiver ${JSON.stringify(raw)}; GET /api/v1/alerts/receivers lists them`);
  return raw;
}

export function alertNotifyRoutes(notifier: Notifier) {
  return new Hono()
    .get('/receivers', (c) => c.json({ receivers: notifier.receivers().map(receiverAnswer) } satisfies ReceiversAnswer))
    .post('/receivers', async (c) => {
      const spec = await jsonBody(receiverSpecSchema, c.req.raw);
      return c.json(receiverAnswer(mapped(() => notifier.createReceiver(spec))), 201);
    })
    .get('/receivers/:name', (c) => {
      const name = receiverName(c.req.param('name'));
      const r = notifier.receiver(name);
      if (!r) throw new HttpError(404, 'not_found', `no receiver ${JSON.stringify(name)}; GET /api/v1/alerts/receivers lists them`);
      return c.json(receiverAnswer(r));
    })
    .put('/receivers/:name', async (c) => {
      const name = c.req.param('name');
      if (!receiverNameSchema.safeParse(name).success) throw new HttpError(400, 'bad_request', `name: ${receiverNameSchema.safeParse(name).error!.issues[0]!.message}`);
      const body = await jsonBody(receiverPutSchema, c.req.raw);
      if (body.name !== undefined && body.name !== name) throw new HttpError(400, 'bad_request', `name: ${JSON.stringify(body.name)} differs from the path's ${JSON.stringify(name)} (a receiver cannot be renamed; create the new one and delete this)`);
      const { receiver, created } = mapped(() => notifier.putReceiver(name, body));
      return c.json(receiverAnswer(receiver), created ? 201 : 200);
    })
    .delete('/receivers/:name', (c) => {
      mapped(() => notifier.deleteReceiver(receiverName(c.req.param('name'))));
      return c.body(null, 204);
    })
    .get('/silences', (c) => {
      const now = Date.now();
      return c.json({ silences: notifier.silences().map((s) => silenceAnswer(s, now)) } satisfies SilencesAnswer);
    })
    .post('/silences', async (c) => {
      const body = await jsonBody(silenceBodySchema, c.req.raw);
      const now = Date.now();
      if (body.endsAt !== undefined && body.endsAt <= Math.max(now, body.startsAt ?? now)) throw new HttpError(400, 'bad_request', 'endsAt: must be after startsAt and in the future');
      const s = notifier.addSilence(body, principalOf(c)?.name ?? 'anonymous', MAX_SILENCE_MS);
      // Its state as of after it was made: a silence starting now (stamped a millisecond after
      // `now`, say) is active, not pending.
      return c.json(silenceAnswer(s, Date.now()), 201);
    })
    .delete('/silences/:id', (c) => {
      const s = mapped(() => notifier.expireSilence(c.req.param('id')));
      return c.json(silenceAnswer(s, Date.now()));
    })
    .get('/dead-letters', async (c) => {
      const raw = c.req.query('limit');
      const limit = raw === undefined ? 100 : Number(raw);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new HttpError(400, 'bad_request', `limit: an integer from 1 to 1000, got ${JSON.stringify(raw)}`);
      return c.json({ deadLetters: (await notifier.deadLetters(limit)).map(outboxEntry) } satisfies DeadLettersAnswer);
    })
    .post('/dead-letters/:id/retry', async (c) => {
      const raw = c.req.param('id');
      const id = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(id)) throw new HttpError(404, 'not_found', `no dead letter ${JSON.stringify(raw)}; GET /api/v1/alerts/dead-letters lists them`);
      const row = await Promise.resolve(mapped(() => notifier.retryDeadLetter(id))).catch((err: unknown) => mapped(() => {
        throw err;
      }));
      return c.json(outboxEntry(row), 202);
    });
}
