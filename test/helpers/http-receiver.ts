/**
 * A real HTTP server on a free loopback port that records every request it gets (webhooks, Slack,
 * an Alertmanager stand-in) and answers as the test says: a status, headers, after a delay, or
 * never (until the client gives up).
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  /** 1-based, in arrival order. */
  n: number;
  at: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The Idempotency-Key header ('' when none). */
  key: string;
  /** What it was answered (null: not answered, or the client went away first). */
  status: number | null;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Answer after this long (ms). */
  delayMs?: number;
  /** Never answer (the client must time out). */
  hang?: boolean;
}

export type Responder = (req: ReceivedRequest) => Answer;

export interface HttpReceiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Requests that were answered 2xx. */
  delivered(): ReceivedRequest[];
  respond(fn: Responder): void;
  /** Resolves once `pred` holds (checked at each request and every 20 ms); rejects after `timeoutMs`. */
  waitFor(pred: (reqs: ReceivedRequest[]) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

export async function startHttpReceiver(responder: Responder = () => ({ status: 200 }), port = 0): Promise<HttpReceiver> {
  let respond = responder;
  const requests: ReceivedRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: ReceivedRequest = {
        n: requests.length + 1,
        at: Date.now(),
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        key: String(req.headers['idempotency-key'] ?? ''),
        status: null,
      };
      requests.push(r);
      let answer: Answer;
      try {
        answer = respond(r);
      } catch {
        answer = { status: 500 };
      }
      if (answer.hang) {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      const send = () => {
        if (res.destroyed || req.socket.destroyed) return;
        r.status = answer.status;
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        res.end(answer.body ?? '');
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    requests,
    delivered: () => requests.filter((r) => r.status !== null && r.status >= 200 && r.status < 300),
    respond(fn) {
      respond = fn;
    },
    async waitFor(pred, timeoutMs = 10_000, what = 'the expected requests') {
      const until = Date.now() + timeoutMs;
      while (!pred(requests)) {
        if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${requests.length} requests: ${JSON.stringify(requests.map((r) => [r.n, r.path, r.key.slice(0, 8), r.status]))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
