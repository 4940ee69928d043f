/**
 * Routes HTTP upgrades to the ws servers (noServer mode): /ws/agent and /ws/live.
 * Anything else is answered 404 and the socket closed.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_AGENT_FRAME_BYTES } from '../../schema/protocol.ts';

const MAX_LIVE_FRAME_BYTES = 16 * 1024;
const PING_INTERVAL_MS = 15_000;

export interface UpgradeHandlers {
  agent(ws: WebSocket, req: IncomingMessage): void;
  live(ws: WebSocket, req: IncomingMessage): void;
}

export function attachWebSockets(server: Server, handlers: UpgradeHandlers): { close(): void } {
  const agentWss = new WebSocketServer({ noServer: true, maxPayload: MAX_AGENT_FRAME_BYTES, perMessageDeflate: false });
  const liveWss = new WebSocketServer({ noServer: true, maxPayload: MAX_LIVE_FRAME_BYTES, perMessageDeflate: false });
  agentWss.on('connection', handlers.agent);
  liveWss.on('connection', handlers.live);

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://hub').pathname;
    const wss = path === '/ws/agent' ? agentWss : path === '/ws/live' ? liveWss : null;
    if (!wss) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  server.on('upgrade', onUpgrade);

  // Ping every socket; one that did not answer the previous ping is terminated.
  const alive = new WeakMap<WebSocket, boolean>();
  const track = (ws: WebSocket) => {
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
  };
  agentWss.on('connection', track);
  liveWss.on('connection', track);
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

  return {
    close() {
      clearInterval(timer);
      server.off('upgrade', onUpgrade);
      for (const wss of [agentWss, liveWss]) {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
      }
    },
  };
}
