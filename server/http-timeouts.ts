/**
 * Timeouts of the hub's HTTP server, so that slow or silent clients (slowloris: a socket that
 * sends its headers a byte at a time, or nothing) are answered 408 and closed instead of being
 * held open forever. WebSockets are not affected: an upgraded socket leaves the HTTP server's
 * tracking.
 */
import type { Server } from 'node:http';

/** The request line and headers must be complete within this (ms). */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** The whole request (headers and body) must be received within this (ms). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** An idle keep-alive connection is closed after this (ms). */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** Longest gap between two checks of those timeouts (Node checks all connections on an interval). */
const MAX_CHECK_INTERVAL_MS = 1_000;

export interface HttpTimeouts {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = {
  headersTimeoutMs: DEFAULT_HEADERS_TIMEOUT_MS,
  requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
  keepAliveTimeoutMs: DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
};

/**
 * Set the timeouts on a server that was just created. Call it synchronously after `serve()` /
 * `listen()`, before the server's 'listening' event: Node starts its timeout checker then, with
 * the check interval set here (its default, 30 s, would let a slow socket live up to 30 s past
 * its timeout).
 */
export function applyHttpTimeouts(server: Server, t: HttpTimeouts = DEFAULT_HTTP_TIMEOUTS): void {
  const headers = Math.min(t.headersTimeoutMs, t.requestTimeoutMs);
  server.headersTimeout = headers;
  server.requestTimeout = t.requestTimeoutMs;
  server.keepAliveTimeout = t.keepAliveTimeoutMs;
  // Node's own check interval, read when the server starts listening.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.max(10, Math.min(MAX_CHECK_INTERVAL_MS, Math.floor(headers / 4)));
}
