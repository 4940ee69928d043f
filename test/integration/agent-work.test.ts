/**
 * Work counters end to end on the agent's side: a real agent process (`fleetscope agent
 * --work-port 0 …`) against a fake hub in this test (a `ws` server that welcomes hellos and acks
 * batches, or withholds acks), reports POSTed to its local endpoint and sent by the Python helper
 * (python/fleetscope_work.py), job attribution from the environment and from a job file, and
 * resending from the spool after a lost connection. Every frame is checked against the protocol.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { agentMessageSchema, type BatchMessage } from '../../schema/protocol.ts';
import type { WorkReport } from '../../schema/work.ts';
import { runFleetscope, type Proc } from '../../bench/support/processes.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';
import { eventually } from '../helpers/ws-client.ts';

const PY_HELPER = fileURLToPath(new URL('../../python/fleetscope_work.py', import.meta.url));

class FakeHub {
  /** Batches by connection, in arrival order. */
  readonly conns: { ws: WebSocket; batches: BatchMessage[] }[] = [];
  readonly invalid: unknown[] = [];
  withholdAcks = false;

  private constructor(readonly wss: WebSocketServer) {
    wss.on('connection', (ws) => {
      const conn = { ws, batches: [] as BatchMessage[] };
      this.conns.push(conn);
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString());
        const check = agentMessageSchema.safeParse(frame);
        if (!check.success) this.invalid.push({ frame, issues: check.error.issues.slice(0, 3) });
        if (frame.type === 'hello') ws.send(JSON.stringify({ v: 1, type: 'welcome', hubVersion: 'fake', maxBatchSamples: 10_000, features: ['work'] }));
        else if (frame.type === 'batch') {
          conn.batches.push(frame);
          if (!this.withholdAcks) ws.send(JSON.stringify({ v: 1, type: 'ack', seq: frame.seq, stored: frame.samples.length }));
        }
      });
    });
  }

  static async start(): Promise<FakeHub> {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    return new FakeHub(wss);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  batches(): BatchMessage[] {
    return this.conns.flatMap((c) => c.batches);
  }

  /** Work reports received, in order of arrival. */
  work(filter: (r: WorkReport) => boolean = () => true): WorkReport[] {
    return this.batches().flatMap((b) => b.work ?? []).filter(filter);
  }

  async stop(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    await new Promise((r) => this.wss.close(r));
  }
}

let hub: FakeHub | null = null;
let agent: Proc | null = null;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  if (agent && agent.child.exitCode === null) {
    agent.child.kill('SIGKILL');
    await agent.exited;
  }
  agent = null;
  await hub?.stop();
  hub = null;
  for (const c of cleanups.splice(0)) c();
});

async function workUrl(p: Proc): Promise<string> {
  let url: string | undefined;
  await eventually(() => Boolean((url = p.jsonLogs().find((l) => l.msg === 'work endpoint listening')?.url)), 15_000, `the agent to log its work endpoint\n${p.stderr()}`);
  return url!;
}

async function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

