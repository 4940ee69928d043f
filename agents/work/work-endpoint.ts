/**
 * The agent's local work endpoint: a training job on this host reports its work counters here
 * (`POST http://127.0.0.1:PORT/v1/work`, or lines on a Unix socket), and the agent takes them into
 * its next batch (`drain()`, once per tick). Reports are coalesced per series (pending-work.ts),
 * so memory is bounded by the number of series whatever the request rate.
 *
 * It must never delay sampling: every request costs one JSON.parse and one hand-written check (schema/work-check.ts) of at most
 * 64 KiB, nothing touches the disk, slow or oversized requests are cut off, and connections are
 * capped.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { connect, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { lstat, unlink } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../common/logger.ts';
import type { WorkReport } from '../../schema/work.ts';
import { MAX_PENDING_SERIES, PendingWork } from './pending-work.ts';
import { MAX_WORK_BODY_BYTES, parseWorkInput } from './work-input.ts';

export const WORK_PATH = '/v1/work';
/** The port the Python helper (python/fleetscope_work.py) posts to unless told otherwise. */
export const DEFAULT_WORK_PORT = 9465;

export interface WorkEndpointOptions {
  /** HTTP port on 127.0.0.1 (0: any free port); absent: no HTTP. */
  port?: number;
  /** Unix socket path for newline-delimited reports; absent: none. */
  socketPath?: string;
  log: Logger;
  /** Most pending series (default 1,000). */
  maxSeries?: number;
  /** Time to receive a request's headers (default 5 s). */
  headersTimeoutMs?: number;
  /** Time to receive a request's body once its headers are in (default 10 s). */
  bodyTimeoutMs?: number;
  /** Most open connections per listener (default 64); more are destroyed. */
  maxConnections?: number;
}

export interface WorkEndpointStats {
  /** Series waiting for the next batch. */
  pendingSeries: number;
  /** Reports accepted since the start. */
  accepted: number;
  /** Requests (HTTP) and lines (socket) refused: invalid, too large, busy … */
  refused: number;
}

const JSONISH = /^\s*(application\/(json|[\w.+-]*\+json|x-ndjson)|text\/json)\s*(;|$)/i;
const BUSY_LOG_EVERY_MS = 60_000;
/** How long a connection refused mid-request stays half-open so that the client reads the answer. */
const LINGER_MS = 1000;

export class WorkEndpoint {
  private readonly pending: PendingWork;
  private http: HttpServer | null = null;
  private unix: NetServer | null = null;
  private readonly unixSockets = new Set<Socket>();
  private acceptedCount = 0;
  private refusedCount = 0;
  private lastBusyLog = 0;
  private stopped = false;

  constructor(private readonly opts: WorkEndpointOptions) {
    this.pending = new PendingWork(opts.maxSeries ?? MAX_PENDING_SERIES);
  }

  /** The HTTP port listened on, once started (null: no HTTP). */
  get port(): number | null {
    return this.http ? (this.http.address() as AddressInfo).port : null;
  }

  get url(): string | null {
    return this.port === null ? null : `http://127.0.0.1:${this.port}${WORK_PATH}`;
  }

  stats(): WorkEndpointStats {
    return { pendingSeries: this.pending.size, accepted: this.acceptedCount, refused: this.refusedCount };
  }

  /** Take the pending reports (at most `maxReports`, about `maxBytes`); the rest wait for the next call. */
  drain(maxReports?: number, maxBytes?: number): WorkReport[] {
    return this.pending.drain(maxReports, maxBytes);
  }

