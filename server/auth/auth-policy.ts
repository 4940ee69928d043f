/**
 * Who may do what on a hub: the token a request presents (header, Influx-style parameter or the
 * dashboard's session cookie), the access the request needs, and whether a browser's Origin may
 * open /ws/live. Transport-free: callers pass headers and the URL, and map a refusal to 401/403.
 */
import type { TokenStore } from './token-store.ts';
import { allows, OPEN_PRINCIPAL, type Access, type Principal } from './tokens.ts';

/** The dashboard's session cookie: holds a viewer (or admin) token, HttpOnly and SameSite=Strict. */
export const SESSION_COOKIE = 'fleetscope_session';

export interface AuthPolicy {
  /** Auth off (`fleetscope demo`, `hub --open`): every request acts as OPEN_PRINCIPAL. */
  readonly open: boolean;
  /** Where tokens are checked (null only when open). */
  readonly tokens: TokenStore | null;
  /** Origins besides the hub's own that may open /ws/live (`--allowed-origin`). */
  readonly allowedOrigins: readonly string[];
}

export const OPEN_POLICY: AuthPolicy = { open: true, tokens: null, allowedOrigins: [] };

export type AuthResult = { ok: true; principal: Principal } | { ok: false; status: 401 | 403; code: 'unauthorized' | 'forbidden'; message: string };

/** Request headers as both node:http and fetch expose them (lower-case names). */
export type HeaderLookup = (name: string) => string | undefined;

/** The value of cookie `name` in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** Does the request carry its token only in the session cookie (a browser's dashboard session)? */
export function viaSessionCookie(header: HeaderLookup, url: URL): boolean {
  return !header('authorization') && !url.searchParams.get('p') && cookieValue(header('cookie'), SESSION_COOKIE) !== undefined;
}

/**
 * The token a request presents: `Authorization: Bearer <t>` or `Token <t>` (Influx clients), the
 * `p` query parameter (Influx 1.x clients), or the session cookie.
 */
export function presentedToken(header: HeaderLookup, url: URL): string | null {
  const auth = header('authorization');
  if (auth) {
    const m = /^\s*(Bearer|Token)\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[2]!;
  }
  const p = url.searchParams.get('p');
  if (p) return p;
  return cookieValue(header('cookie'), SESSION_COOKIE) ?? null;
}

const NEEDS: Record<Access, string> = {
  ingest: 'an agent (or admin) token',
  read: 'a viewer (or admin) token',
  admin: 'an admin token',
};

/** May the request that presents `token` have `access`? */
export function authorize(policy: AuthPolicy, token: string | null, access: Access): AuthResult {
  if (policy.open) return { ok: true, principal: OPEN_PRINCIPAL };
  if (!token) return { ok: false, status: 401, code: 'unauthorized', message: `this needs ${NEEDS[access]}: send Authorization: Bearer <token>` };
  const principal = policy.tokens?.verify(token) ?? null;
  if (!principal) return { ok: false, status: 401, code: 'unauthorized', message: 'the token is not valid (unknown or revoked)' };
  if (!allows(principal.role, access)) return { ok: false, status: 403, code: 'forbidden', message: `${principal.role === 'agent' || principal.role === 'admin' ? 'an' : 'a'} ${principal.role} token cannot do this; it needs ${NEEDS[access]}` };
  return { ok: true, principal };
}

/**
 * May a browser page from `origin` open /ws/live? No Origin header (a script, not a browser) is
 * allowed; else it must be the hub's own origin (the Host it was reached at) or an allowed one.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, secure: boolean, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  if (host && origin === `${secure ? 'https' : 'http'}://${host}`) return true;
  return allowed.includes(origin);
}
