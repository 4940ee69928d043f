/**
 * Agent connection events (server/agent-events): a real hub records `connected` when an agent's
 * hello is accepted, `disconnected` when its connection ends (`replaced` by a newer one,
 * `hub-stopped` when the hub stops), and GET /api/v1/chips/:chipId/events lists those of the
 * chip's agent, in order. With a real agent process and a ws test client; on SQLite and on
 * PostgreSQL; retention with the 1-hour tier on every store; many events in few writes; a store
 * that fails never fails ingest.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AgentEventRow, AgentEventWrite } from '../../server/agent-events/agent-event-rows.ts';
import { AgentEventRecorder } from '../../server/agent-events/agent-event-recorder.ts';
import { chipEventsAnswerSchema } from '../../schema/api-answers.ts';
import { startHub, type HubHandle } from '../../server/hub.ts';
import { runFleetscope } from '../../bench/support/processes.ts';
import { batch, chipInfo, hello, sample } from '../helpers/frames.ts';
import { call, freshPgSchema, startPgHub, type PgSchema } from '../helpers/pg-hub.ts';
import { ADAPTERS } from '../helpers/store-contract.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';
import { eventually, TestSocket } from '../helpers/ws-client.ts';
import type { Logger } from '../../common/logger.ts';

const HOUR = 3_600_000;

/** A logger that keeps what it is told. */
function keptLog(): Logger & { lines: { level: string; msg: string; fields?: Record<string, unknown> }[] } {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push({ level, msg, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function events(hub: HubHandle, token: string, chipId: string, query = 'from=0'): Promise<{ status: number; body: any }> {
  return call(hub, token, 'GET', `/api/v1/chips/${chipId}/events?${query}`);
}

/** Waits until the chip's events have `n` entries (they are written within ~100 ms) and returns the answer. */
async function eventsWhen(hub: HubHandle, token: string, chipId: string, n: number): Promise<any> {
  let last: any;
  await eventually(async () => {
    last = await events(hub, token, chipId);
    return last.status === 200 && last.body.events.length >= n;
  }, 5000, `${n} events of ${chipId}`);
  return last.body;
}

async function connect(hub: HubHandle, token: string, agentId: string, chips = [chipInfo(0)]): Promise<TestSocket> {
  const ws = await TestSocket.open(`ws://127.0.0.1:${hub.port}/ws/agent`, { authorization: `Bearer ${token}` });
  ws.send(hello(agentId, chips));
  await ws.waitFor((f) => f.type === 'welcome');
  return ws;
}

function expectPlausible(list: { ts: number }[], from: number, to: number): void {
  for (let i = 0; i < list.length; i++) {
    expect(list[i].ts).toBeGreaterThanOrEqual(from);
    expect(list[i].ts).toBeLessThanOrEqual(to);
    if (i > 0) expect(list[i].ts).toBeGreaterThanOrEqual(list[i - 1].ts);
  }
}

describe('agent connection events on a hub (SQLite)', () => {
  let hub: TestHub;
  afterEach(async () => {
    await hub?.stop();
  });

  it('a real agent process: connect, disconnect, reconnect → connected, disconnected, connected', async () => {
    hub = await startTestHub();
    const t0 = Date.now();
    const args = ['agent', '--hub', `ws://127.0.0.1:${hub.port}`, '--agent-id', 'ev-agent', '--source', 'sim-nvml', '--interval', '200ms', '--spool', 'none', '--token', hub.token.agent, '--log-format', 'json'];
    const first = runFleetscope(args);
    await eventually(async () => (await hub.get('/api/v1/chips')).body.chips?.some((c: any) => c.status === 'live'), 15_000, 'a live chip');
    const chipId = (await hub.get('/api/v1/chips')).body.chips[0].chipId as string;
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    await eventsWhen(hub, hub.token.viewer, chipId, 2);
    const tDown = Date.now();
    const second = runFleetscope(args);
    const body = await eventsWhen(hub, hub.token.viewer, chipId, 3);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    expect(chipEventsAnswerSchema.safeParse(body).success, JSON.stringify(body)).toBe(true);
    expect(body).toMatchObject({ chipId, agentId: 'ev-agent', from: 0 });
    expect(body.events.map((e: any) => e.kind)).toEqual(['connected', 'disconnected', 'connected']);
    expectPlausible(body.events, t0, Date.now());
    // The reconnect came after the disconnect was read back, and the agent took a while to start.
    expect(body.events[2].ts).toBeGreaterThanOrEqual(tDown);
    expect(body.events[1].ts - body.events[0].ts).toBeGreaterThan(0);
  }, 40_000);

  it('a ws client: disconnect and reconnect, then a newer connection replacing the older (one disconnect, `replaced`)', async () => {
    hub = await startTestHub();
    const t0 = Date.now();
    const a = await connect(hub, hub.token.agent, 'agent-ws', [chipInfo(0), chipInfo(1)]);
    a.send(batch(0, [sample('GPU-test-0', Date.now())]));
    await a.waitFor((f) => f.type === 'ack');
    a.close();
    await eventsWhen(hub, hub.token.viewer, 'GPU-test-0', 2);
    const b = await connect(hub, hub.token.agent, 'agent-ws', [chipInfo(0), chipInfo(1)]);
    // A second connection of the same agent replaces b: b's end is recorded once, when replaced.
    const c = await connect(hub, hub.token.agent, 'agent-ws', [chipInfo(0), chipInfo(1)]);
    expect(await b.waitClosed()).toBe(1000);
    const body = await eventsWhen(hub, hub.token.viewer, 'GPU-test-1', 5);
    await new Promise((r) => setTimeout(r, 300)); // b's close handled: nothing more is recorded
    const again = (await events(hub, hub.token.viewer, 'GPU-test-1')).body;
    expect(again.events).toEqual(body.events);
    expect(body.agentId).toBe('agent-ws');
    expect(body.events.map((e: any) => [e.kind, e.detail ?? null])).toEqual([
      ['connected', null],
      ['disconnected', null],
      ['connected', null],
      ['disconnected', 'replaced'],
      ['connected', null],
    ]);
    expectPlausible(body.events, t0, Date.now());
    // from/to bound the events: only the last three from b's connect on.
    const tail = (await events(hub, hub.token.viewer, 'GPU-test-0', `from=${body.events[2].ts}&to=${Date.now()}`)).body;
    expect(tail.events.map((e: any) => e.kind)).toEqual(['connected', 'disconnected', 'connected']);
    c.close();
    await eventsWhen(hub, hub.token.viewer, 'GPU-test-0', 6);
  });

  it('a hub that stops records hub-stopped for the agents still connected; reads need a token; unknown chips are 404', async () => {
    hub = await startTestHub();
    await connect(hub, hub.token.agent, 'agent-stop');
    await eventsWhen(hub, hub.token.viewer, 'GPU-test-0', 1);
    expect((await fetch(`${hub.url}/api/v1/chips/GPU-test-0/events`)).status).toBe(401);
    expect((await events(hub, hub.token.viewer, 'GPU-nope')).status).toBe(404);
    expect((await events(hub, hub.token.viewer, 'GPU-test-0', 'from=10&to=5')).status).toBe(400);
    // The default range is the last hour.
    expect((await events(hub, hub.token.viewer, 'GPU-test-0', '')).body.events).toHaveLength(1);
    const doc = (await hub.get('/api/v1/openapi.json')).body;
    expect(doc.paths['/api/v1/chips/{chipId}/events'].get.responses['200']).toBeDefined();

    // The same database, a new hub: the stop is in the history, once.
    const dbPath = hub.dbPath;
    await hub.close();
    const next = await startHub({ port: 0, host: '127.0.0.1', db: dbPath });
    try {
      const viewer = next.tokens.create('viewer', 'v2').token;
      const body = (await events(next, viewer, 'GPU-test-0')).body;
      expect(body.events.map((e: any) => [e.kind, e.detail ?? null])).toEqual([
        ['connected', null],
        ['disconnected', 'hub-stopped'],
      ]);
    } finally {
      await next.close();
      hub = { ...hub, stop: async () => {} } as TestHub; // already closed; its files go with the OS temp dir
    }
  });
});

describe('agent connection events on a hub on PostgreSQL', () => {
  let pg: PgSchema;
  let hub: HubHandle;
  let agent: string;
  let viewer: string;
  beforeAll(async () => {
    pg = await freshPgSchema();
    hub = await startPgHub(pg.url);
    agent = hub.tokens.create('agent', 'pg agent').token;
    viewer = hub.tokens.create('viewer', 'pg viewer').token;
    await hub.tokens.flush();
  });
  afterAll(async () => {
    await hub?.close();
    await pg?.drop();
  });

  it('connect, disconnect, reconnect → connected, disconnected, connected, stored with the hub that saw them', async () => {
    const t0 = Date.now();
    const a = await connect(hub, agent, 'pg-ev-agent');
    a.close();
    await eventsWhen(hub, viewer, 'GPU-test-0', 2);
    const b = await connect(hub, agent, 'pg-ev-agent');
    const body = await eventsWhen(hub, viewer, 'GPU-test-0', 3);
    b.close();
    expect(chipEventsAnswerSchema.safeParse(body).success).toBe(true);
    expect(body.events.map((e: any) => e.kind)).toEqual(['connected', 'disconnected', 'connected']);
    expectPlausible(body.events, t0, Date.now());
    const rows = await pg.query(`SELECT agent_id, kind, hub FROM ${pg.schema}.agent_events ORDER BY ts, id`);
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(rows[0]).toMatchObject({ agent_id: 'pg-ev-agent', kind: 'connected' });
    expect(String(rows[0].hub)).toMatch(new RegExp(`:${hub.port}$`));
  });
});

describe('agent events in every store', () => {
  for (const adapter of ADAPTERS) {
    it(`${adapter.name}: ascending per agent with ties in the order recorded; retention with the 1-hour tier`, async () => {
      const h = await adapter.create();
      const store = await h.open({ retention: { h1Ms: 10 * HOUR } });
      try {
        const now = Date.now();
        const rows: AgentEventWrite[] = [
          { agentId: 'x', ts: now - 20 * HOUR, kind: 'connected' },
          { agentId: 'x', ts: now - 20 * HOUR + 5, kind: 'disconnected' },
          { agentId: 'y', ts: now - 2 * HOUR, kind: 'connected', hub: 'h:1' },
          { agentId: 'x', ts: now - HOUR, kind: 'connected', hub: 'h:1' },
          { agentId: 'x', ts: now - 30_000, kind: 'disconnected', hub: 'h:1', detail: 'replaced' },
          { agentId: 'x', ts: now - 30_000, kind: 'connected', hub: 'h:1' },
        ];
        await store.recordAgentEvents(rows);
        await store.recordAgentEvents([]);
        const of = (list: AgentEventRow[]) => list.map((e) => `${e.kind}${e.detail ? `:${e.detail}` : ''}@${now - e.ts}`);
        expect(of(await store.agentEvents('x', 0, now))).toEqual([`connected@${20 * HOUR}`, `disconnected@${20 * HOUR - 5}`, `connected@${HOUR}`, 'disconnected:replaced@30000', 'connected@30000']);
        expect(of(await store.agentEvents('x', now - 2 * HOUR, now))).toEqual([`connected@${HOUR}`, 'disconnected:replaced@30000', 'connected@30000']);
        expect(of(await store.agentEvents('x', 0, now, 2))).toHaveLength(2);
        expect(await store.agentEvents('y', 0, now)).toEqual([{ ts: now - 2 * HOUR, kind: 'connected', hub: 'h:1', detail: null }]);
        await store.enforceRetention(now);
        expect(of(await store.agentEvents('x', 0, now))).toEqual([`connected@${HOUR}`, 'disconnected:replaced@30000', 'connected@30000']);
        expect(await store.agentEvents('y', 0, now)).toHaveLength(1);
        await store.enforceRetention(now + 9 * HOUR + 1);
        expect(await store.agentEvents('y', 0, now)).toHaveLength(0);
        expect(await store.agentEvents('x', 0, now)).toHaveLength(2);
      } finally {
        await store.close();
        await h.cleanup();
      }
    });
  }
});

describe('the recorder', () => {
  it.each(ADAPTERS.filter((a) => a.name !== 'memory').map((a) => [a.name, a] as const))('writes 10,000 agents reconnecting at once in a few writes (events within ~100 ms coalesce): %s', async (_name, adapter) => {
    const h = await adapter.create();
    const store = await h.open();
    const recorder = new AgentEventRecorder({ store, log: keptLog() });
    try {
      const t0 = Date.now();
      for (let i = 0; i < 10_000; i++) recorder.record(`agent-${i}`, 'connected');
      await eventually(() => recorder.stats.events === 10_000, 5000, 'all written');
      expect(recorder.stats.writes).toBeLessThanOrEqual(2);
      // A second burst arriving while nothing is written: one more write.
      for (let i = 0; i < 10_000; i++) recorder.record(`agent-${i}`, 'disconnected');
      await eventually(() => recorder.stats.events === 20_000, 5000, 'all written');
      expect(recorder.stats.writes).toBeLessThanOrEqual(4);
      expect((await store.agentEvents('agent-9999', t0, Date.now())).map((e) => e.kind)).toEqual(['connected', 'disconnected']);
    } finally {
      await recorder.close();
      await store.close();
      await h.cleanup();
    }
  });

  it('a hub that 400 agents connect to at once records their events in a few writes', async () => {
    const hub = await startTestHub();
    try {
      const calls: number[] = [];
      const record = hub.store.recordAgentEvents.bind(hub.store);
      hub.store.recordAgentEvents = (events) => (calls.push(events.length), record(events));
      const sockets = await Promise.all(Array.from({ length: 400 }, (_, i) => connect(hub, hub.token.agent, `burst-${i}`, [chipInfo(i, { chipId: `GPU-burst-${i}` })])));
      await eventually(() => calls.reduce((a, b) => a + b, 0) === 400, 5000, '400 events written');
      expect(calls.length).toBeLessThan(40);
      expect((await events(hub, hub.token.viewer, 'GPU-burst-399')).body.events.map((e: any) => e.kind)).toEqual(['connected']);
      for (const s of sockets) s.close();
      await eventually(() => calls.reduce((a, b) => a + b, 0) === 800, 5000, '400 more written');
      expect(calls.length).toBeLessThan(80);
    } finally {
      await hub.stop();
    }
  }, 30_000);

  it('never throws nor waits on a failing store: a warning is logged and the events are dropped', async () => {
    const log = keptLog();
    let calls = 0;
    const recorder = new AgentEventRecorder({
      log,
      coalesceMs: 10,
      store: {
        recordAgentEvents() {
          calls++;
          if (calls === 1) throw new Error('sync failure');
          return Promise.reject(new Error('database away'));
        },
      },
    });
    expect(() => recorder.record('a', 'connected')).not.toThrow();
    await eventually(() => log.lines.some((l) => l.level === 'warn'), 2000, 'a warning');
    recorder.record('a', 'disconnected');
    await eventually(() => log.lines.filter((l) => l.level === 'warn').length === 2, 2000, 'a second warning');
    expect(log.lines[0].fields).toMatchObject({ events: 1 });
    expect(String(log.lines[1].fields?.err)).toContain('database away');
    expect(recorder.stats.failed).toBe(2);
    await recorder.close();
    recorder.record('a', 'connected'); // after close: ignored
    expect(calls).toBe(2);
  });

  it('a hub whose event writes fail still welcomes agents and stores their samples', async () => {
    const log = keptLog();
    const hub = await startTestHub({ log });
    try {
      hub.store.recordAgentEvents = () => Promise.reject(new Error('no room'));
      const a = await connect(hub, hub.token.agent, 'agent-f');
      a.send(batch(0, [sample('GPU-test-0', Date.now())]));
      expect((await a.waitFor((f) => f.type === 'ack' || f.type === 'error')).type).toBe('ack');
      await eventually(() => log.lines.some((l) => l.level === 'warn' && l.msg.includes('agent connection events')), 3000, 'the warning');
      a.close();
    } finally {
      await hub.stop();
    }
  });
});
