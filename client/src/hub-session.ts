/**
 * The dashboard's sign-in with the hub (`/api/v1/session`): the hub keeps the viewer token in an
 * HttpOnly, SameSite=Strict cookie, so the page never stores it; every API request and the
 * /ws/live upgrade carry it. No DOM use here beyond `fetch`.
 */
import { HubFetchError } from './hub-fetch.ts';

/** Who is signed in: `open` is an open hub (auth off: no sign-in, no sign-out). */
export interface HubSession {
  open: boolean;
  name: string;
  role: string;
}

const SESSION_URL = '/api/v1/session';

async function errorOf(res: Response): Promise<HubFetchError> {
  let body: { code?: unknown; message?: unknown } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    /* not JSON */
  }
  const code = typeof body.code === 'string' ? body.code : `http_${res.status}`;
  const message = typeof body.message === 'string' ? body.message : `The hub answered ${res.status} ${res.statusText}`.trim();
  return new HubFetchError(code, message, res.status);
}

async function send(method: string, body?: unknown): Promise<Response> {
  try {
    return await fetch(SESSION_URL, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new HubFetchError('unreachable', 'Could not reach the hub', 0);
  }
}

/** The current session, or null when not signed in (401/403); throws `HubFetchError` otherwise. */
export async function getSession(): Promise<HubSession | null> {
  const res = await send('GET');
  if (res.status === 401 || res.status === 403) return null;
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as HubSession;
}

/** Signs in with a viewer (or admin) token; throws `HubFetchError` with the hub's message when refused. */
export async function signIn(token: string): Promise<HubSession> {
  const res = await send('POST', { token });
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as HubSession;
}

/** Signs out: the hub clears the cookie. */
export async function signOut(): Promise<void> {
  const res = await send('DELETE');
  if (!res.ok) throw await errorOf(res);
}

/** The token in a `#token=<t>` link (for wall screens), or null. */
export function tokenFromHash(hash: string): string | null {
  const m = /^#token=([^&]+)/.exec(hash);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]!) || null;
  } catch {
    return null;
  }
}