describe('agent work counters', () => {
  it('forwards POSTed reports (newest counters) and the job from the environment, and the Python helper\'s growing counters', async () => {
    hub = await FakeHub.start();
    const tmp = tempDir();
    cleanups.push(() => tmp.cleanup());
    const socketPath = join(tmp.dir, 'work.sock');
    agent = runFleetscope(
      ['agent', '--hub', hub.url, '--source', 'sim-nvml', '--interval', '200ms', '--spool', 'none', '--work-port', '0', '--work-socket', socketPath, '--job-env', 'FS_TEST_UNSET,FS_TEST_JOB', '--log-format', 'json'],
      { FS_TEST_JOB: 'slurm-4242', FS_TEST_UNSET: '' },
    );
    const url = await workUrl(agent);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/work$/);

    // The job from the environment: an attribution report (no counters) in the first batches.
    await eventually(() => hub!.work((r) => r.job === 'slurm-4242').length > 0, 10_000, 'the attribution report');
    const attribution = hub.work((r) => r.job === 'slurm-4242')[0];
    expect(attribution).toMatchObject({ job: 'slurm-4242', counters: {} });
    expect(attribution.chips).toBeUndefined();

    // Reports of one series, one request: only the newest values reach the hub.
    const t = Date.now();
    const series = [1, 2, 3].map((i) => ({ ts: t + i, job: 'train-a', counters: { tokens: i * 100, steps: i }, chips: ['GPU-x'], labels: { run: 'a' } }));
    expect(await post(url, series)).toEqual({ status: 202, body: { accepted: 3 } });
    expect(await post(url, { job: 'train-b', counters: { samples: 64 } })).toEqual({ status: 202, body: { accepted: 1 } });
    expect((await post(url, { job: 'train-b', counters: { samples: -1 } })).status).toBe(400);
    await eventually(() => hub!.work((r) => r.job === 'train-a').length > 0 && hub!.work((r) => r.job === 'train-b').length > 0, 10_000, 'the POSTed reports');
    expect(hub.work((r) => r.job === 'train-a')).toEqual([{ ts: t + 3, job: 'train-a', counters: { tokens: 300, steps: 3 }, chips: ['GPU-x'], labels: { run: 'a' } }]);
    const b = hub.work((r) => r.job === 'train-b');
    expect(b).toHaveLength(1);
    expect(b[0].counters).toEqual({ samples: 64 });
    // The Unix socket: a line, an answer.
    const sock = connect(socketPath);
    let answers = '';
    sock.setEncoding('utf8');
    sock.on('data', (d) => (answers += d));
    sock.write('{"job": "sock-job", "counters": {"images": 12}}\n{"job": "sock-job"}\n');
    await eventually(() => answers.split('\n').length >= 3, 5000, 'two answers on the socket');
    expect(answers.split('\n').slice(0, 2)).toEqual(['ok', expect.stringMatching(/^error: counters: /)]);
    sock.end();
    await eventually(() => hub!.work((r) => r.job === 'sock-job').length > 0, 10_000, 'the report from the socket');
    expect(hub.work((r) => r.job === 'sock-job')[0].counters).toEqual({ images: 12 });

    // Work rides in batches with samples (every batch has ≥ 1 sample).
    for (const batch of hub.batches()) expect(batch.samples.length).toBeGreaterThan(0);

    // The Python helper, as a training loop would use it: steps for ~2 s, posted every 0.2 s.
    const py = spawn('python3', [PY_HELPER, '--job', 'py-job', '--url', url, '--unit', 'steps', '--rate', '25', '--seconds', '2', '--every', '0.2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let pyOut = '';
    let pyErr = '';
    py.stdout.on('data', (d) => (pyOut += d));
    py.stderr.on('data', (d) => (pyErr += d));
    expect(await new Promise((r) => py.once('exit', r)), pyErr).toBe(0);
    const done = JSON.parse(pyOut.trim().split('\n').at(-1)!);
    expect(done).toMatchObject({ job: 'py-job', errors: 0 });
    expect(done.counters.steps).toBeGreaterThan(20);
    await eventually(() => hub!.work((r) => r.job === 'py-job').some((r) => r.counters.steps === done.counters.steps), 10_000, 'the last Python counters');
    const steps = hub.work((r) => r.job === 'py-job').map((r) => r.counters.steps);
    expect(new Set(steps).size).toBeGreaterThanOrEqual(4);
    for (let i = 1; i < steps.length; i++) expect(steps[i]).toBeGreaterThanOrEqual(steps[i - 1]);

    const stats = await (await fetch(url)).json();
    expect(stats.pendingSeries).toBe(0);
    expect(stats.accepted).toBeGreaterThanOrEqual(4 + steps.length);
    expect(stats.refused).toBe(2);
    expect(hub.invalid).toEqual([]);

    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    const stopped = agent.jsonLogs().find((l) => l.msg === 'agent stopped');
    expect(stopped.workReportsSent).toBe(hub.work().length);
    expect(existsSync(socketPath)).toBe(false);
  });

  it('resends work from the spool when acks are withheld and the connection drops; the job file names the job', async () => {
    hub = await FakeHub.start();
    const tmp = tempDir();
    cleanups.push(() => tmp.cleanup());
    const jobFile = join(tmp.dir, 'job.env');
    writeFileSync(jobFile, 'job=file-job-9\nuser=ada\n');
    hub.withholdAcks = true;
    agent = runFleetscope(['agent', '--hub', hub.url, '--source', 'sim-nvml', '--interval', '200ms', '--spool', join(tmp.dir, 'spool'), '--work-port', '0', '--job-file', jobFile, '--log-format', 'json']);
    const url = await workUrl(agent);
    await eventually(() => hub!.work((r) => r.job === 'file-job-9').length > 0, 10_000, 'the attribution report from the job file');
    expect(hub.work((r) => r.job === 'file-job-9')[0]).toMatchObject({ counters: {}, labels: { user: 'ada' } });

    expect((await post(url, { job: 'resend-me', counters: { tokens: 777 } })).status).toBe(202);
    await eventually(() => hub!.work((r) => r.job === 'resend-me').length > 0, 10_000, 'the report on the first connection');
    const first = hub.conns[0].batches.find((b) => b.work?.some((r) => r.job === 'resend-me'))!;

    // No ack came; the hub goes away and comes back acking.
    hub.withholdAcks = false;
    hub.conns[0].ws.terminate();
    await eventually(() => hub!.conns.length >= 2 && hub!.conns[1].batches.some((b) => b.seq === first.seq), 15_000, 'the batch resent on the second connection');
    const again = hub.conns[1].batches.find((b) => b.seq === first.seq)!;
    expect(again.work).toEqual(first.work);
    expect(again.work!.find((r) => r.job === 'resend-me')!.counters).toEqual({ tokens: 777 });
    // The attribution sent before the drop is resent too (it rode in an unacknowledged batch).
    expect(hub.conns[1].batches.flatMap((x) => x.work ?? []).some((r) => r.job === 'file-job-9')).toBe(true);
    expect(hub.invalid).toEqual([]);

    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    expect(agent.jsonLogs().find((l) => l.msg === 'agent stopped').pendingBatches).toBe(0);
  });

  it('refuses a bad --work-port and explains the work options in --help', async () => {
    const bad = runFleetscope(['agent', '--hub', 'ws://127.0.0.1:1', '--source', 'sim-nvml', '--work-port', 'x']);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toMatch(/--work-port must be an integer/);
    const badEnv = runFleetscope(['agent', '--hub', 'ws://127.0.0.1:1', '--source', 'sim-nvml', '--job-env', 'NOT-A-VAR']);
    expect(await badEnv.exited).toBe(2);
    expect(badEnv.stderr()).toMatch(/--job-env/);
    const help = runFleetscope(['agent', '--help']);
    expect(await help.exited).toBe(0);
    for (const opt of ['--work-port', '--work-socket', '--job-file', '--job-env', '9465']) expect(help.stdout()).toContain(opt);
  });
});
