/**
 * The dashboard's sign-in and the admin's tokens:
 * - `POST /api/v1/session {token}` checks a viewer or admin token and sets it as an HttpOnly,
 *   SameSite=Strict session cookie; `GET` says who is signed in (401 when no one, 403 for an
 *   agent token); `DELETE` signs out.
 * - `GET /api/v1/tokens`, `POST /api/v1/tokens {role, name}` (the secret is in this answer only),
 *   `DELETE /api/v1/tokens/:id` (revoke); admin only (see server/auth/http-auth.ts).
 */
import { Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import { authorize, presentedToken, SESSION_COOKIE, type AuthPolicy } from '../auth/auth-policy.ts';
import { ROLES } from '../auth/tokens.ts';
import type { TokenStore } from '../auth/token-store.ts';
import { HttpError } from '../http-errors.ts';
import { jsonBody } from './json-body.ts';

const SESSION_MAX_AGE_S = 30 * 86_400;

const sessionBody = z.strictObject({ token: z.string().min(1).max(256) });
const tokenBody = z.strictObject({ role: z.enum(ROLES), name: z.string().min(1).max(100).optional() });

export function sessionRoutes(policy: AuthPolicy, secure: boolean) {
  return new Hono()
    .get('/', (c) => {
      const res = authorize(policy, presentedToken((h) => c.req.header(h), new URL(c.req.url)), 'read');
      if (!res.ok) throw new HttpError(res.status, res.code, res.status === 401 ? 'not signed in: POST /api/v1/session with a viewer token' : res.message);
      return c.json({ open: policy.open, name: res.principal.name, role: res.principal.role });
    })
    .post('/', async (c) => {
      const { token } = await jsonBody(sessionBody, c.req.raw);
      const res = authorize(policy, token, 'read');
      if (!res.ok) throw new HttpError(res.status, res.code, res.status === 403 ? 'an agent token cannot sign in to the dashboard; use a viewer or admin token' : res.message);
      if (!policy.open) setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/', secure, maxAge: SESSION_MAX_AGE_S });
      return c.json({ open: policy.open, name: res.principal.name, role: res.principal.role });
    })
    .delete('/', (c) => {
      deleteCookie(c, SESSION_COOKIE, { path: '/', secure });
      return c.body(null, 204);
    });
}

export function tokenRoutes(tokens: TokenStore) {
  return new Hono()
    .get('/', (c) => c.json({ tokens: tokens.list() }))
    .post('/', async (c) => {
      const { role, name } = await jsonBody(tokenBody, c.req.raw);
      const made = tokens.create(role, name ?? `${role} token`);
      await tokens.flush();
      return c.json(made, 201);
    })
    .delete('/:id', async (c) => {
      const id = c.req.param('id');
      if (!tokens.revoke(id)) throw new HttpError(404, 'not_found', `no unrevoked token ${JSON.stringify(id)}; GET /api/v1/tokens lists them`);
      await tokens.flush();
      return c.body(null, 204);
    });
}
