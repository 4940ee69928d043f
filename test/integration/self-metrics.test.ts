/**
 * The hub's own metrics at GET /metrics, each made to move by doing the thing it counts on a
 * real hub: samples stored by way in, refusals by way and code, commit latency, live clients and
 * frames, history query latency by endpoint and tier, folds, alert evaluation and transitions,
 * webhook deliveries by outcome and the outbox depth; what waits to be folded (the compactor's
 * queue), on SQLite and on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../server/alerts/alert-events.ts';
import { fingerprint } from '../../server/alerts/webhook-payload.ts';
import { batch, chipInfo, hello, sample } from '../helpers/frames.ts';
import { startHttpReceiver, type HttpReceiver } from '../helpers/http-receiver.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';
import { freshPgSchema, startPgHub, type PgSchema } from '../helpers/pg-hub.ts';
import type { HubHandle } from '../../server/hub.ts';

let hub: TestHub;
let rcv: HttpReceiver;

beforeAll(async () => {
  rcv = await startHttpReceiver((r) => ({ status: r.path === '/fail' ? 400 : 200 }));
  hub = await startTestHub({
    webhook: `${rcv.url}/ok`,
    webhookGroupWait: '0s',
    notify: { delivery: { timeoutMs: 800, retry: { policy: { initialMs: 100, maxMs: 400, factor: 2, jitter: 'none' }, maxAttempts: 2, maxRetryAfterMs: 5000 }, pollMs: 50 }, tickMs: 50 },
  });
});
afterAll(async () => {
  await hub?.stop();
  await rcv?.close();
});

/** `name{labels}` -> value of every series in a Prometheus text body (labels as written, otel_scope_* dropped). */
async function scrape(from: { url: string; auth?(role: 'viewer'): Record<string, string> } = hub): Promise<Map<string, number>> {
  const res = await fetch(`${from.url}/metrics`, { headers: from.auth?.('viewer') ?? {} });
  expect(res.status).toBe(200);
  const out = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels = (m[2] ?? '').split(/,(?=[a-z_]+=")/).filter((l) => l && !l.startsWith('otel_scope_')).join(',');
    out.set(`${m[1]}{${labels}}`, Number(m[3]));
  }
  return out;
}

const value = (m: Map<string, number>, key: string) => m.get(key) ?? 0;

function alertEvent(chip: string): AlertEvent {
  const labels = { alertname: 'thermal', chip, host: 'gpu-a1', rule: 'thermal', severity: 'critical' };
  const at = Date.now();
  return {
    ruleId: 'thermal', chipId: chip, from: 'pending', to: 'firing', at, value: 91, severity: 'critical',
    labels, annotations: { summary: `${chip} hot` }, fingerprint: fingerprint(labels), startsAt: at - 60_000, endsAt: null,
  };
}

describe('GET /metrics', () => {
  it('counts samples by way in, with commit latency, and refusals by way and code', async () => {
    const agent = await hub.ws('/ws/agent');
    agent.send(hello('self-a'));
    await agent.waitFor((f) => f.type === 'welcome');
    agent.send(batch(1, [sample('GPU-test-0', Date.now()), sample('GPU-test-1', Date.now())]));
    await agent.waitFor((f) => f.type === 'ack');
    agent.send('{"v":1,"type":"nonsense"}');
    await agent.waitFor((f) => f.type === 'error');
    const write = (body: string) => fetch(`${hub.url}/api/v1/write`, { method: 'POST', headers: hub.auth('agent'), body });
    expect((await write(`chip,host=lp-1,chip=GPU-lp-0,vendor=nvidia,model=H100 power_w=300 ${Date.now()}000000`)).status).toBe(204);
    expect((await write('cpu,host=h usage=1')).status).toBe(400);
    // Two lines of a chip the ws agent owns: refused per line.
    expect((await write(`chip,host=lp-1,chip=GPU-test-0,vendor=nvidia,model=H100 power_w=1\nchip,host=lp-1,chip=GPU-test-0,vendor=nvidia,model=H100 power_w=2`)).status).toBe(400);
    agent.close();

    const m = await scrape();
    expect(value(m, 'fleetscope_ingest_samples_total{way="ws"}')).toBe(2);
    expect(value(m, 'fleetscope_ingest_samples_total{way="line_protocol"}')).toBe(1);
    expect(value(m, 'fleetscope_ingest_commit_duration_seconds_count{way="ws"}')).toBe(1);
    expect(value(m, 'fleetscope_ingest_commit_duration_seconds_count{way="line_protocol"}')).toBe(1);
    expect(value(m, 'fleetscope_ingest_rejected_total{way="ws",reason="unknown_type"}')).toBe(1);
    expect(value(m, 'fleetscope_ingest_rejected_total{way="line_protocol",reason="bad_request"}')).toBe(1);
    expect(value(m, 'fleetscope_ingest_rejected_total{way="line_protocol",reason="chip_owned"}')).toBe(2);
    expect(value(m, 'fleetscope_store_write_backlog{}')).toBe(0);
    expect(value(m, 'fleetscope_ingest_acks_withheld_total{way="ws"}')).toBe(0);
  });

  it('times history queries by endpoint and tier', async () => {
    const now = Date.now();
    for (const path of [`/api/v1/series?chip=GPU-test-0&from=${now - 60_000}&to=${now}`, `/api/v1/energy?from=${now - 40 * 86_400_000}&to=${now}`, '/api/v1/chips/GPU-test-0/samples', '/api/v1/top?k=1']) {
      const res = await fetch(`${hub.url}${path}`, { headers: hub.auth('viewer') });
      expect(res.status, path).toBe(200);
      await res.text();
    }
    const bad = await fetch(`${hub.url}/api/v1/series?step=nonsense`, { headers: hub.auth('viewer') });
    expect(bad.status).toBe(400);
    const m = await scrape();
    expect(value(m, 'fleetscope_history_query_duration_seconds_count{endpoint="series",tier="raw",status="200"}')).toBe(1);
    expect(value(m, 'fleetscope_history_query_duration_seconds_count{endpoint="samples",tier="raw",status="200"}')).toBe(1);
    expect([...m.keys()].filter((k) => k.startsWith('fleetscope_history_query_duration_seconds_count{endpoint="energy",tier="1h"'))).toHaveLength(1);
    expect([...m.keys()].some((k) => k.startsWith('fleetscope_history_query_duration_seconds_count{endpoint="top"'))).toBe(true);
    expect(value(m, 'fleetscope_history_query_duration_seconds_count{endpoint="series",tier="none",status="400"}')).toBe(1);
  });

  it('reports live clients and the frames sent to them', async () => {
    const live = await hub.ws('/ws/live');
    live.send({ v: 1, type: 'subscribe', sub: { topic: 'fleet' } });
    await live.waitFor((f) => f.type === 'fleet-snapshot');
    const agent = await hub.ws('/ws/agent');
    agent.send(hello('self-a'));
    await agent.waitFor((f) => f.type === 'welcome');
    agent.send(batch(2, [sample('GPU-test-0', Date.now())]));
    await live.waitFor((f) => f.type === 'fleet-update');
    const m = await scrape();
    expect(value(m, 'fleetscope_live_clients{}')).toBe(1);
    expect(value(m, 'fleetscope_live_frames_total{state="sent"}')).toBeGreaterThan(0);
    expect(m.has('fleetscope_live_frames_total{state="dropped"}')).toBe(true);
    live.close();
    agent.close();
  });

  it('times folds of the sample log', async () => {
    await hub.store.flush();
    await new Promise((r) => setTimeout(r, 100));
    const m = await scrape();
    expect(value(m, 'fleetscope_store_fold_duration_seconds_count{phase="plan"}')).toBeGreaterThan(0);
    expect(value(m, 'fleetscope_store_fold_duration_seconds_count{phase="write"}')).toBeGreaterThan(0);
  });

  it('counts the samples alerting evaluated, the rules in force and alert transitions', async () => {
    const rule = { id: 'self-power', name: 'SelfPower', field: 'powerW', op: '>', threshold: 500, selector: { chip: ['GPU-test-1'] } };
    const created = await fetch(`${hub.url}/api/v1/alerts/rules`, { method: 'POST', headers: { ...hub.auth('admin'), 'content-type': 'application/json' }, body: JSON.stringify(rule) });
    expect(created.status).toBe(201);
    const before = await scrape();
    const agent = await hub.ws('/ws/agent');
    agent.send(hello('self-a'));
    await agent.waitFor((f) => f.type === 'welcome');
    agent.send(batch(3, [sample('GPU-test-0', Date.now()), sample('GPU-test-1', Date.now(), { powerW: 650 })]));
    await agent.waitFor((f) => f.type === 'ack');
    agent.close();
    const m = await scrape();
    expect(value(m, 'fleetscope_alerts_evaluated_samples_total{}') - value(before, 'fleetscope_alerts_evaluated_samples_total{}')).toBe(2);
    expect(value(m, 'fleetscope_alerts_evaluation_duration_seconds_count{}')).toBeGreaterThan(value(before, 'fleetscope_alerts_evaluation_duration_seconds_count{}'));
    expect(value(m, 'fleetscope_alerts_rules{}')).toBe(value(before, 'fleetscope_alerts_rules{}'));
    expect(value(m, 'fleetscope_alerts_rules{}')).toBeGreaterThan(1);
    // The rule has no `for`: the crossing fires at once.
    expect(value(m, 'fleetscope_alerts_transitions_total{to="firing"}')).toBe(1);
  });

  it('counts webhook deliveries by outcome and shows the outbox', async () => {
    hub.notifier.publish([alertEvent('GPU-self-1')]);
    await rcv.waitFor((reqs) => reqs.some((r) => r.path === '/ok'));
    await new Promise((r) => setTimeout(r, 100));
    const m = await scrape();
    // This alert, and the one the rule above fired (--webhook takes every alert).
    expect(value(m, 'fleetscope_alerts_webhook_deliveries_total{outcome="done"}')).toBeGreaterThanOrEqual(1);
    expect(value(m, 'fleetscope_alerts_webhook_duration_seconds_count{outcome="done"}')).toBe(value(m, 'fleetscope_alerts_webhook_deliveries_total{outcome="done"}'));
    expect(value(m, 'fleetscope_alerts_outbox_depth{}')).toBe(0);
  });
});

describe('GET /metrics: what waits to be folded', () => {
  const BACKLOG = 'fleetscope_store_fold_backlog_samples{}';
  const AGE = 'fleetscope_store_fold_backlog_age_seconds{}';

  it('SQLite: samples committed and not folded, and the age of the oldest; none after a flush', async () => {
    // The hub folds the log 20 s after its oldest row was committed: nothing folds on its own here.
    await hub.store.flush();
    const before = await scrape();
    expect(before.has(BACKLOG)).toBe(true);
    expect(value(before, BACKLOG)).toBe(0);
    expect(value(before, AGE)).toBe(0);
    // The bus metrics are there only with --bus.
    expect([...before.keys()].some((k) => k.startsWith('fleetscope_bus_'))).toBe(false);

    const agent = await hub.ws('/ws/agent');
    const chips = [chipInfo(0, { chipId: 'GPU-fold-0' }), chipInfo(1, { chipId: 'GPU-fold-1' })];
    agent.send(hello('self-fold', chips));
    await agent.waitFor((f) => f.type === 'welcome');
    const t = Date.now();
    agent.send(batch(1, [sample('GPU-fold-0', t), sample('GPU-fold-1', t)]));
    await agent.waitFor((f) => f.type === 'ack' && f.seq === 1);
    agent.send(batch(2, [sample('GPU-fold-0', t + 1000)]));
    await agent.waitFor((f) => f.type === 'ack' && f.seq === 2);
    agent.close();
    await new Promise((r) => setTimeout(r, 50));
    const waiting = await scrape();
    expect(value(waiting, BACKLOG)).toBe(3);
    expect(value(waiting, AGE)).toBeGreaterThan(0);
    expect(value(waiting, AGE)).toBeLessThan(20);

    await hub.store.flush();
    const folded = await scrape();
    expect(value(folded, BACKLOG)).toBe(0);
    expect(value(folded, AGE)).toBe(0);
  });

  it('PostgreSQL: the same, from its fold counters', async () => {
    let pgs: PgSchema | undefined;
    let h: HubHandle | undefined;
    try {
      pgs = await freshPgSchema();
      // Open auth: /metrics and the write endpoint take no token. The log folds 60 s after its oldest commit.
      h = await startPgHub(pgs.url, { auth: { open: true } });
      const before = await scrape(h);
      expect(before.has(BACKLOG)).toBe(true);
      expect(value(before, BACKLOG)).toBe(0);
      const t = Date.now();
      const lines = [0, 1, 2, 3].map((i) => `chip,host=lp-pg,chip=GPU-pg-${i},vendor=nvidia,model=H100 power_w=300 ${t}000000`).join('\n');
      expect((await fetch(`${h.url}/api/v1/write`, { method: 'POST', body: lines })).status).toBe(204);
      await new Promise((r) => setTimeout(r, 50));
      const waiting = await scrape(h);
      expect(value(waiting, BACKLOG)).toBe(4);
      expect(value(waiting, AGE)).toBeGreaterThan(0);
      expect(value(waiting, AGE)).toBeLessThan(60);
      await h.store.flush();
      const folded = await scrape(h);
      expect(value(folded, BACKLOG)).toBe(0);
      expect(value(folded, AGE)).toBe(0);
    } finally {
      await h?.close();
      await pgs?.drop();
    }
  }, 30_000);
});
