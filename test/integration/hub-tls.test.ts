/**
 * TLS end to end with real processes: `fleetscope hub --tls-cert --tls-key` (a self-signed cert for
 * localhost/127.0.0.1 made here with openssl), an agent token from `fleetscope token create`, and
 * `fleetscope agent --hub wss://… --ca cert.pem` streaming sim-nvml samples that the history API
 * (read over https with the CA) shows. Without --ca the agent does not connect and says why; plain
 * http and ws to the TLS port fail; --tls-cert without --tls-key is a usage error.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { runFleetscope, type Proc } from '../../bench/support/processes.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';
import { eventually } from '../helpers/ws-client.ts';

const tmp = tempDir();
const keyFile = join(tmp.dir, 'key.pem');
const certFile = join(tmp.dir, 'cert.pem');
const dbFile = join(tmp.dir, 'hub.db');
let ca: Buffer;
let hub: Proc | null = null;
let port = 0;
let adminToken = '';
let agentToken = '';
const procs: Proc[] = [];

/** Resolves once `text()` matches `re` (checked on every chunk of output), rejects if the process exits first. */
function waitForOutput(p: Proc, stream: 'stdout' | 'stderr', re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const text = () => (stream === 'stdout' ? p.stdout() : p.stderr());
  return new Promise((resolve, reject) => {
    const s = p.child[stream]!;
    const done = (fn: () => void) => {
      clearTimeout(timer);
      s.off('data', check);
      p.child.off('exit', exited);
      fn();
    };
    const check = () => {
      const m = re.exec(text());
      if (m) done(() => resolve(m));
    };
    const exited = (code: number | null) => done(() => reject(new Error(`process exited (${code}) before ${re} on ${stream}:\n${p.stdout()}\n${p.stderr()}`)));
    const timer = setTimeout(() => done(() => reject(new Error(`timed out waiting for ${re} on ${stream}:\n${p.stdout()}\n${p.stderr()}`))), timeoutMs);
    // After 'data' listeners of runFleetscope ran (registered first), so text() includes the chunk.
    s.on('data', check);
    p.child.once('exit', exited);
    check();
  });
}

/** Run `fleetscope …` to completion. */
async function runToEnd(args: string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = runFleetscope(args);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** GET over https trusting `caCert` (or the default CAs when undefined). */
function httpsGet(path: string, token: string | null, caCert: Buffer | undefined): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', servername: 'localhost', port, path, method: 'GET', headers: token ? { authorization: `Bearer ${token}` } : {}, ...(caCert ? { ca: caCert } : {}), timeout: 10_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let body: any = text;
          try {
            body = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('https request timed out')));
    req.on('error', reject);
    req.end();
  });
}

async function stop(p: Proc): Promise<number | null> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
  const code = await p.exited;
  clearTimeout(timer);
  return code;
}

beforeAll(async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  ca = readFileSync(certFile);
  // Tokens are made with the CLI in the hub's database file before the hub starts.
  const agentT = await runToEnd(['token', 'create', '--role', 'agent', '--name', 'tls agent', '--db', dbFile]);
  expect(agentT.code, agentT.stderr).toBe(0);
  agentToken = agentT.stdout.trim();
  const adminT = await runToEnd(['token', 'create', '--role', 'admin', '--name', 'tls admin', '--db', dbFile]);
  expect(adminT.code, adminT.stderr).toBe(0);
  adminToken = adminT.stdout.trim();
  expect(agentToken).toMatch(/^\S{16,}$/);
  expect(adminToken).toMatch(/^\S{16,}$/);

  hub = runFleetscope(['hub', '--port', '0', '--host', '127.0.0.1', '--db', dbFile, '--tls-cert', certFile, '--tls-key', keyFile, '--log-format', 'json']);
  const m = await waitForOutput(hub, 'stdout', /fleetscope hub listening on (\S+)/, 40_000);
  const url = new URL(m[1]!);
  expect(url.protocol).toBe('https:');
  port = Number(url.port);
  expect(port).toBeGreaterThan(0);
}, 90_000);

afterAll(async () => {
  for (const p of procs) await stop(p);
  if (hub) {
    const code = await stop(hub);
    // A clean shutdown on SIGTERM.
    expect(code, hub.stderr()).toBe(0);
  }
  tmp.cleanup();
}, 30_000);

