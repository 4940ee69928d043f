/**
 * Auth for the HTTP API as Hono middleware: which access each request needs (by method and path),
 * checked against the token it presents; refusals answer 401/403 with `{code, message}`.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { ErrorBody } from '../../schema/api-answers.ts';
import { authorize, originAllowed, presentedToken, viaSessionCookie, type AuthPolicy } from './auth-policy.ts';
import type { Access, Principal } from './tokens.ts';

/** Paths anyone may reach: the OpenAPI document and the dashboard's sign-in. */
const PUBLIC = new Set(['/api/v1/openapi.json', '/api/v1/session']);

/**
 * The access a request to the API needs: sending samples (`POST /api/v1/write`), administration
 * (tokens, chip ownership, and every other change), or reading (every other GET); null: none.
 */
export function accessFor(method: string, path: string): Access | null {
  if (PUBLIC.has(path)) return null;
  if (path === '/api/v1/write') return 'ingest';
  if (path === '/api/v1/tokens' || path.startsWith('/api/v1/tokens/')) return 'admin';
  return method === 'GET' || method === 'HEAD' ? 'read' : 'admin';
}

/** The principal the auth middleware found for this request. */
export function principalOf(c: Context): Principal | undefined {
  return c.get('principal' as never) as Principal | undefined;
}

export function apiAuth(policy: AuthPolicy, secure = false): MiddlewareHandler {
  return async (c, next) => {
    const access = accessFor(c.req.method, c.req.path);
    if (access === null) return next();
    const header = (h: string) => c.req.header(h);
    const url = new URL(c.req.url);
    const requestId = (c.get('requestId' as never) as string | undefined) ?? null;
    // A change made with the dashboard's cookie must come from the hub's own pages (SameSite=Strict
    // already keeps other sites' requests from carrying it; this holds for older browsers too).
    if (!policy.open && access !== 'read' && viaSessionCookie(header, url) && !originAllowed(header('origin'), header('host'), secure, [])) {
      return c.json({ code: 'forbidden', message: `a change with the session cookie must come from the hub's own pages, not Origin ${header('origin')}`, requestId } satisfies ErrorBody, 403);
    }
    const res = authorize(policy, presentedToken(header, url), access);
    if (!res.ok) {
      if (res.status === 401) c.header('WWW-Authenticate', 'Bearer realm="fleetscope"');
      return c.json({ code: res.code, message: res.message, requestId } satisfies ErrorBody, res.status);
    }
    c.set('principal' as never, res.principal as never);
    return next();
  };
}
