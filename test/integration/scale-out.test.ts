/**
 * The scale-out setup (docs/scale-out.md) with the real servers: hubs on one PostgreSQL schema
 * (FLEETSCOPE_TEST_PG_URL, a fresh schema per test, dropped afterwards) sharing live data through
 * one NATS (FLEETSCOPE_TEST_NATS_URL, a subject root of this run's own), real agent processes with
 * simulated sources:
 * - agents on hub A, a /ws/live chip viewer on hub B: B's viewer gets their samples within 100 ms
 *   (p99, from A's publish right after its commit);
 * - hub A (a process) SIGKILLed under load while an alert fires for every chip: the agents move to
 *   hub B by themselves (`--hub A --hub B`); the database then holds every sample they produced
 *   exactly once, and the webhook got exactly one `firing` per alert (B takes the states over);
 * - the PostgreSQL connection of a hub process dropped for ~3 s (a TCP proxy in between) during
 *   ingest: /readyz says the database is not ready, the hub neither crashes nor hangs, ingest
 *   resumes within 10 s of PostgreSQL's return, and no acknowledged sample is lost.
 * (NATS dropped: test/integration/live-bus.test.ts.)
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterEach, describe, expect, it } from 'vitest';
import { runFleetscope, type Proc } from '../../bench/support/processes.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';
import { decodeBusMessage } from '../../server/bus/bus-messages.ts';
import { decodeChunk } from '../../server/store/chunk-codec.ts';
import type { Sample } from '../../schema/sample.ts';
import { batch, chipInfo, hello, sample } from '../helpers/frames.ts';
import { startHttpReceiver } from '../helpers/http-receiver.ts';
import { startHubProcess, type HubProcess } from '../helpers/hub-process.ts';
import { freshPgSchema, startPgHub, type PgSchema } from '../helpers/pg-hub.ts';
import { PG_URL } from '../helpers/store-contract.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import { eventually, TestSocket } from '../helpers/ws-client.ts';

const NATS_URL = process.env.FLEETSCOPE_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const ROOT = `fleetscope_test_${randomBytes(4).toString('hex')}`;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;

async function schema(): Promise<PgSchema> {
  const pg = await freshPgSchema();
  cleanups.push(() => pg.drop());
  return pg;
}

async function hubProcess(args: string[]): Promise<HubProcess> {
  const h = await startHubProcess(args);
  cleanups.push(() => h.kill());
  return h;
}

/** A real agent process (sim-nvml, 8 H100) sending every 200 ms to `hubs`, its spool in `spool`. */
function agent(name: string, hubs: string[], spool: string): Proc {
  const args = ['agent', ...hubs.flatMap((h) => ['--hub', h]), '--source', 'sim-nvml', '--interval', '200ms', '--seed', name.length.toString(), '--hostname', `${name}.${ROOT}`, '--agent-id', `${name}-${ROOT}`, '--spool', spool, '--log-format', 'json'];
  const p = runFleetscope(args);
  cleanups.push(async () => {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await p.exited;
  });
  return p;
}

/** SIGTERM the agent; resolves with its `agent stopped` log line (what it produced and what is still unacknowledged). */
async function stopAgent(p: Proc): Promise<{ samplesSent: number; pendingBatches: number; droppedBatches: number; droppedSamples: number }> {
  p.child.kill('SIGTERM');
  expect(await p.exited, p.stderr()).toBe(0);
  const stopped = p.jsonLogs().find((l) => l.msg === 'agent stopped');
  expect(stopped, p.stderr()).toBeDefined();
  return stopped;
}

/** Every stored sample's ts per chip, read from the schema's chunks and log (duplicates kept, to be counted). */
async function storedTimestamps(pg: PgSchema): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  const add = (chip: string, ts: number[]) => out.set(chip, [...(out.get(chip) ?? []), ...ts]);
  for (const c of await pg.query(`SELECT chip_id, n, data FROM ${pg.schema}.sample_chunks ORDER BY chip_id, start_ts`)) {
    const samples = decodeChunk(c.data, c.chip_id);
    expect(samples.length).toBe(c.n);
    add(c.chip_id, samples.map((s) => s.ts));
  }
  for (const r of await pg.query(`SELECT chip_id, ts::float8 AS ts FROM ${pg.schema}.sample_log`)) add(r.chip_id, [r.ts]);
  return out;
}