describe('hub over TLS (real processes)', () => {
  it('serves https: healthz and the API with the CA; an admin token is needed for the API', async () => {
    const health = await httpsGet('/healthz', null, ca);
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
    expect((await httpsGet('/api/v1/chips', null, ca)).status).toBe(401);
    expect((await httpsGet('/api/v1/chips', 'not-a-token', ca)).status).toBe(401);
    const chips = await httpsGet('/api/v1/chips', adminToken, ca);
    expect(chips.status).toBe(200);
    expect(Array.isArray(chips.body.chips)).toBe(true);
  });

  it('an agent with --ca and its token streams samples over wss; they are stored and served', async () => {
    const agent = runFleetscope(['agent', '--hub', `wss://127.0.0.1:${port}`, '--ca', certFile, '--token', agentToken, '--source', 'sim-nvml', '--interval', '200ms', '--spool', 'none', '--agent-id', 'tls-agent', '--hostname', 'tls-host', '--log-format', 'json']);
    procs.push(agent);
    let chips: any[] = [];
    await eventually(
      async () => {
        const res = await httpsGet('/api/v1/chips', adminToken, ca);
        chips = (res.body.chips ?? []).filter((c: any) => c.agentId === 'tls-agent');
        return chips.length === 8 && chips.every((c) => c.latest !== null);
      },
      30_000,
      `8 chips of tls-agent with samples (agent log: ${agent.stderr().slice(-2000)})`,
    );
    expect(new Set(chips.map((c) => c.host))).toEqual(new Set(['tls-host']));
    // Several ticks' samples arrive for each chip.
    await eventually(
      async () => {
        const hist = await httpsGet(`/api/v1/chips/${encodeURIComponent(chips[0].chipId)}/samples?from=0`, adminToken, ca);
        return hist.status === 200 && hist.body.samples.length >= 3;
      },
      20_000,
      '3 samples of one chip over https',
    );
    const hist = await httpsGet(`/api/v1/chips/${encodeURIComponent(chips[0].chipId)}/samples?from=0`, adminToken, ca);
    const ts = hist.body.samples.map((s: any) => s.ts);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
    expect(hist.body.samples[0].chipId).toBe(chips[0].chipId);

    const code = await stop(agent);
    expect(code, agent.stderr()).toBe(0);
    const stopped = agent.jsonLogs().find((l) => l.msg === 'agent stopped');
    expect(stopped, agent.stderr()).toBeDefined();
    expect(stopped.batchesSent).toBeGreaterThan(0);
    expect(stopped.batchesAcked).toBe(stopped.batchesSent);
    expect(stopped.samplesStored).toBe(stopped.samplesSent);
  }, 60_000);

  it('an agent without --ca does not connect and logs a certificate error', async () => {
    const agent = runFleetscope(['agent', '--hub', `wss://127.0.0.1:${port}`, '--token', agentToken, '--source', 'sim-nvml', '--interval', '200ms', '--spool', 'none', '--agent-id', 'untrusting-agent', '--hostname', 'untrusting-host', '--log-format', 'json']);
    procs.push(agent);
    await waitForOutput(agent, 'stderr', /self[- ]signed|certificate/i, 20_000);
    const chips = await httpsGet('/api/v1/chips', adminToken, ca);
    expect(chips.body.chips.filter((c: any) => c.agentId === 'untrusting-agent')).toEqual([]);
    const agents = await httpsGet('/api/v1/agents', adminToken, ca);
    expect(agents.status).toBe(200);
    expect(agents.body.agents.map((a: any) => a.agentId)).not.toContain('untrusting-agent');
    await stop(agent);
    // What it logged says why: the hub's certificate is not trusted.
    const errors = agent.jsonLogs().filter((l) => /self[- ]signed|certificate/i.test(JSON.stringify(l)));
    expect(errors.length, agent.stderr()).toBeGreaterThan(0);
  }, 40_000);

  it('an agent with --ca but a wrong token is refused (401) and says so', async () => {
    const agent = runFleetscope(['agent', '--hub', `wss://127.0.0.1:${port}`, '--ca', certFile, '--token', 'not-a-valid-token', '--source', 'sim-nvml', '--interval', '200ms', '--spool', 'none', '--agent-id', 'wrong-token-agent', '--log-format', 'json']);
    procs.push(agent);
    await waitForOutput(agent, 'stderr', /401/, 20_000);
    const chips = await httpsGet('/api/v1/chips', adminToken, ca);
    expect(chips.body.chips.filter((c: any) => c.agentId === 'wrong-token-agent')).toEqual([]);
    await stop(agent);
  }, 40_000);

  it('refuses plain http, plain ws, and https clients that do not trust the CA', async () => {
    await expect(fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(10_000) })).rejects.toThrow();
    const plainWs = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/agent`, { headers: { authorization: `Bearer ${agentToken}` }, handshakeTimeout: 10_000 });
      ws.once('open', () => {
        ws.terminate();
        resolve('open');
      });
      ws.once('error', (err) => resolve(`error: ${err.message}`));
    });
    expect(plainWs).toMatch(/^error/);
    // No --ca: Node's default trust store does not know the self-signed cert.
    await expect(httpsGet('/healthz', null, undefined)).rejects.toThrow(/self[- ]signed|certificate/i);
    // The hub is still fine.
    expect((await httpsGet('/healthz', null, ca)).status).toBe(200);
  }, 30_000);

  it('`hub --tls-cert` without --tls-key (and the reverse) is a usage error', async () => {
    const noKey = await runToEnd(['hub', '--port', '0', '--db', join(tmp.dir, 'other.db'), '--tls-cert', certFile]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/--tls-cert and --tls-key go together/);
    expect(noKey.stdout).not.toMatch(/listening/);
    const noCert = await runToEnd(['hub', '--port', '0', '--db', join(tmp.dir, 'other.db'), '--tls-key', keyFile]);
    expect(noCert.code).toBe(2);
    expect(noCert.stderr).toMatch(/--tls-cert and --tls-key go together/);
    const missing = await runToEnd(['hub', '--port', '0', '--db', join(tmp.dir, 'other.db'), '--tls-cert', join(tmp.dir, 'nope.pem'), '--tls-key', keyFile]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--tls-cert: cannot read/);
  }, 60_000);
});
