import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { runFleetscope } from '../../bench/support/processes.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';
import { eventually } from '../helpers/ws-client.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('agent over wss:// with a private CA', () => {
  it('connects with --ca and sends its token; refuses the same server without the CA', async () => {
    const key = join(tmp.dir, 'key.pem');
    const cert = join(tmp.dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
    const server = createServer({ key: readFileSync(key), cert: readFileSync(cert) });
    const wss = new WebSocketServer({ server });
    const seen: { auth?: string; types: string[] } = { types: [] };
    wss.on('connection', (ws, req) => {
      seen.auth = req.headers.authorization;
      ws.on('message', (d) => {
        const f = JSON.parse(d.toString());
        seen.types.push(f.type);
        if (f.type === 'hello') ws.send(JSON.stringify({ v: 1, type: 'welcome', hubVersion: 'tls-test', maxBatchSamples: 10000 }));
        if (f.type === 'batch') ws.send(JSON.stringify({ v: 1, type: 'ack', seq: f.seq, stored: f.samples.length }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const args = ['agent', '--hub', `wss://localhost:${port}`, '--source', 'sim-nvml', '--interval', '200ms', '--spool', 'none', '--log-format', 'json', '--log-level', 'debug'];

    const untrusted = runFleetscope(args);
    await eventually(() => /self-signed|certificate/i.test(untrusted.stderr()), 10_000, 'a certificate error');
    untrusted.child.kill('SIGTERM');
    await untrusted.exited;
    expect(seen.types).toEqual([]);

    const agent = runFleetscope([...args, '--ca', cert], { FLEETSCOPE_TOKEN: 'secret-token' });
    await eventually(() => seen.types.filter((t) => t === 'batch').length >= 2, 10_000, 'batches over TLS');
    agent.child.kill('SIGTERM');
    await agent.exited;
    expect(seen.auth).toBe('Bearer secret-token');
    expect(seen.types[0]).toBe('hello');
    wss.close();
    server.close();
  });
});
