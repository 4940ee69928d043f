/**
 * Capture hub for device runs: a stand-in for the real hub's /ws/agent endpoint with no store.
 * Frames are validated with the real protocol parser and answered as server/ws/agent-endpoint.ts
 * does (welcome to hello, ack {seq, stored} per batch in order, error frames with the same codes);
 * every received frame is appended as one JSON line to the capture file.
 *
 *   node capture-hub.mjs CAPTURE.jsonl [PORT]     (prints `capture-hub listening on port N`)
 *
 * Capture lines: {at, event:'listening'|'connect'|'close'|'stop', ...}, {at, frame} for accepted
 * frames (hello, inventory, batch), {at, rejected:{code,message}, raw} for invalid ones.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { parseAgentFrame } from '../../schema/parse-frame.ts';
import { MAX_AGENT_FRAME_BYTES, MAX_BATCH_SAMPLES, type HubToAgentMessage } from '../../schema/protocol.ts';
import type { ErrorCode } from '../../schema/error-codes.ts';
import { HUB_VERSION } from '../../server/ws/agent-endpoint.ts';

const [file, portArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: capture-hub CAPTURE.jsonl [PORT]\n');
  process.exit(2);
}
const fd = openSync(file, 'a');
const record = (obj: Record<string, unknown>) => writeSync(fd, JSON.stringify({ at: Date.now(), ...obj }) + '\n');

/** Samples already "stored", per chip: a resent sample is acked with stored 0 like the real hub's dedupe. */
const stored = new Map<string, Set<number>>();
let connections = 0;

function handle(ws: WebSocket, remote: string): void {
  const conn = ++connections;
  let chips: Set<string> | null = null;
  let errors = 0;
  const send = (msg: HubToAgentMessage) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
  };
  const reject = (code: ErrorCode, message: string, raw: string, seq?: number) => {
    record({ conn, rejected: { code, message, seq }, raw: raw.slice(0, 2000) });
    send({ v: 1, type: 'error', code, message, ...(seq !== undefined ? { seq } : {}) });
    if (++errors >= 50) ws.close(1008, 'too many invalid frames');
  };
  record({ event: 'connect', conn, remote });
  ws.on('message', (data: RawData, isBinary: boolean) => {
    const raw = data.toString();
    if (isBinary) return reject('bad_frame', 'binary frames are not accepted; send JSON text', '<binary>');
    const res = parseAgentFrame(raw, Date.now());
    if (!res.ok) return reject(res.code, res.message, raw);
    const msg = res.msg;
    if (msg.type === 'hello') {
      if (chips) return reject('duplicate_hello', 'hello was already sent on this connection', raw);
      chips = new Set(msg.chips.map((c) => c.chipId));
      record({ conn, frame: msg });
      return send({ v: 1, type: 'welcome', hubVersion: HUB_VERSION, maxBatchSamples: MAX_BATCH_SAMPLES });
    }
    if (!chips) return reject('no_hello', 'send hello first', raw, msg.type === 'batch' ? msg.seq : undefined);
    if (msg.type === 'inventory') {
      for (const c of msg.chips) chips.add(c.chipId);
      record({ conn, frame: msg });
      return;
    }
    const known = chips;
    const foreign = msg.samples.find((s) => !known.has(s.chipId));
    if (foreign) return reject('unknown_chip', `chip ${foreign.chipId} was not announced in this agent's hello or inventory`, raw, msg.seq);
    record({ conn, frame: msg });
    let n = 0;
    for (const s of msg.samples) {
      let seen = stored.get(s.chipId);
      if (!seen) stored.set(s.chipId, (seen = new Set()));
      if (!seen.has(s.ts)) (seen.add(s.ts), n++);
    }
    send({ v: 1, type: 'ack', seq: msg.seq, stored: n });
  });
  ws.on('close', (code, reason) => record({ event: 'close', conn, code, reason: reason.toString() }));
  ws.on('error', (err) => record({ event: 'error', conn, message: err.message }));
}

const server = createServer((_req, res) => {
  res.writeHead(404).end('capture hub: only /ws/agent\n');
});
const wss = new WebSocketServer({ server, path: '/ws/agent', maxPayload: MAX_AGENT_FRAME_BYTES, perMessageDeflate: false });
wss.on('connection', (ws, req) => handle(ws, `${req.socket.remoteAddress}:${req.socket.remotePort}`));
server.listen(Number(portArg ?? 0), '127.0.0.1', () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  record({ event: 'listening', port, pid: process.pid });
  process.stdout.write(`capture-hub listening on port ${port}\n`);
});

const stop = (signal: string) => {
  record({ event: 'stop', signal });
  for (const ws of wss.clients) ws.terminate();
  server.close();
  closeSync(fd);
  process.exit(0);
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
