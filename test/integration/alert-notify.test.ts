/**
 * The notifier end to end, with a REAL HTTP receiver (a node:http server on a free port) and
 * alert transitions published straight to the hub's notifier (hub.notifier.publish, as the alert
 * engine does): the REST API of receivers, silences and dead letters; signed deliveries; each
 * transition delivered exactly once and in order while the receiver answers 500, 429 with
 * Retry-After, or nothing — also for three transitions of one alert raised by the ENGINE from
 * samples written into the hub (firing, resolved, firing again); dead letters and their retry; silences; send_resolved; the `--webhook`
 * catch-all; and durability: a hub closed, and a hub PROCESS SIGKILLed, mid-retry delivers the
 * pending notification exactly once after restarting on the same database.
 *
 * The SIGKILL tests run the real `fleetscope hub --webhook`: one writes its notification into the
 * outbox (server/alerts/outbox.ts) of the database file before the hub first starts; the other
 * has the alert engine raise it (a rules file, a sample written through POST /api/v1/write).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createToken, runFleetscope, type Proc } from '../../bench/support/processes.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';
import type { AlertEvent } from '../../server/alerts/alert-events.ts';
import { FLAG_RECEIVER_NAME } from '../../server/alerts/notifier.ts';
import { Outbox } from '../../server/alerts/outbox.ts';
import { buildWebhookPayload, fingerprint, idempotencyKey, verifySignature } from '../../server/alerts/webhook-payload.ts';
import { startHub, type HubHandle, type HubOptions } from '../../server/hub.ts';
import { deadLettersAnswerSchema, receiverAnswerSchema, receiversAnswerSchema, silenceAnswerSchema, silencesAnswerSchema } from '../../schema/api-answers.ts';
import { startHttpReceiver, type HttpReceiver } from '../helpers/http-receiver.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';

const SECRET = 'test-secret-0123456789';
/** Small timeouts and backoff: 800 ms per request, retries 100, 200, 400 ms apart, 4 attempts. */
const FAST: HubOptions['notify'] = {
  delivery: { timeoutMs: 800, retry: { policy: { initialMs: 100, maxMs: 400, factor: 2, jitter: 'none' }, maxAttempts: 4, maxRetryAfterMs: 5000 }, pollMs: 50 },
  tickMs: 50,
};

let seq = 0;
function event(chip: string, to: 'firing' | 'resolved', over: Partial<AlertEvent> = {}): AlertEvent {
  const labels = { alertname: 'thermal', chip, host: 'gpu-a1', rule: 'thermal', severity: 'critical' };
  const at = Date.now() + seq++; // distinct transitions even within one ms
  return {
    ruleId: 'thermal',
    chipId: chip,
    from: to === 'firing' ? 'pending' : 'firing',
    to,
    at,
    value: to === 'firing' ? 91 : 70,
    severity: 'critical',
    labels,
    annotations: { summary: `${chip} at ${to === 'firing' ? 91 : 70} °C` },
    fingerprint: fingerprint(labels),
    startsAt: at - 60_000,
    endsAt: to === 'resolved' ? at : null,
    ...over,
  };
}