  async start(): Promise<void> {
    try {
      if (this.opts.port !== undefined) await this.startHttp(this.opts.port);
      if (this.opts.socketPath !== undefined) await this.startUnix(this.opts.socketPath);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const closing: Promise<void>[] = [];
    if (this.http) {
      const http = this.http;
      closing.push(new Promise((resolve) => http.close(() => resolve())));
      http.closeAllConnections();
    }
    if (this.unix) {
      const unix = this.unix;
      closing.push(new Promise((resolve) => unix.close(() => resolve())));
      for (const s of this.unixSockets) s.destroy();
    }
    await Promise.all(closing);
    if (this.unix && this.opts.socketPath) await unlink(this.opts.socketPath).catch(() => undefined);
  }

  // ---------- HTTP ----------

  private async startHttp(port: number): Promise<void> {
    const headersTimeout = this.opts.headersTimeoutMs ?? 5000;
    const bodyTimeout = this.opts.bodyTimeoutMs ?? 10_000;
    const server = createHttpServer(
      // Node checks these timeouts every connectionsCheckingInterval; the body has its own timer too.
      { headersTimeout, requestTimeout: headersTimeout + bodyTimeout, connectionsCheckingInterval: Math.min(1000, headersTimeout) },
      (req, res) => this.onRequest(req, res, bodyTimeout),
    );
    server.maxConnections = this.opts.maxConnections ?? 64;
    server.keepAliveTimeout = 5000;
    server.on('clientError', (_err, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: Error) => {
      throw new Error(`--work-port ${port}: cannot listen on 127.0.0.1:${port}: ${err.message}`);
    });
    server.on('error', (err) => this.opts.log.warn('work endpoint error', { err: err.message }));
    this.http = server;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse, bodyTimeout: number): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== WORK_PATH) return this.refuse(res, 404, `not found: use ${WORK_PATH}`);
    if (req.method === 'GET' || req.method === 'HEAD') return answer(res, 200, this.stats());
    if (req.method !== 'POST') return this.refuse(res, 405, 'use POST (report) or GET (stats)', { allow: 'GET, HEAD, POST' });
    const type = req.headers['content-type'];
    if (type !== undefined && !JSONISH.test(type)) return this.refuse(res, 415, `content-type must be application/json, got ${JSON.stringify(type.slice(0, 100))}`);
    const declared = Number(req.headers['content-length']);
    if (declared > MAX_WORK_BODY_BYTES) return this.refuse(res, 413, `body over ${MAX_WORK_BODY_BYTES} bytes`);

