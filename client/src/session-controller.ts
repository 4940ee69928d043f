/**
 * SessionController: a Lit ReactiveController that knows whether the dashboard may read the hub.
 *
 * - On connect it holds the live connection paused and asks `GET /api/v1/session`: signed in (a
 *   session cookie, or an open hub) resumes it; a 401 shows the sign-in form instead.
 * - A `#token=<t>` link (wall screens) signs in with that token, then the hash is removed from
 *   the address bar (`history.replaceState`), so it is not left on screen or in the history.
 * - An API request answered 401, or a live socket that could not open (a browser does not see
 *   why), checks the session again: if the hub no longer takes it, back to the form. A hub that
 *   cannot be reached changes nothing (the connection indicator says so).
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { describeError, onUnauthorized } from './hub-fetch.ts';
import { getSession, signIn, signOut, tokenFromHash, type HubSession } from './hub-session.ts';
import { getLiveConnection, type LiveConnection } from './live-connection.ts';

export type SessionState = 'checking' | 'signed-in' | 'signed-out';

/** Shown when a session the hub took before is refused now. */
export const SESSION_ENDED = 'The hub no longer accepts this session (the token was revoked or has expired). Sign in again.';

export class SessionController implements ReactiveController {
  state: SessionState = 'checking';
  /** Who is signed in; null while checking, when signed out, or when the hub could not say. */
  session: HubSession | null = null;
  /** Why the last sign-in failed or the session ended (the hub's message), else null. */
  error: string | null = null;
  /** A sign-in or sign-out is in flight. */
  busy = false;

  private offs: (() => void)[] = [];
  private checking: Promise<void> | null = null;
  private readonly onHash = () => this.takeHashToken();

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly conn: LiveConnection = getLiveConnection(),
  ) {
    host.addController(this);
  }

  /** True when signed in with a token (not on an open hub): the one case a sign-out makes sense. */
  get canSignOut(): boolean {
    return this.state === 'signed-in' && this.session !== null && !this.session.open;
  }

  hostConnected(): void {
    this.conn.pause();
    this.offs = [onUnauthorized(() => void this.check()), this.conn.onConnectFailure(() => void this.check())];
    window.addEventListener('hashchange', this.onHash);
    if (!this.takeHashToken()) void this.check();
  }

  hostDisconnected(): void {
    for (const off of this.offs) off();
    this.offs = [];
    window.removeEventListener('hashchange', this.onHash);
  }

  /** Signs in with `token` (the form, or a `#token=` link). */
  async signIn(token: string): Promise<void> {
    this.busy = true;
    this.error = null;
    this.host.requestUpdate();
    try {
      this.signedIn(await signIn(token.trim()));
    } catch (e) {
      this.signedOut(describeError(e).message);
    } finally {
      this.busy = false;
      this.host.requestUpdate();
    }
  }

  /** Signs out (the hub clears the cookie) and shows the form. */
  async signOut(): Promise<void> {
    this.busy = true;
    this.host.requestUpdate();
    try {
      await signOut();
      this.signedOut(null);
    } catch (e) {
      console.warn(`fleetscope: sign-out failed: ${describeError(e).message}`);
    } finally {
      this.busy = false;
      this.host.requestUpdate();
    }
  }

  /** Asks the hub who is signed in (one request at a time). */
  check(): Promise<void> {
    if (this.state === 'signed-out' || this.busy) return Promise.resolve();
    this.checking ??= this.runCheck().finally(() => (this.checking = null));
    return this.checking;
  }

  private async runCheck(): Promise<void> {
    let session: HubSession | null;
    try {
      session = await getSession();
    } catch {
      // Unreachable or a server error: keep what is shown (the live connection retries, and
      // checks again when it fails). A first check shows the dashboard, as before auth.
      if (this.state === 'checking') this.signedIn(null);
      return;
    }
    if (this.busy) return; // a sign-in or sign-out decided meanwhile
    if (session) this.signedIn(session);
    else this.signedOut(this.state === 'signed-in' && this.session && !this.session.open ? SESSION_ENDED : null);
  }

  /** A `#token=` in the address: sign in with it and remove it from the address bar. */
  private takeHashToken(): boolean {
    const token = tokenFromHash(location.hash);
    if (!token) return false;
    history.replaceState(history.state, '', location.pathname + location.search);
    void this.signIn(token);
    return true;
  }

  private signedIn(session: HubSession | null): void {
    this.state = 'signed-in';
    this.session = session;
    this.error = null;
    // Only out of a pause: a check made because a socket failed must not cut the backoff short
    // (the socket may be refused for another reason, e.g. its Origin).
    if (this.conn.isPaused) this.conn.resume();
    this.host.requestUpdate();
  }

  private signedOut(error: string | null): void {
    this.state = 'signed-out';
    this.session = null;
    this.error = error;
    this.conn.pause();
    this.host.requestUpdate();
  }
}