async function call(hub: TestHub, method: string, path: string, body?: unknown, role: 'admin' | 'viewer' = 'admin'): Promise<{ status: number; body: any }> {
  const res = await fetch(`${hub.url}${path}`, {
    method,
    headers: { ...hub.auth(role), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The outbox keys of a receiver, oldest first. */
const keysOf = (hub: HubHandle, receiver: string) =>
  hub.notifier.outbox
    .all()
    .filter((r) => r.receiver === receiver)
    .map((r) => r.idempotencyKey);

/** Each key was answered 2xx exactly once, in the order given, and no request went out of order. */
function expectInOrderOnce(rcv: HttpReceiver, keys: string[], path?: string): void {
  const reqs = rcv.requests.filter((r) => path === undefined || r.path === path);
  expect(reqs.filter((r) => r.status !== null && r.status < 300).map((r) => r.key)).toEqual(keys);
  const order = reqs.map((r) => keys.indexOf(r.key));
  expect(order.every((k) => k >= 0)).toBe(true);
  expect(order).toEqual([...order].sort((a, b) => a - b));
}

/** `fleetscope hub` with these arguments, once it says it listens (its URL). */
async function startedHub(args: string[]): Promise<{ proc: Proc; url: string }> {
  const p = runFleetscope(['hub', '--port', '0', '--host', '127.0.0.1', '--log-format', 'json', ...args]);
  const until = Date.now() + 25_000;
  for (;;) {
    const m = /listening on (\S+)/.exec(p.stdout());
    if (m) return { proc: p, url: m[1]! };
    if (Date.now() > until) throw new Error(`hub did not start: ${p.stderr()}`);
    if (p.child.exitCode !== null) throw new Error(`hub exited ${p.child.exitCode}: ${p.stderr()}`);
    await sleep(50);
  }
}

let hub: TestHub;
let rcv: HttpReceiver;

beforeAll(async () => {
  rcv = await startHttpReceiver();
  hub = await startTestHub({ notify: FAST });
});
afterAll(async () => {
  await hub.stop();
  await rcv.close();
});
afterEach(() => {
  rcv.respond(() => ({ status: 200 }));
});

/** A receiver of the test's own, with a path of its own on the HTTP receiver. */
async function addReceiver(name: string, over: Record<string, unknown> = {}): Promise<string> {
  const path = `/${name}`;
  const res = await call(hub, 'POST', '/api/v1/alerts/receivers', { name, kind: 'webhook', url: `${rcv.url}${path}`, secret: SECRET, groupWait: '0s', ...over });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return path;
}
const at = (path: string) => rcv.requests.filter((r) => r.path === path);

describe('receivers API', () => {
  it('creates, lists, reads, replaces and deletes receivers; never shows a secret', async () => {
    const created = await call(hub, 'POST', '/api/v1/alerts/receivers', { name: 'api-a', kind: 'webhook', url: 'http://127.0.0.1:9/x?token=abc', secret: SECRET, matchers: ['severity="critical"', { name: 'host', op: '=~', value: 'gpu-.*' }] });
    expect(created.status).toBe(201);
    expect(receiverAnswerSchema.parse(created.body)).toMatchObject({
      name: 'api-a',
      kind: 'webhook',
      url: 'http://127.0.0.1:9/x?…',
      hasSecret: true,
      matchers: [
        { name: 'severity', op: '=', value: 'critical' },
        { name: 'host', op: '=~', value: 'gpu-.*' },
      ],
      groupBy: ['alertname'],
      groupWait: '30s',
      repeatInterval: '1m',
      rateLimit: { count: 60, per: '1m' },
      sendResolved: true,
      source: 'api',
    });
    expect(JSON.stringify(created.body)).not.toContain(SECRET);
    expect(JSON.stringify(created.body)).not.toContain('abc');

    const slack = await call(hub, 'PUT', '/api/v1/alerts/receivers/api-slack', { kind: 'slack', url: 'https://hooks.slack.com/services/T0/B0/XXXX' });
    expect(slack.status).toBe(201);
    expect(slack.body.url).toBe('https://hooks.slack.com/…');

    const list = await call(hub, 'GET', '/api/v1/alerts/receivers', undefined, 'viewer');
    expect(list.status).toBe(200);
    expect(receiversAnswerSchema.parse(list.body).receivers.map((r) => r.name)).toEqual(expect.arrayContaining(['api-a', 'api-slack']));
    expect(JSON.stringify(list.body)).not.toContain(SECRET);
    expect(JSON.stringify(list.body)).not.toContain('XXXX');

    // PUT without a secret keeps it; null removes it.
    const kept = await call(hub, 'PUT', '/api/v1/alerts/receivers/api-a', { kind: 'webhook', url: 'http://127.0.0.1:9/y', sendResolved: false });
    expect(kept.status).toBe(200);
    expect(kept.body).toMatchObject({ hasSecret: true, sendResolved: false, url: 'http://127.0.0.1:9/y', matchers: [] });
    expect(hub.notifier.receiver('api-a')!.spec.secret).toBe(SECRET);
    const removed = await call(hub, 'PUT', '/api/v1/alerts/receivers/api-a', { kind: 'webhook', url: 'http://127.0.0.1:9/y', secret: null });
    expect(removed.body.hasSecret).toBe(false);

    expect((await call(hub, 'GET', '/api/v1/alerts/receivers/api-a', undefined, 'viewer')).body.name).toBe('api-a');
    expect((await call(hub, 'DELETE', '/api/v1/alerts/receivers/api-a')).status).toBe(204);
    expect((await call(hub, 'GET', '/api/v1/alerts/receivers/api-a')).status).toBe(404);
    expect((await call(hub, 'DELETE', '/api/v1/alerts/receivers/api-a')).status).toBe(404);
    expect((await call(hub, 'DELETE', '/api/v1/alerts/receivers/api-slack')).status).toBe(204);
  });

  it('answers 400 naming the field, 409 for a taken name, 403 for a viewer', async () => {
    const bad: [unknown, RegExp][] = [
      [{ name: 'x', kind: 'webhook', url: 'ftp://h/' }, /^url: the URL must be http or https/],
      [{ name: 'x', kind: 'webhook', url: 'http://u:p@h/' }, /^url: .*user or password/],
      [{ name: 'x', kind: 'pager', url: 'http://h/' }, /^kind: /],
      [{ name: 'x', kind: 'webhook', url: 'http://h/', matchers: ['a="b"', 'c=~"("'] }, /^matchers\[1\]: invalid regex/],
      [{ name: 'x', kind: 'webhook', url: 'http://h/', groupWait: '2x' }, /^groupWait: invalid duration/],
      [{ name: 'x', kind: 'webhook', url: 'http://h/', rateLimit: { count: 0, per: '1m' } }, /^rateLimit\.count: /],
      [{ name: 'x', kind: 'webhook', url: 'http://h/', secret: 'short' }, /^secret: a secret is at least 8 characters/],
      [{ name: 'x', kind: 'webhook', url: 'http://h/', extra: 1 }, /extra/],
      [{ name: 'no spaces', kind: 'webhook', url: 'http://h/' }, /^name: /],
      ['not json', /JSON/],
    ];
    for (const [body, message] of bad) {
      const res = await call(hub, 'POST', '/api/v1/alerts/receivers', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe('bad_request');
      expect(res.body.message).toMatch(message);
    }
    await addReceiver('taken');
    const again = await call(hub, 'POST', '/api/v1/alerts/receivers', { name: 'taken', kind: 'webhook', url: 'http://h/' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('conflict');
    const renamed = await call(hub, 'PUT', '/api/v1/alerts/receivers/taken', { name: 'other', kind: 'webhook', url: 'http://h/' });
    expect(renamed.status).toBe(400);
    expect(renamed.body.message).toMatch(/^name: /);
    expect((await call(hub, 'POST', '/api/v1/alerts/receivers', { name: 'v', kind: 'webhook', url: 'http://h/' }, 'viewer')).status).toBe(403);
    expect((await call(hub, 'DELETE', '/api/v1/alerts/receivers/taken', undefined, 'viewer')).status).toBe(403);
    expect((await fetch(`${hub.url}/api/v1/alerts/receivers`)).status).toBe(401);
    await call(hub, 'DELETE', '/api/v1/alerts/receivers/taken');
  });
});

describe('delivery', () => {
  it('signs each request with the receiver secret and sends the Alertmanager webhook JSON v4 with its Idempotency-Key', async () => {
    const path = await addReceiver('signed');
    hub.notifier.publish([event('GPU-s', 'firing')]);
    await rcv.waitFor(() => at(path).length === 1);
    const req = at(path)[0]!;
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/json');
    expect(verifySignature(String(req.headers['x-fleetscope-signature']), req.body, SECRET, Math.floor(Date.now() / 1000))).toMatchObject({ ok: true });
    expect(verifySignature(String(req.headers['x-fleetscope-signature']), req.body, 'another-secret', Math.floor(Date.now() / 1000))).toEqual({ ok: false, reason: 'mismatch' });
    expect(req.key).toBe(keysOf(hub, 'signed')[0]);
    expect(req.key).toMatch(/^[0-9a-f]{32}$/);
    const body = JSON.parse(req.body);
    expect(body).toMatchObject({ version: '4', status: 'firing', receiver: 'signed', groupKey: '{}:{alertname="thermal"}', externalURL: hub.url, commonLabels: { alertname: 'thermal', chip: 'GPU-s' } });
    expect(body.alerts[0]).toMatchObject({
      status: 'firing',
      labels: { chip: 'GPU-s', severity: 'critical' },
      annotations: { summary: 'GPU-s at 91 °C', value: '91' },
      generatorURL: `${hub.url}/#/chip/GPU-s`,
      endsAt: '0001-01-01T00:00:00Z',
      fingerprint: event('GPU-s', 'firing').fingerprint,
    });
    await sleep(200);
    expect(hub.notifier.outbox.all().find((r) => r.idempotencyKey === req.key)).toMatchObject({ status: 'done', attempts: 1 });
  });

  it('delivers each transition exactly once and in order while the receiver answers 500, then 200', async () => {
    const path = await addReceiver('flaky');
    let fails = 3;
    rcv.respond((r) => (r.path === path && fails-- > 0 ? { status: 500, body: 'boom' } : { status: 200 }));
    hub.notifier.publish([event('GPU-f0', 'firing')]);
    hub.notifier.publish([event('GPU-f1', 'firing')]);
    hub.notifier.publish([event('GPU-f0', 'resolved')]);
    const keys = keysOf(hub, 'flaky');
    expect(keys).toHaveLength(3);
    await rcv.waitFor(() => rcv.delivered().filter((r) => r.path === path).length === 3, 10_000, 'three deliveries');
    await sleep(300);
    expectInOrderOnce(rcv, keys, path);
    expect(at(path).length).toBe(3 + 3);
    expect(at(path).map((r) => JSON.parse(r.body).alerts[0].status)).toEqual(['firing', 'firing', 'firing', 'firing', 'firing', 'resolved']);
  });

  it('waits as long as a 429 Retry-After says before trying again', async () => {
    const path = await addReceiver('limited');
    rcv.respond((r) => (r.path === path && at(path).length === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }));
    hub.notifier.publish([event('GPU-r', 'firing')]);
    await rcv.waitFor(() => rcv.delivered().some((r) => r.path === path), 10_000, 'the delivery after the 429');
    const [first, second] = at(path);
    expect(first!.status).toBe(429);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
    expect(second!.key).toBe(first!.key);
    await sleep(200);
    expect(at(path)).toHaveLength(2);
  });

  it('gives up on a receiver that does not answer within the timeout, and tries again', async () => {
    const path = await addReceiver('slow');
    rcv.respond((r) => (r.path === path && at(path).length === 1 ? { status: 200, delayMs: 3000 } : r.path === path && at(path).length === 2 ? { status: 200, hang: true } : { status: 200 }));
    hub.notifier.publish([event('GPU-t', 'firing')]);
    await rcv.waitFor(() => rcv.delivered().some((r) => r.path === path), 10_000, 'the delivery after two timeouts');
    await sleep(1500); // the first request's late answer would come now: the hub has gone
    const reqs = at(path);
    expect(reqs).toHaveLength(3);
    expect(new Set(reqs.map((r) => r.key)).size).toBe(1);
    expect(reqs.filter((r) => r.status === 200)).toHaveLength(1);
    expect(reqs[1]!.at - reqs[0]!.at).toBeGreaterThanOrEqual(800);
    const row = hub.notifier.outbox.all().find((r) => r.idempotencyKey === reqs[0]!.key)!;
    expect(row).toMatchObject({ status: 'done', attempts: 3 });
  });
});

/**
 * One alert of a rule of the test's own, driven through the ENGINE: samples of one chip written
 * into the hub (POST /api/v1/write, line protocol), the rule `powerW > 500` with `for: 0s`, and a
 * receiver that takes only this rule's alerts.
 */
async function engineAlert(ruleId: string, name: string, chip: string) {
  const rule = { id: ruleId, name, field: 'powerW', op: '>', threshold: 500, for: '0s', selector: { chip: [chip] } };
  const created = await call(hub, 'POST', '/api/v1/alerts/rules', rule);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  let lastTs = 0;
  const phase = () => hub.alerts.activeAlerts({ ruleId, chipId: chip })[0]?.phase ?? 'inactive';
  return {
    phase,
    /** Writes one sample (strictly newer than the last) and waits until the alert is in `then`. */
    async sample(powerW: number, then: 'pending' | 'firing' | 'resolved' | 'inactive') {
      const ts = (lastTs = Math.max(Date.now(), lastTs + 1));
      const line = `chip,host=gpu-o1,chip=${chip},vendor=nvidia,model=H100 util_pct=90,power_w=${powerW},temp_c=50 ${ts}000000`;
      const res = await fetch(`${hub.url}/api/v1/write`, { method: 'POST', headers: hub.auth('agent'), body: line });
      expect(res.status, await res.text()).toBe(204);
      const until = Date.now() + 5000;
      while (phase() !== then) {
        if (Date.now() > until) throw new Error(`${ruleId} on ${chip}: still ${phase()}, not ${then}, after ${powerW} W`);
        await sleep(20);
      }
    },
    /** Its transitions in the history, oldest first, as `from>to`. */
    async transitions() {
      return (await hub.alerts.history({ from: 0, to: Number.MAX_SAFE_INTEGER, ruleId, chipId: chip, limit: 100 })).reverse().map((e) => `${e.from}>${e.to}`);
    },
  };
}

/** firing, resolved, firing again (a new breach): three notifications of one alert, raised by the engine. */
async function fireResolveFire(a: Awaited<ReturnType<typeof engineAlert>>): Promise<void> {
  await a.sample(600, 'firing');
  await a.sample(300, 'resolved');
  await a.sample(300, 'inactive');
  await a.sample(600, 'firing');
  expect(await a.transitions()).toEqual(['inactive>pending', 'pending>firing', 'firing>resolved', 'resolved>inactive', 'inactive>pending', 'pending>firing']);
}

/** The deliveries of `path` (2xx), as the receiver got them: status of the alert and its startsAt. */
const deliveredAlerts = (path: string) =>
  rcv
    .delivered()
    .filter((r) => r.path === path)
    .map((r) => {
      const body = JSON.parse(r.body);
      expect(body.alerts).toHaveLength(1);
      return { key: r.key, status: body.alerts[0].status as string, startsAt: body.alerts[0].startsAt as string };
    });

describe('order of one alert raised by the engine', () => {
  it('delivers firing, resolved, firing exactly once each and in order while the receiver answers 429 with Retry-After, then 200', async () => {
    const path = await addReceiver('engine-429', { matchers: ['alertname="Order429"'] });
    // The first attempt of the first and of the second transition: 429, retry after 1 s.
    rcv.respond((r) => (r.path === path && [1, 3].includes(at(path).length) ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }));
    const a = await engineAlert('order-429', 'Order429', 'GPU-o429');
    await fireResolveFire(a);
    await rcv.waitFor(() => keysOf(hub, 'engine-429').length === 3, 5000, 'three outbox rows');
    const keys = keysOf(hub, 'engine-429');
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(3);
    await rcv.waitFor(() => rcv.delivered().filter((r) => r.path === path).length === 3, 15_000, 'three deliveries');
    await sleep(500);
    expectInOrderOnce(rcv, keys, path);
    const reqs = at(path);
    expect(reqs.map((r) => r.status)).toEqual([429, 200, 429, 200, 200]);
    expect(reqs.map((r) => keys.indexOf(r.key))).toEqual([0, 0, 1, 1, 2]);
    // Each retry waited the Retry-After.
    expect(reqs[1]!.at - reqs[0]!.at).toBeGreaterThanOrEqual(950);
    expect(reqs[3]!.at - reqs[2]!.at).toBeGreaterThanOrEqual(950);
    const got = deliveredAlerts(path);
    expect(got.map((g) => g.status)).toEqual(['firing', 'resolved', 'firing']);
    expect(got[1]!.startsAt).toBe(got[0]!.startsAt);
    expect(got[2]!.startsAt > got[0]!.startsAt).toBe(true);
    expect(hub.notifier.outbox.all().filter((r) => r.receiver === 'engine-429').map((r) => [r.status, r.attempts])).toEqual([
      ['done', 2],
      ['done', 2],
      ['done', 1],
    ]);
  }, 30_000);

  it('delivers firing, resolved, firing exactly once each and in order while the receiver times out, then answers', async () => {
    const path = await addReceiver('engine-slow', { matchers: ['alertname="OrderSlow"'] });
    // The first transition's first attempt is answered after the timeout (800 ms), its second
    // never; the second transition's first attempt is answered late too.
    rcv.respond((r) => {
      if (r.path !== path) return { status: 200 };
      const n = at(path).length;
      return n === 1 || n === 4 ? { status: 200, delayMs: 2000 } : n === 2 ? { status: 200, hang: true } : { status: 200 };
    });
    const a = await engineAlert('order-slow', 'OrderSlow', 'GPU-oslow');
    await fireResolveFire(a);
    await rcv.waitFor(() => keysOf(hub, 'engine-slow').length === 3, 5000, 'three outbox rows');
    const keys = keysOf(hub, 'engine-slow');
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(3);
    await rcv.waitFor(() => rcv.delivered().filter((r) => r.path === path).length === 3, 20_000, 'three deliveries');
    await sleep(2500); // late answers to timed-out requests would come now: the hub has gone
    expectInOrderOnce(rcv, keys, path);
    const reqs = at(path);
    expect(reqs.map((r) => keys.indexOf(r.key))).toEqual([0, 0, 0, 1, 1, 2]);
    // Answered 2xx (by the receiver) once per transition; the late ones found the hub gone.
    expect(reqs.filter((r) => r.status === 200).map((r) => keys.indexOf(r.key))).toEqual([0, 1, 2]);
    expect(deliveredAlerts(path).map((g) => g.status)).toEqual(['firing', 'resolved', 'firing']);
    // Nothing sent for a transition before the one before it was answered.
    expect(reqs[3]!.at).toBeGreaterThan(reqs[2]!.at);
    expect(hub.notifier.outbox.all().filter((r) => r.receiver === 'engine-slow').map((r) => [r.status, r.attempts])).toEqual([
      ['done', 3],
      ['done', 2],
      ['done', 1],
    ]);
  }, 40_000);
});

describe('rate limit', () => {
  it('holds notifications beyond the rate in the outbox and sends them later, in order', async () => {
    const path = await addReceiver('paced', { matchers: ['chip=~"GPU-p.*"'], rateLimit: { count: 2, per: '1s' } });
    hub.notifier.publish([0, 1, 2, 3].map((i) => event(`GPU-p${i}`, 'firing')));
    const keys = keysOf(hub, 'paced');
    expect(keys).toHaveLength(4);
    await rcv.waitFor(() => at(path).length === 4, 10_000, 'four paced deliveries');
    const t = at(path).map((r) => r.at - at(path)[0]!.at);
    expect(t[1]).toBeLessThan(400);
    // Bursts of 2, then one every 500 ms.
    expect(t[2]).toBeGreaterThanOrEqual(400);
    expect(t[3]).toBeGreaterThanOrEqual(900);
    expectInOrderOnce(rcv, keys, path);
  });
});

describe('dead letters', () => {
  it('keeps a notification that failed every attempt, lists it, and sends it again on request', async () => {
    const path = await addReceiver('down');
    rcv.respond((r) => (r.path === path ? { status: 503, body: 'maintenance' } : { status: 200 }));
    hub.notifier.publish([event('GPU-d', 'firing')]);
    const [key] = keysOf(hub, 'down');
    await rcv.waitFor(() => at(path).length === 4, 10_000, 'four attempts');
    await sleep(200);
    expect(at(path)).toHaveLength(4);
    const list = await call(hub, 'GET', '/api/v1/alerts/dead-letters', undefined, 'viewer');
    expect(list.status).toBe(200);
    const dead = deadLettersAnswerSchema.parse(list.body).deadLetters.find((d) => d.idempotencyKey === key)!;
    expect(dead).toMatchObject({ receiver: 'down', status: 'dead', attempts: 4 });
    expect(dead.lastError).toMatch(/HTTP 503: maintenance.*no success after 4 attempts/);
    expect((dead.payload as any).alerts[0].labels.chip).toBe('GPU-d');

    rcv.respond(() => ({ status: 200 }));
    expect((await call(hub, 'POST', `/api/v1/alerts/dead-letters/${dead.id}/retry`, undefined, 'viewer')).status).toBe(403);
    const retried = await call(hub, 'POST', `/api/v1/alerts/dead-letters/${dead.id}/retry`);
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ id: dead.id, status: 'pending', attempts: 0 });
    await rcv.waitFor(() => rcv.delivered().some((r) => r.path === path), 5000, 'the retried dead letter');
    await sleep(200);
    expect(rcv.delivered().filter((r) => r.key === key)).toHaveLength(1);
    expect(deadLettersAnswerSchema.parse((await call(hub, 'GET', '/api/v1/alerts/dead-letters')).body).deadLetters.some((d) => d.id === dead.id)).toBe(false);
    expect((await call(hub, 'POST', `/api/v1/alerts/dead-letters/${dead.id}/retry`)).status).toBe(404);
    expect((await call(hub, 'POST', '/api/v1/alerts/dead-letters/abc/retry')).status).toBe(404);
  });

  it('makes a dead letter at once of an answer no retry can change (400)', async () => {
    const path = await addReceiver('refuses');
    rcv.respond((r) => (r.path === path ? { status: 400, body: 'bad payload' } : { status: 200 }));
    hub.notifier.publish([event('GPU-x', 'firing')]);
    await rcv.waitFor(() => at(path).length === 1);
    await sleep(300);
    expect(at(path)).toHaveLength(1);
    const dead = (await call(hub, 'GET', '/api/v1/alerts/dead-letters')).body.deadLetters.find((d: any) => d.receiver === 'refuses');
    expect(dead.lastError).toMatch(/HTTP 400: bad payload \(status 400 is not retried\)/);
  });
});

describe('silences', () => {
  it('keeps matching alerts from being sent until the silence is expired, then sends those still firing', async () => {
    const path = await addReceiver('silenced', { matchers: ['chip=~"GPU-q.*"'] });
    const bad = await call(hub, 'POST', '/api/v1/alerts/silences', { matchers: [], comment: 'x', duration: '1h' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^matchers: /);
    expect((await call(hub, 'POST', '/api/v1/alerts/silences', { matchers: ['chip="GPU-q1"'], comment: 'x', duration: '1h', endsAt: Date.now() + 1000 })).body.message).toMatch(/^endsAt: give either/);
    expect((await call(hub, 'POST', '/api/v1/alerts/silences', { matchers: ['chip="GPU-q1"'], comment: 'x', endsAt: Date.now() - 1000 })).body.message).toMatch(/^endsAt: must be after/);
    expect((await call(hub, 'POST', '/api/v1/alerts/silences', { matchers: ['chip="GPU-q1"'], comment: 'x', duration: '1h' }, 'viewer')).status).toBe(403);

    const created = await call(hub, 'POST', '/api/v1/alerts/silences', { matchers: ['chip="GPU-q1"'], comment: 'reseating the card', duration: '1h' });
    expect(created.status).toBe(201);
    const silence = silenceAnswerSchema.parse(created.body);
    expect(silence).toMatchObject({ matchers: [{ name: 'chip', op: '=', value: 'GPU-q1' }], comment: 'reseating the card', createdBy: 'test admin', state: 'active' });
    expect(silence.endsAt - silence.startsAt).toBe(3_600_000);
    const listed = silencesAnswerSchema.parse((await call(hub, 'GET', '/api/v1/alerts/silences', undefined, 'viewer')).body);
    expect(listed.silences.find((s) => s.id === silence.id)?.state).toBe('active');

    hub.notifier.publish([event('GPU-q1', 'firing'), event('GPU-q2', 'firing')]);
    await rcv.waitFor(() => at(path).length === 1);
    await sleep(300);
    expect(at(path).map((r) => JSON.parse(r.body).alerts.map((a: any) => a.labels.chip))).toEqual([['GPU-q2']]);

    const expired = await call(hub, 'DELETE', `/api/v1/alerts/silences/${silence.id}`);
    expect(expired.status).toBe(200);
    expect(expired.body.state).toBe('expired');
    await rcv.waitFor(() => at(path).length === 2);
    expect(JSON.parse(at(path)[1]!.body).alerts.map((a: any) => a.labels.chip)).toEqual(['GPU-q1']);
    expect((await call(hub, 'DELETE', `/api/v1/alerts/silences/${silence.id}`)).status).toBe(404);
    expect((await call(hub, 'DELETE', '/api/v1/alerts/silences/nope')).status).toBe(404);
  });
});

describe('send_resolved', () => {
  it('sends the resolution (with its endsAt) to receivers that want it, and only the firing to others', async () => {
    const all = await addReceiver('resolved-too', { matchers: ['chip="GPU-z"'] });
    const firingOnly = await addReceiver('firing-only', { matchers: ['chip="GPU-z"'], sendResolved: false });
    hub.notifier.publish([event('GPU-z', 'firing')]);
    const resolved = event('GPU-z', 'resolved');
    hub.notifier.publish([resolved]);
    await rcv.waitFor(() => at(all).length === 2 && at(firingOnly).length === 1);
    await sleep(300);
    expect(at(all).map((r) => JSON.parse(r.body).status)).toEqual(['firing', 'resolved']);
    expect(JSON.parse(at(all)[1]!.body).alerts[0]).toMatchObject({ status: 'resolved', endsAt: new Date(resolved.endsAt!).toISOString() });
    expect(at(firingOnly).map((r) => JSON.parse(r.body).status)).toEqual(['firing']);
  });
});

describe('grouping window', () => {
  it('sends the transitions of a group within the window in one request', async () => {
    const path = await addReceiver('grouped', { matchers: ['chip=~"GPU-g.*"'], groupWait: '500ms' });
    hub.notifier.publish([event('GPU-g0', 'firing')]);
    await sleep(100);
    hub.notifier.publish([event('GPU-g1', 'firing')]);
    await rcv.waitFor(() => at(path).length === 1);
    await sleep(300);
    expect(at(path)).toHaveLength(1);
    expect(JSON.parse(at(path)[0]!.body).alerts.map((a: any) => a.labels.chip)).toEqual(['GPU-g0', 'GPU-g1']);
  });
});

describe('--webhook', () => {
  it('adds a catch-all webhook receiver (source flag) that the API cannot change', async () => {
    const flagHub = await startTestHub({ notify: FAST, webhook: `${rcv.url}/flag`, webhookSecret: SECRET, webhookGroupWait: '0s' });
    try {
      const listed = await call(flagHub, 'GET', '/api/v1/alerts/receivers');
      expect(listed.body.receivers).toEqual([expect.objectContaining({ name: FLAG_RECEIVER_NAME, kind: 'webhook', source: 'flag', hasSecret: true, matchers: [], groupWait: '0s', url: `${rcv.url}/flag` })]);
      expect((await call(flagHub, 'DELETE', `/api/v1/alerts/receivers/${FLAG_RECEIVER_NAME}`)).status).toBe(409);
      expect((await call(flagHub, 'PUT', `/api/v1/alerts/receivers/${FLAG_RECEIVER_NAME}`, { kind: 'webhook', url: 'http://h/' })).status).toBe(409);
      flagHub.notifier.publish([event('GPU-any', 'firing', { labels: { alertname: 'whatever', chip: 'GPU-any' } })]);
      await rcv.waitFor(() => at('/flag').length === 1);
      const req = at('/flag')[0]!;
      expect(verifySignature(String(req.headers['x-fleetscope-signature']), req.body, SECRET, Math.floor(Date.now() / 1000)).ok).toBe(true);
      expect(JSON.parse(req.body)).toMatchObject({ receiver: FLAG_RECEIVER_NAME, commonLabels: { alertname: 'whatever' } });
    } finally {
      await flagHub.stop();
    }
  });
});

describe('durability', () => {
  it('a hub stopped mid-retry delivers the pending notification exactly once after it restarts on the same database', async () => {
    const tmp = tempDir();
    const db = join(tmp.dir, 'hub.db');
    const path = '/restart';
    const opts = { port: 0, host: '127.0.0.1', db, notify: FAST, webhook: `${rcv.url}${path}`, webhookGroupWait: '0s' };
    rcv.respond((r) => (r.path === path ? { status: 500 } : { status: 200 }));
    let h: HubHandle | null = await startHub(opts);
    try {
      h.notifier.publish([event('GPU-k', 'firing')]);
      const [key] = keysOf(h, FLAG_RECEIVER_NAME);
      await rcv.waitFor(() => at(path).length >= 2);
      await h.close();
      h = null;
      const before = at(path).length;
      const row = Outbox.open(db);
      expect(row.all()).toEqual([expect.objectContaining({ idempotencyKey: key, status: 'pending' })]);
      row.close();
      rcv.respond(() => ({ status: 200 }));
      h = await startHub(opts);
      await rcv.waitFor(() => rcv.delivered().some((r) => r.key === key));
      await sleep(300);
      expect(at(path).length).toBe(before + 1);
      expect(rcv.delivered().filter((r) => r.key === key)).toHaveLength(1);
      expect(h.notifier.outbox.all()[0]).toMatchObject({ status: 'done' });
    } finally {
      await h?.close();
      tmp.cleanup();
    }
  });

  it('a hub PROCESS SIGKILLed mid-retry delivers the pending notification exactly once after it restarts', async () => {
    const tmp = tempDir();
    const db = join(tmp.dir, 'hub.db');
    const path = '/killed';
    // No alert engine here: the notification is written into the outbox before the hub starts.
    const body = JSON.stringify(
      buildWebhookPayload({
        receiver: FLAG_RECEIVER_NAME,
        groupBy: ['alertname'],
        externalURL: 'http://localhost',
        alerts: [{ status: 'firing', labels: { alertname: 'thermal', chip: 'GPU-kill' }, annotations: { summary: 'hot' }, startsAt: Date.now(), endsAt: null, generatorURL: 'http://localhost/#/chip/GPU-kill' }],
      }),
    );
    const key = idempotencyKey(FLAG_RECEIVER_NAME, [{ fingerprint: fingerprint({ alertname: 'thermal', chip: 'GPU-kill' }), status: 'firing', at: Date.now() }]);
    const outbox = Outbox.open(db);
    outbox.enqueue({ receiver: FLAG_RECEIVER_NAME, idempotencyKey: key, body, nextAt: Date.now() });
    outbox.close();

    rcv.respond((r) => (r.path === path ? { status: 500 } : { status: 200 }));
    const started = async () => (await startedHub(['--db', db, '--webhook', `${rcv.url}${path}`, '--webhook-secret', SECRET])).proc;
    let proc: Proc | null = await started();
    try {
      // Default backoff: the second attempt comes 0.5–1 s after the first.
      await rcv.waitFor(() => at(path).length >= 2, 15_000, 'two failed attempts');
      proc.child.kill('SIGKILL');
      await proc.exited;
      proc = null;
      const before = at(path).length;
      const check = Outbox.open(db);
      const row = check.all()[0]!;
      check.close();
      expect(row).toMatchObject({ idempotencyKey: key, status: 'pending' });
      expect(row.attempts).toBeGreaterThanOrEqual(2);

      rcv.respond(() => ({ status: 200 }));
      proc = await started();
      await rcv.waitFor(() => rcv.delivered().some((r) => r.key === key), 15_000, 'the delivery after the restart');
      await sleep(1500);
      expect(at(path).length).toBe(before + 1);
      const delivered = rcv.delivered().filter((r) => r.key === key);
      expect(delivered).toHaveLength(1);
      expect(delivered[0]!.body).toBe(body);
      expect(verifySignature(String(delivered[0]!.headers['x-fleetscope-signature']), delivered[0]!.body, SECRET, Math.floor(Date.now() / 1000)).ok).toBe(true);
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
      proc = null;
      const after = Outbox.open(db);
      expect(after.all()[0]).toMatchObject({ status: 'done' });
      after.close();
    } finally {
      if (proc) {
        proc.child.kill('SIGKILL');
        await proc.exited;
      }
      tmp.cleanup();
    }
  }, 60_000);

  it('an alert the ENGINE raised, pending when the hub PROCESS is SIGKILLed, is delivered exactly once after the restart', async () => {
    const tmp = tempDir();
    const db = join(tmp.dir, 'hub.db');
    const rules = join(tmp.dir, 'rules.yaml');
    const path = '/engine';
    writeFileSync(
      rules,
      [
        'builtins:',
        ...['stale', 'agent-offline', 'idle-powered', 'thermal', 'power-at-limit', 'ecc-uncorrected'].map((id) => `  ${id}: { enabled: false }`),
        'rules:',
        '  - { id: hot, name: Hot, field: tempC, op: ">", threshold: 80, summary: "{{chip}} at {{value}} C" }',
        '',
      ].join('\n'),
    );
    const agentToken = await createToken(db, 'agent');
    const hot = (reqs = rcv.requests) => reqs.filter((r) => r.path === path && JSON.parse(r.body).commonLabels?.alertname === 'Hot');
    rcv.respond((r) => (r.path === path ? { status: 500 } : { status: 200 }));
    const args = ['--db', db, '--rules', rules, '--webhook', `${rcv.url}${path}`, '--webhook-secret', SECRET, '--webhook-group-wait', '0s'];
    let { proc, url } = await startedHub(args);
    let running: Proc | null = proc;
    try {
      const line = `chip,host=gpu-e1,chip=GPU-engine-0,vendor=nvidia,model=H100 util_pct=90,power_w=500,temp_c=95 ${Date.now()}000000`;
      const write = await fetch(`${url}/api/v1/write`, { method: 'POST', headers: { authorization: `Bearer ${agentToken}` }, body: line });
      expect(write.status, await write.text()).toBe(204);
      await rcv.waitFor(() => hot().length >= 2, 15_000, 'two failed attempts of the engine alert');
      const key = hot()[0]!.key;
      expect(JSON.parse(hot()[0]!.body).alerts[0]).toMatchObject({ status: 'firing', labels: { alertname: 'Hot', chip: 'GPU-engine-0' }, annotations: { summary: 'GPU-engine-0 at 95 C' } });
      proc.child.kill('SIGKILL');
      await proc.exited;
      running = null;
      const before = hot().length;

      rcv.respond(() => ({ status: 200 }));
      ({ proc, url } = await startedHub(args));
      running = proc;
      await rcv.waitFor(() => rcv.delivered().some((r) => r.key === key), 15_000, 'the delivery after the restart');
      await sleep(1500);
      // One more request in all (the pending one), delivered once; the restored alert is not sent again.
      expect(hot().length).toBe(before + 1);
      expect(rcv.delivered().filter((r) => r.key === key)).toHaveLength(1);
      expect(hot().every((r) => r.key === key)).toBe(true);
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
      running = null;
    } finally {
      if (running) {
        running.child.kill('SIGKILL');
        await running.exited;
      }
      tmp.cleanup();
    }
  }, 60_000);
});
