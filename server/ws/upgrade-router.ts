/**
 * Routes HTTP upgrades to the ws servers (noServer mode): /ws/agent and /ws/live. Before any
 * WebSocket exists it bounds the connections (in total and per client address), checks the token
 * (an agent token for /ws/agent, a viewer token for /ws/live) and, for /ws/live, the browser's
 * Origin; a refused upgrade gets its HTTP status and a JSON `{code, message}` body.
 * Anything else is answered 404 and the socket closed.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_AGENT_FRAME_BYTES } from '../../schema/protocol.ts';
import { authorize, originAllowed, presentedToken, type AuthPolicy } from '../auth/auth-policy.ts';
import type { Principal } from '../auth/tokens.ts';

const MAX_LIVE_FRAME_BYTES = 16 * 1024;
const PING_INTERVAL_MS = 15_000;
/** How often open sockets' tokens are checked: a revoked token's sockets are closed within this. */
const REVOCATION_CHECK_MS = 5_000;

/** Default bounds on open WebSockets (both endpoints together). */
export const DEFAULT_MAX_CONNECTIONS = 50_000;
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 1_024;

export interface UpgradeHandlers {
  agent(ws: WebSocket, req: IncomingMessage, principal: Principal): void;
  live(ws: WebSocket, req: IncomingMessage, principal: Principal): void;
}

export interface UpgradeOptions {
  policy: AuthPolicy;
  /** The hub serves https/wss (its own origin is https://host). */
  secure: boolean;
  maxConnections?: number;
  maxConnectionsPerIp?: number;
  /** How often open sockets' tokens are checked for revocation (default 5 s). */
  revocationCheckMs?: number;
}

const REASONS: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 503: 'Service Unavailable' };

/** Answer an upgrade request with an HTTP error and close the socket. */
function refuse(socket: Duplex, status: number, code: string, message: string, extra = ''): void {
  const body = JSON.stringify({ code, message, requestId: null });
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`,
  );
}

export function attachWebSockets(server: Server, handlers: UpgradeHandlers, opts: UpgradeOptions): { close(): void } {
  const agentWss = new WebSocketServer({ noServer: true, maxPayload: MAX_AGENT_FRAME_BYTES, perMessageDeflate: false });
  const liveWss = new WebSocketServer({ noServer: true, maxPayload: MAX_LIVE_FRAME_BYTES, perMessageDeflate: false });
  const maxTotal = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const maxPerIp = opts.maxConnectionsPerIp ?? DEFAULT_MAX_CONNECTIONS_PER_IP;
  const perIp = new Map<string, number>();
  /** The token each open socket was let in with (none on an open hub). */
  const tokenOf = new Map<WebSocket, string>();
  let total = 0;

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://hub');
    const kind = url.pathname === '/ws/agent' ? 'agent' : url.pathname === '/ws/live' ? 'live' : null;
    if (!kind) return refuse(socket, 404, 'not_found', `no WebSocket endpoint at ${url.pathname}; use /ws/agent or /ws/live`);
    const ip = req.socket.remoteAddress ?? 'unknown';
    if (total >= maxTotal) return refuse(socket, 503, 'too_many_connections', `the hub holds its maximum of ${maxTotal} WebSocket connections; retry later`, 'Retry-After: 10\r\n');
    if ((perIp.get(ip) ?? 0) >= maxPerIp) return refuse(socket, 429, 'too_many_connections', `${ip} holds the maximum of ${maxPerIp} WebSocket connections per address`, 'Retry-After: 10\r\n');
    const auth = authorize(opts.policy, presentedToken((h) => req.headers[h] as string | undefined, url), kind === 'agent' ? 'ingest' : 'read');
    if (!auth.ok) return refuse(socket, auth.status, auth.code, auth.message);
    if (kind === 'live' && !originAllowed(req.headers.origin, req.headers.host, opts.secure, opts.policy.allowedOrigins)) {
      return refuse(socket, 403, 'forbidden', `Origin ${req.headers.origin} may not open /ws/live; start the hub with --allowed-origin ${req.headers.origin} to allow it`);
    }
    const wss = kind === 'agent' ? agentWss : liveWss;
    total++;
    perIp.set(ip, (perIp.get(ip) ?? 0) + 1);
    let counted = true;
    const release = () => {
      if (!counted) return;
      counted = false;
      total--;
      const n = (perIp.get(ip) ?? 1) - 1;
      if (n > 0) perIp.set(ip, n);
      else perIp.delete(ip);
    };
    socket.once('close', release);
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.once('close', release);
      track(ws);
      const tokenId = auth.principal.tokenId;
      if (tokenId !== null) {
        tokenOf.set(ws, tokenId);
        ws.once('close', () => tokenOf.delete(ws));
      }
      if (kind === 'agent') handlers.agent(ws, req, auth.principal);
      else handlers.live(ws, req, auth.principal);
    });
  };
  server.on('upgrade', onUpgrade);

  // Ping every socket; one that did not answer the previous ping is terminated.
  const alive = new WeakMap<WebSocket, boolean>();
  const track = (ws: WebSocket) => {
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
  };
  const timer = setInterval(() => {
    for (const wss of [agentWss, liveWss]) {
      for (const ws of wss.clients) {
        if (alive.get(ws) === false) {
          ws.terminate();
          continue;
        }
        alive.set(ws, false);
        ws.ping();
      }
    }
  }, PING_INTERVAL_MS);
  timer.unref();
  const revocations = setInterval(() => {
    const tokens = opts.policy.tokens;
    if (!tokens || tokenOf.size === 0) return;
    const revoked = new Map<string, boolean>();
    for (const [ws, id] of tokenOf) {
      if (!revoked.has(id)) revoked.set(id, tokens.isRevoked(id));
      if (revoked.get(id)) {
        tokenOf.delete(ws);
        ws.close(1008, 'token revoked');
      }
    }
  }, opts.revocationCheckMs ?? REVOCATION_CHECK_MS);
  revocations.unref();

  return {
    close() {
      clearInterval(timer);
      clearInterval(revocations);
      server.off('upgrade', onUpgrade);
      for (const wss of [agentWss, liveWss]) {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
      }
    },
  };
}
