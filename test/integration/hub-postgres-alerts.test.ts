/**
 * Alerting of hubs sharing one PostgreSQL schema (this file's own, dropped afterwards; the tests
 * fail, clearly, when PostgreSQL does not answer), with a REAL webhook receiver:
 * - a threshold rule fires once: one webhook, its state stored in PG; a second hub started on the
 *   schema (the agent moved to it) continues the alert and does not fire it again;
 * - two hubs and pending notifications in the shared outbox: each is delivered exactly once (the
 *   claim is `FOR UPDATE SKIP LOCKED`);
 * - a hub that claimed a row and died: another hub sends it once the claim's lease has ended, not
 *   before; a hub closed mid-request: another hub sends the row it gave back.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../server/alerts/alert-events.ts';
import { FLAG_RECEIVER_NAME } from '../../server/alerts/notifier.ts';
import { fingerprint } from '../../server/alerts/webhook-payload.ts';
import { PgOutbox } from '../../server/alerts/pg-outbox.ts';
import type { HubHandle, HubOptions } from '../../server/hub.ts';
import { chipInfo, hello, sample } from '../helpers/frames.ts';
import { startHttpReceiver, type HttpReceiver } from '../helpers/http-receiver.ts';
import { call, freshPgSchema, startPgHub, type PgSchema } from '../helpers/pg-hub.ts';
import { PG_URL } from '../helpers/store-contract.ts';
import { eventually, TestSocket } from '../helpers/ws-client.ts';

const CHIP = 'GPU-test-0';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const notify = (leaseMs?: number, timeoutMs = 800): HubOptions['notify'] => ({
  delivery: { timeoutMs, retry: { policy: { initialMs: 100, maxMs: 400, factor: 2, jitter: 'none' }, maxAttempts: 4, maxRetryAfterMs: 5000 }, pollMs: 50, ...(leaseMs ? { leaseMs } : {}) },
  tickMs: 50,
});

let pgs: PgSchema;
let rcv: HttpReceiver;
const hubs: HubHandle[] = [];
beforeAll(async () => {
  pgs = await freshPgSchema();
});
afterEach(async () => {
  for (const h of hubs.splice(0)) await h.close();
  await rcv?.close();
});
afterAll(async () => {
  await pgs?.drop();
});

async function hub(opts: Partial<HubOptions> = {}): Promise<HubHandle> {
  const h = await startPgHub(pgs.url, { webhook: rcv.url, webhookGroupWait: '0s', notify: notify(), ...opts });
  hubs.push(h);
  return h;
}

let lastTs = 0;
const now = () => (lastTs = Math.max(Date.now(), lastTs + 1));

async function agent(h: HubHandle, token: string, id: string) {
  const ws = await TestSocket.open(`ws://127.0.0.1:${h.port}/ws/agent`, { authorization: `Bearer ${token}` });
  ws.send(hello(id, [chipInfo(0)]));
  await ws.waitFor((f) => f.type === 'welcome');
  let seq = 0;
  return {
    ws,
    async power(w: number) {
      const s = seq++;
      ws.send({ v: 1, type: 'batch', seq: s, samples: [sample(CHIP, now(), { powerW: w })] });
      const ack = await ws.waitFor((f) => (f.type === 'ack' || f.type === 'error') && f.seq === s);
      expect(ack.type, JSON.stringify(ack)).toBe('ack');
    },
  };
}

const phaseOf = (h: HubHandle) => h.alerts.activeAlerts({ ruleId: 'high-power', chipId: CHIP })[0]?.phase ?? 'inactive';

describe('alerts on PostgreSQL', () => {
  it('a threshold rule fires one webhook, its state is stored, and a second hub does not fire it again', async () => {
    rcv = await startHttpReceiver();
    let a = await hub();
    const admin = a.tokens.create('admin', 'admin').token;
    const agentToken = a.tokens.create('agent', 'agent').token;
    await a.tokens.flush();
    const rule = { id: 'high-power', name: 'HighPower', field: 'powerW', op: '>', threshold: 500, selector: { chip: [CHIP] } };
    expect((await call(a, admin, 'POST', '/api/v1/alerts/rules', rule)).status).toBe(201);
    const ag = await agent(a, agentToken, 'a');
    await ag.power(600);
    expect(phaseOf(a)).toBe('firing');
    await rcv.waitFor((r) => r.length >= 1, 5000, 'the firing webhook');
    await sleep(300);
    expect(rcv.delivered()).toHaveLength(1);
    expect(JSON.parse(rcv.requests[0]!.body)).toMatchObject({ status: 'firing', alerts: [{ labels: { alertname: 'HighPower', chip: CHIP } }] });
    await eventually(async () => (await pgs.query(`SELECT state FROM ${pgs.schema}.alert_states WHERE rule_id = 'high-power' AND chip_id = $1`, [CHIP])).length === 1, 3000, 'the state row in PG');
    const stored = await pgs.query(`SELECT state FROM ${pgs.schema}.alert_states WHERE rule_id = 'high-power' AND chip_id = $1`, [CHIP]);
    expect(stored[0]!.state).toContain('firing');

    // Hub A goes away; the agent reconnects to hub B on the same schema and stays above the threshold.
    ag.ws.close();
    await a.close();
    hubs.splice(hubs.indexOf(a), 1);
    const b = await hub();
    expect(phaseOf(b)).toBe('firing');
    expect((await call(b, admin, 'GET', '/api/v1/alerts/rules/high-power')).body).toMatchObject({ source: 'api' });
    const bg = await agent(b, agentToken, 'a');
    await bg.power(650);
    await sleep(500);
    expect(phaseOf(b)).toBe('firing');
    expect(rcv.requests).toHaveLength(1);
    const history = await b.alerts.history({ from: 0, to: Number.MAX_SAFE_INTEGER, ruleId: 'high-power', chipId: CHIP, limit: 100 });
    expect(history.reverse().map((e) => `${e.from}>${e.to}`)).toEqual(['inactive>pending', 'pending>firing']);
    bg.ws.close();
    a = b;
  });
});

describe('the shared outbox', () => {
  const body = (i: number) => JSON.stringify({ test: i });

  it('groups the transitions of a grouping window into one notification, as on SQLite', async () => {
    rcv = await startHttpReceiver();
    const a = await hub({ webhookGroupWait: '400ms' });
    const event = (chip: string): AlertEvent => {
      const labels = { alertname: 'thermal', chip, host: 'gpu-a1', rule: 'thermal', severity: 'critical' };
      const at = Date.now();
      return { ruleId: 'thermal', chipId: chip, from: 'pending', to: 'firing', at, value: 91, severity: 'critical', labels, annotations: {}, fingerprint: fingerprint(labels), startsAt: at - 1000, endsAt: null };
    };
    a.notifier.publish([event('GPU-0'), event('GPU-1')]);
    await sleep(50);
    a.notifier.publish([event('GPU-2')]);
    await a.notifier.settled();
    await rcv.waitFor((r) => r.length >= 1, 5000, 'the grouped notification');
    await sleep(600);
    expect(rcv.requests).toHaveLength(1);
    expect(JSON.parse(rcv.requests[0]!.body).alerts.map((x: { labels: { chip: string } }) => x.labels.chip)).toEqual(['GPU-0', 'GPU-1', 'GPU-2']);
  });

  it('two hubs deliver each pending notification exactly once', async () => {
    rcv = await startHttpReceiver();
    const [a, b] = [await hub(), await hub()];
    const at = Date.now() + 300; // due once both poll
    const keys = Array.from({ length: 12 }, (_, i) => `two-hubs-${i}`);
    for (const [i, key] of keys.entries()) await a.notifier.outboxApi.enqueue({ receiver: FLAG_RECEIVER_NAME, idempotencyKey: key, body: body(i), nextAt: at });
    await rcv.waitFor((r) => keys.every((k) => r.some((x) => x.key === k && x.status === 200)), 10_000, 'every notification');
    await sleep(500);
    expect(rcv.requests.map((r) => r.key).sort()).toEqual([...keys].sort());
    const rows = await pgs.query(`SELECT status, attempts, claimed_by FROM ${pgs.schema}.alert_outbox WHERE idempotency_key LIKE 'two-hubs-%'`);
    expect(rows.every((r) => r.status === 'done' && r.attempts === 1)).toBe(true);
    const ids = new Set([(a.notifier.outboxApi as PgOutbox).hubId, (b.notifier.outboxApi as PgOutbox).hubId]);
    expect(rows.every((r) => ids.has(r.claimed_by))).toBe(true);
  });

  it("a row claimed by a hub that died is sent by another once the claim's lease ends, not before", async () => {
    rcv = await startHttpReceiver();
    const pool = new pg.Pool({ connectionString: PG_URL, options: `-c search_path=${pgs.schema}`, max: 1 });
    const dead = new PgOutbox(pool, 'dead-hub');
    const id = (await dead.enqueue({ receiver: FLAG_RECEIVER_NAME, idempotencyKey: 'lease-1', body: body(1), nextAt: Date.now() }))!;
    const claimedAt = Date.now();
    expect(await dead.claim({ id, attempts: 0 }, claimedAt + 1500)).toBe(true);
    await pool.end(); // the claiming hub is gone without a word
    const b = await hub();
    await rcv.waitFor((r) => r.length >= 1, 5000, 'the row to be sent after the lease');
    expect(rcv.requests[0]!.at - claimedAt).toBeGreaterThanOrEqual(1500);
    await sleep(300);
    expect(rcv.requests.map((r) => [r.key, r.status])).toEqual([['lease-1', 200]]);
    const [row] = await pgs.query(`SELECT status, attempts, claimed_by FROM ${pgs.schema}.alert_outbox WHERE id = $1`, [id]);
    expect(row).toEqual({ status: 'done', attempts: 2, claimed_by: (b.notifier.outboxApi as PgOutbox).hubId });
  });

  it('a hub closed mid-request gives its row back, and another hub sends it once', async () => {
    rcv = await startHttpReceiver((r) => (r.n === 1 ? { status: 200, hang: true } : { status: 200 }));
    const a = await hub({ notify: notify(6000, 5000) });
    await a.notifier.outboxApi.enqueue({ receiver: FLAG_RECEIVER_NAME, idempotencyKey: 'closed-1', body: body(1), nextAt: Date.now() });
    await rcv.waitFor((r) => r.length >= 1, 5000, "hub A's attempt");
    const b = await hub();
    await sleep(300);
    expect(rcv.requests).toHaveLength(1); // A's claim holds
    await a.close();
    hubs.splice(hubs.indexOf(a), 1);
    await rcv.waitFor((r) => r.some((x) => x.status === 200), 5000, "hub B's attempt");
    await sleep(300);
    expect(rcv.requests.map((r) => [r.key, r.status])).toEqual([['closed-1', null], ['closed-1', 200]]);
    const [row] = await pgs.query(`SELECT status, claimed_by FROM ${pgs.schema}.alert_outbox WHERE idempotency_key = 'closed-1'`);
    expect(row).toEqual({ status: 'done', claimed_by: (b.notifier.outboxApi as PgOutbox).hubId });
  });
});
