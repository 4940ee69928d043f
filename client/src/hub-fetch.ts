/**
 * GET a JSON answer from the hub's HTTP API, or send it a change. Every failure becomes a `HubFetchError`
 * with a message fit to show: the hub's own `{code, message}` for a 4xx/5xx, or
 * "could not reach the hub" when the request never got an answer. Answers are typed by
 * the caller with schema/api-answers.ts; they are not checked here.
 *
 * A 401 (not signed in, or the token was revoked) is also reported to `onUnauthorized` listeners,
 * so the dashboard can check its session and show the sign-in form.
 */
import type { ErrorBody } from '../../schema/api-answers.ts';

export class HubFetchError extends Error {
  constructor(
    /** The hub's error code (`bad_request`, `internal`…), or `unreachable` / `bad_answer`. */
    readonly code: string,
    message: string,
    /** HTTP status, 0 when there was no answer. */
    readonly status: number,
  ) {
    super(message);
    this.name = 'HubFetchError';
  }
}

const unauthorizedListeners = new Set<() => void>();

/** Calls `listener` whenever an API request is refused with 401; returns a remover. */
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/** An API request was refused with 401 (called by the fetch helpers). */
export function reportUnauthorized(): void {
  for (const l of [...unauthorizedListeners]) l();
}

export function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'AbortError';
}

/** Fetches `url` and parses its JSON body; throws `HubFetchError` (or an AbortError when `signal` aborts). */
export async function fetchHubJson<T>(url: string, signal: AbortSignal): Promise<T> {
  return requestHubJson<T>('GET', url, undefined, signal);
}

/**
 * A change through the API (POST, PUT, DELETE) with an optional JSON body, answered with JSON (or
 * nothing: then null). Refusals throw `HubFetchError` with the hub's message, as for reads: a
 * viewer's attempt gets the hub's 403 `forbidden` message, fit to show.
 */
export async function sendHubJson<T>(method: 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, signal?: AbortSignal): Promise<T | null> {
  return requestHubJson<T>(method, url, body, signal, true);
}

async function requestHubJson<T>(method: string, url: string, payload: unknown, signal: AbortSignal | undefined, emptyOk = false): Promise<T> {
  const aborted = (e: unknown) => isAbort(e) || signal?.aborted === true;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      signal,
      credentials: 'same-origin',
      headers: payload === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
  } catch (e) {
    if (aborted(e)) throw e;
    throw new HubFetchError('unreachable', 'Could not reach the hub', 0);
  }
  let body: unknown = null;
  try {
    body = await res.json();
  } catch (e) {
    if (aborted(e)) throw e;
  }
  if (res.ok && body === null && emptyOk) return null as T;
  if (!res.ok) {
    if (res.status === 401) reportUnauthorized();
    const b = (body ?? {}) as Partial<Record<keyof ErrorBody, unknown>>;
    const code = typeof b.code === 'string' ? b.code : `http_${res.status}`;
    const message = typeof b.message === 'string' ? b.message : `The hub answered ${res.status} ${res.statusText}`.trim();
    throw new HubFetchError(code, message, res.status);
  }
  if (body === null || typeof body !== 'object') throw new HubFetchError('bad_answer', 'The hub sent an answer that is not JSON', res.status);
  return body as T;
}

/** A message for any error a load may end with. */
export function describeError(e: unknown): HubFetchError {
  if (e instanceof HubFetchError) return e;
  return new HubFetchError('client', e instanceof Error ? e.message : String(e), 0);
}