/** The schema's chips by agent id. */
async function chipsByAgent(pg: PgSchema): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const r of await pg.query(`SELECT id, agent_id FROM ${pg.schema}.chips ORDER BY id`)) out.set(r.agent_id, [...(out.get(r.agent_id) ?? []), r.id]);
  return out;
}

/** Each agent's chips hold exactly the samples it produced, each once. */
async function expectEverySampleOnce(pg: PgSchema, produced: Map<string, number>): Promise<void> {
  const stored = await storedTimestamps(pg);
  const byAgent = await chipsByAgent(pg);
  for (const [agentId, samples] of produced) {
    const chips = byAgent.get(agentId) ?? [];
    expect(chips.length, agentId).toBe(8);
    for (const chip of chips) {
      const ts = stored.get(chip) ?? [];
      expect(new Set(ts).size, `${chip}: no duplicates`).toBe(ts.length);
      expect(ts.length, `${chip}: every sample of ${agentId}`).toBe(samples / 8);
    }
  }
}

describe('scale-out: hubs on one PostgreSQL and one NATS', () => {
  it("agents on hub A: hub B's chip viewer gets their samples within 100 ms (p99, from A's commit)", async () => {
    const pg = await schema();
    const bus = (hubId: string) => ({ url: NATS_URL, subjectRoot: ROOT, hubId, reconnectTimeWaitMs: 200 });
    const a = await startPgHub(pg.url, { auth: { open: true }, bus: bus(`hub-a-${ROOT}`) });
    cleanups.push(() => a.close());
    const b = await startPgHub(pg.url, { auth: { open: true }, bus: bus(`hub-b-${ROOT}`) });
    cleanups.push(() => b.close());
    await eventually(() => a.bus!.bus.state().connected && b.bus!.bus.state().connected, 10_000, 'both hubs on the bus');
    // A's publish time (`at`, right after its commit) of every sample, seen on NATS itself.
    const nc: NatsConnection = await connect({ servers: NATS_URL });
    cleanups.push(() => nc.close());
    const publishedAt = new Map<string, number>();
    nc.subscribe(`${ROOT}.samples.>`, {
      callback: (_err, m) => {
        const msg = decodeBusMessage(m.data);
        if (msg.t === 'samples') for (const s of msg.samples) publishedAt.set(`${s.chipId}@${s.ts}`, msg.at);
      },
    });
    await nc.flush();
    const tmp = tempDir();
    cleanups.push(() => tmp.cleanup());
    agent('live-1', [`ws://127.0.0.1:${a.port}`], join(tmp.dir, 'spool-1'));
    agent('live-22', [`ws://127.0.0.1:${a.port}`], join(tmp.dir, 'spool-2'));

    const chipsOnB = async () => ((await (await fetch(`http://127.0.0.1:${b.port}/api/v1/chips`)).json()).chips as any[]).filter((c) => c.status === 'live');
    await eventually(async () => (await chipsOnB()).length === 16, 30_000, "hub B to list the agents' 16 chips live");
    const chipId = (await chipsOnB()).find((c) => c.host === `live-22.${ROOT}`)!.chipId as string;

    const watch = await TestSocket.open(`ws://127.0.0.1:${b.port}/ws/live`);
    cleanups.push(() => watch.close());
    watch.send({ v: 1, type: 'subscribe', sub: { topic: 'chip', chipId } });
    await watch.waitFor((f) => f.type === 'chip-history', 10_000);
    const arrivals = new Map<number, number>();
    watch.ws.on('message', (d) => {
      const now = Date.now();
      const f = JSON.parse(d.toString());
      if (f.type === 'samples') for (const s of f.samples) if (s.chipId === chipId && !arrivals.has(s.ts)) arrivals.set(s.ts, now);
    });
    // 250 samples (50 s at 200 ms): with fewer, p99 is the slowest one, and one stall of the loaded
    // machine (another test file's hub beside these) decided it.
    await eventually(() => arrivals.size >= 250, 90_000, '250 samples of the chip on hub B');

    // Samples whose publish was seen, skipping the first 5 (warm-up).
    const measured = [...arrivals].slice(5).filter(([ts]) => publishedAt.has(`${chipId}@${ts}`));
    expect(measured.length).toBeGreaterThanOrEqual(200);
    const fromCommit = measured.map(([ts, at]) => at - publishedAt.get(`${chipId}@${ts}`)!);
    const report = { samples: measured.length, p50: percentile(fromCommit, 50), p99: percentile(fromCommit, 99), max: Math.max(...fromCommit) };
    console.log(`scale-out live latency, A's commit -> B's viewer (ms): ${JSON.stringify(report)}`);
    expect(report.p99).toBeLessThanOrEqual(100);
    // The chip's history on B comes from the shared database (its samples were stored by A).
    const history = await (await fetch(`http://127.0.0.1:${b.port}/api/v1/chips/${encodeURIComponent(chipId)}/samples?from=0`)).json();
    expect(history.samples.length).toBeGreaterThan(0);
  }, 150_000);

  it('hub A SIGKILLed under load while alerts fire: agents move to hub B, every sample is stored once, one webhook per alert transition', async () => {
    const pg = await schema();
    const tmp = tempDir();
    cleanups.push(() => tmp.cleanup());
    const rcv = await startHttpReceiver();
    cleanups.push(() => rcv.close());
    const rules = join(tmp.dir, 'rules.yaml');
    writeFileSync(
      rules,
      [
        'builtins:',
        ...['stale', 'agent-offline', 'idle-powered', 'thermal', 'power-at-limit', 'ecc-uncorrected'].map((id) => `  ${id}: { enabled: false }`),
        'rules:',
        '  - { id: powered, name: Powered, field: powerW, op: ">", threshold: 0, for: 1s }',
        '',
      ].join('\n'),
    );
    const hubArgs = () => ['--db', pg.url, '--bus', NATS_URL, '--bus-root', ROOT, '--open', '--rules', rules, '--webhook', `${rcv.url}/hook`, '--webhook-group-wait', '0s', '--log-level', 'warn'];
    const a = await hubProcess(hubArgs());
    const b = await hubProcess(hubArgs());
    const agents = ['fo-1', 'fo-22'].map((name) => ({ name, id: `${name}-${ROOT}`, proc: agent(name, [a.ws, b.ws], join(tmp.dir, `spool-${name}`)) }));

    // Each alert (rule, chip) as the webhook tells it: its `firing` notifications.
    const firings = () => {
      const out = new Map<string, number>();
      for (const r of rcv.requests.filter((q) => q.path === '/hook'))
        for (const al of JSON.parse(r.body).alerts as any[]) if (al.status === 'firing') out.set(al.labels.chip, (out.get(al.labels.chip) ?? 0) + 1);
      return out;
    };
    // A batch hub A committed whose ack never reached its agent, told deterministically: a raw agent
    // whose batch A acknowledges says hello to B after A's death and sends the same batch again.
    const resentChip = chipInfo(0, { chipId: `GPU-resent-${ROOT}` });
    const resent = [0, 1, 2].map((i) => sample(resentChip.chipId, Date.now() - 3000 + i * 100, { powerW: 0 }));
    const rawAgent = async (url: string, seqs: [number, Sample[]][]) => {
      const ws = await TestSocket.open(`${url}/ws/agent`);
      cleanups.push(() => ws.close());
      ws.send(hello(`resent-${ROOT}`, [resentChip]));
      await ws.waitFor((f) => f.type === 'welcome', 10_000);
      for (const [seq, samples] of seqs) ws.send(batch(seq, samples));
      for (const [seq] of seqs) expect(await ws.waitFor((f) => (f.type === 'ack' || f.type === 'error') && f.seq === seq, 10_000)).toMatchObject({ type: 'ack' });
      ws.close();
    };
    await rawAgent(a.ws, [[0, resent]]);
    await eventually(() => firings().size === 16, 30_000, 'the 16 alerts firing, notified by hub A');
    const onA = (await a.get('/api/v1/agents')).agents as any[];
    expect(onA.filter((x) => x.connected).map((x) => x.agentId).sort()).toEqual(agents.map((x) => x.id).sort());
    await sleep(1000);

    await a.kill();
    const agentsOnB = async () => ((await b.get('/api/v1/agents')).agents as any[]).filter((x) => x.connected).map((x) => x.agentId);
    await eventually(async () => (await agentsOnB()).length === 2, 30_000, 'both agents to move to hub B');
    await rawAgent(b.ws, [[0, resent], [1, [sample(resentChip.chipId, Date.now(), { powerW: 0 })]]]);
    const ingestedOnB = async () => (await b.get('/healthz')).ingested.samples as number;
    const movedAt = await ingestedOnB();
    // A while on B: at least 3 s of both agents' samples, and time for a second `firing` to go out if B were to send one.
    await eventually(async () => (await ingestedOnB()) >= movedAt + 2 * 8 * 15, 30_000, 'samples on hub B');
    await sleep(2500);

    const produced = new Map<string, number>();
    for (const x of agents) {
      const stopped = await stopAgent(x.proc);
      expect(stopped.pendingBatches, `${x.name}: everything acknowledged`).toBe(0);
      expect(stopped.droppedBatches).toBe(0);
      produced.set(x.id, stopped.samplesSent);
      // It went over to B with what A had not acknowledged.
      const connected = x.proc.jsonLogs().filter((l) => l.msg === 'connected to hub');
      expect(connected.map((l) => l.hub)).toEqual([a.ws, b.ws]);
      console.log(`${x.name}: produced ${stopped.samplesSent}; unacknowledged when it reached hub B: ${connected[1].unacknowledged} batches`);
    }
    expect(await b.stop()).toBe(0);

    await expectEverySampleOnce(pg, produced);
    const resentStored = (await storedTimestamps(pg)).get(resentChip.chipId)!;
    expect(resentStored.sort((x, y) => x - y)).toEqual([...resent.map((x) => x.ts), resentStored[3]]);
    // One `firing` per alert: hub B continued the alerts hub A stored instead of firing them again.
    expect([...firings().values()]).toEqual(new Array(16).fill(1));
    const states = await pg.query(`SELECT rule_id, chip_id FROM ${pg.schema}.alert_states WHERE rule_id = 'powered'`);
    expect(states.length).toBe(16);
    const events = await pg.query(`SELECT chip_id, count(*)::int AS n FROM ${pg.schema}.alert_events WHERE rule_id = 'powered' AND to_phase = 'firing' GROUP BY chip_id`);
    expect(events.map((e) => e.n)).toEqual(new Array(16).fill(1));
  }, 120_000);

  it("a hub's PostgreSQL connection dropped for ~3 s during ingest: not ready meanwhile, ingest resumes, no acknowledged sample lost", async () => {
    const pg = await schema();
    const tmp = tempDir();
    cleanups.push(() => tmp.cleanup());
    const server = new URL(PG_URL);
    const proxy = await startTcpProxy(server.hostname, Number(server.port || 5432));
    cleanups.push(() => proxy.close());
    const viaProxy = new URL(pg.url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const hub = await hubProcess(['--db', viaProxy.toString(), '--open']);
    const ag = agent('pgcut-1', [hub.ws], join(tmp.dir, 'spool'));
    const ingested = async () => (await hub.get('/healthz')).ingested.samples as number;
    await eventually(async () => (await ingested()) >= 8 * 10, 30_000, 'samples before the cut');
    expect((await fetch(`${hub.url}/readyz`)).status).toBe(200);

    proxy.down();
    const downAt = Date.now();
    await eventually(async () => (await fetch(`${hub.url}/readyz`)).status === 503, 5000, 'the hub not ready');
    const down = await (await fetch(`${hub.url}/readyz`)).json();
    expect(down.checks.database).toMatch(/PostgreSQL at 127\.0\.0\.1:\d+/);
    await sleep(Math.max(0, 3000 - (Date.now() - downAt)));
    expect(hub.proc.child.exitCode).toBeNull();
    const beforeUp = await ingested();

    proxy.up();
    const upAt = Date.now();
    await eventually(async () => (await ingested()) >= beforeUp + 8 * 5, 10_000, 'ingest to resume within 10 s');
    console.log(`ingest resumed ${Date.now() - upAt} ms after PostgreSQL came back`);
    await eventually(async () => (await fetch(`${hub.url}/readyz`)).status === 200, 10_000, 'the hub ready again');
    await sleep(1000);

    const stopped = await stopAgent(ag);
    expect(stopped.pendingBatches).toBe(0);
    expect(stopped.droppedBatches).toBe(0);
    expect(await hub.stop()).toBe(0);
    await expectEverySampleOnce(pg, new Map([[`pgcut-1-${ROOT}`, stopped.samplesSent]]));
  }, 90_000);
});