    const chunks: Buffer[] = [];
    let length = 0;
    let done = false;
    const finish = () => {
      done = true;
      clearTimeout(timer);
      req.removeAllListeners('data');
      req.removeAllListeners('end');
    };
    const timer = setTimeout(() => {
      if (done) return;
      finish();
      this.refuse(res, 408, `body not received within ${bodyTimeout} ms`);
    }, bodyTimeout);
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      length += chunk.length;
      if (length > MAX_WORK_BODY_BYTES) {
        // Stop here: what was read is dropped, the rest is never buffered, the connection closes.
        finish();
        chunks.length = 0;
        req.pause();
        return this.refuse(res, 413, `body over ${MAX_WORK_BODY_BYTES} bytes`);
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      finish();
      const parsed = parseWorkInput(Buffer.concat(chunks, length).toString('utf8'), Date.now());
      if (!parsed.ok) return this.refuse(res, 400, parsed.error, {}, true);
      const accepted = this.accept(parsed.reports);
      if (accepted < parsed.reports.length) {
        return this.refuse(res, 429, `busy: ${this.pending.size} series wait for the next batch; try again shortly`, { 'retry-after': '1' }, true, { accepted });
      }
      answer(res, 202, { accepted });
    });
    req.on('error', () => {
      finish();
      req.socket.destroy();
    });
  }

  /** Answer an error; the connection closes unless the whole request was read (`keepAlive`). */
  private refuse(res: ServerResponse, status: number, error: string, headers: Record<string, string> = {}, keepAlive = false, extra: Record<string, unknown> = {}): void {
    this.refusedCount++;
    if (res.headersSent || res.destroyed) return;
    if (!keepAlive && res.socket) lingeringClose(res.socket);
    answer(res, status, { error, ...extra }, keepAlive ? headers : { ...headers, connection: 'close' });
  }

  // ---------- Unix socket ----------

  private async startUnix(path: string): Promise<void> {
    await removeStaleSocket(path);
    // Half-open: a client may send its last line and close its side, and still get the answer.
    const server = createNetServer({ allowHalfOpen: true }, (sock) => this.onUnixConnection(sock));
    server.maxConnections = this.opts.maxConnections ?? 64;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: Error) => {
      throw new Error(`--work-socket ${path}: cannot listen: ${err.message}`);
    });
    server.on('error', (err) => this.opts.log.warn('work socket error', { err: err.message }));
    this.unix = server;
  }

  private onUnixConnection(sock: Socket): void {
    this.unixSockets.add(sock);
    sock.on('close', () => this.unixSockets.delete(sock));
    sock.on('error', () => sock.destroy());
    let parts: Buffer[] = [];
    let partLength = 0;
    const reply = (text: string) => {
      // A client that writes and never reads: stop reading it until our answers drain.
      if (!sock.write(text + '\n') && !sock.isPaused()) {
        sock.pause();
        sock.once('drain', () => sock.resume());
      }
    };
    sock.on('end', () => {
      // A last line without its newline still counts.
      const line = parts.length ? Buffer.concat(parts).toString('utf8').trim() : '';
      parts = [];
      partLength = 0;
      if (line && !sock.destroyed) reply(this.onLine(line));
      sock.end();
    });
    sock.on('data', (chunk: Buffer) => {
      let rest = chunk;
      for (;;) {
        const nl = rest.indexOf(10);
        const piece = nl < 0 ? rest : rest.subarray(0, nl);
        if (partLength + piece.length > MAX_WORK_BODY_BYTES) {
          this.refusedCount++;
          parts = [];
          sock.removeAllListeners('data');
          sock.removeAllListeners('end');
          sock.pause();
          sock.end(`error: line over ${MAX_WORK_BODY_BYTES} bytes\n`);
          setTimeout(() => sock.destroy(), 1000).unref();
          return;
        }
        if (nl < 0) {
          if (piece.length > 0) {
            parts.push(piece);
            partLength += piece.length;
          }
          return;
        }
        const line = (parts.length ? Buffer.concat([...parts, piece]) : piece).toString('utf8').trim();
        parts = [];
        partLength = 0;
        rest = rest.subarray(nl + 1);
        if (line) reply(this.onLine(line));
      }
    });
  }

  private onLine(line: string): string {
    const parsed = parseWorkInput(line, Date.now());
    if (!parsed.ok) {
      this.refusedCount++;
      return `error: ${parsed.error.replace(/\s+/g, ' ')}`;
    }
    if (this.accept(parsed.reports) < parsed.reports.length) {
      this.refusedCount++;
      return 'error: busy';
    }
    return 'ok';
  }

  /** Keep reports in order until the pending set is full; returns how many were kept. */
  private accept(reports: WorkReport[]): number {
    let n = 0;
    for (const r of reports) {
      if (!this.pending.add(r)) break;
      n++;
    }
    this.acceptedCount += n;
    if (n < reports.length) {
      const now = Date.now();
      if (now - this.lastBusyLog >= BUSY_LOG_EVERY_MS) {
        this.lastBusyLog = now;
        this.opts.log.warn('work endpoint busy: too many series wait for the next batch; refusing new ones', { pendingSeries: this.pending.size });
      }
    }
    return n;
  }
}

/**
 * Close a connection whose request was not read to its end without losing the answer: Node would
 * destroy the socket as soon as the answer is written, and the client, still sending, would get a
 * reset that discards the answer. Instead: send it, half-close, stop reading (the rest of the body
 * waits in the kernel, never in this process), and destroy the socket a moment later.
 */
function lingeringClose(socket: Socket): void {
  socket.destroySoon = () => {
    socket.pause();
    socket.end();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
}

function answer(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/** A socket file left by an agent that died is removed; a live one, or any other file, is an error. */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!isSocket) throw new Error(`--work-socket ${path}: exists and is not a socket; not removing it`);
  const live = await new Promise<boolean>((resolve) => {
    const c = connect(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (live) throw new Error(`--work-socket ${path}: another process listens on it`);
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}
