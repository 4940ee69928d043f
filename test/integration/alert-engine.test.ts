/**
 * The alert engine inside a real hub (port 0, temporary SQLite file): rules through REST and the
 * rules file, evaluation of live and backfilled samples, `for` and hysteresis, staleness and
 * agent-offline timers, persistence across a restart, the /ws/live `alerts` topic, and auth.
 * Durations are made small through rule overrides and short agent intervals.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertEventSchema, alertHistoryAnswerSchema, alertRulesAnswerSchema, alertRuleViewSchema, alertsAnswerSchema, errorBodySchema } from '../../schema/api-answers.ts';
import type { ChipInfo, Sample } from '../../schema/sample.ts';
import { startHub, type HubHandle } from '../../server/hub.ts';
import { runFleetscope } from '../../bench/support/processes.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';
import { chipInfo, hello, sample } from '../helpers/frames.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';
import { eventually, TestSocket } from '../helpers/ws-client.ts';

const CHIP = 'GPU-test-0';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let hub: TestHub;
beforeEach(async () => {
  hub = await startTestHub();
});
afterEach(async () => {
  await hub?.stop();
});

/** Strictly increasing sample times (the engine drops a sample not newer than the chip's last). */
let lastTs = 0;
const now = () => (lastTs = Math.max(Date.now(), lastTs + 1));

async function api(method: string, path: string, body?: unknown, role: 'admin' | 'viewer' | 'agent' = 'admin', port = hub.port, token = hub.token[role]) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** An agent connected with `chips`; `send` commits a batch and resolves on its ack (the engine has evaluated it by then). */
async function agent(id: string, chips: ChipInfo[] = [chipInfo(0)], intervalMs = 1000, port = hub.port, token = hub.token.agent) {
  const ws = await TestSocket.open(`ws://127.0.0.1:${port}/ws/agent`, { authorization: `Bearer ${token}` });
  ws.send(hello(id, chips, { intervalMs }));
  await ws.waitFor((f) => f.type === 'welcome');
  let seq = 0;
  return {
    ws,
    async send(samples: Sample[], opts: { backfill?: boolean } = {}) {
      const s = seq++;
      ws.send({ v: 1, type: 'batch', seq: s, samples, ...(opts.backfill ? { backfill: true } : {}) });
      const ack = await ws.waitFor((f) => (f.type === 'ack' || f.type === 'error') && f.seq === s);
      expect(ack.type, JSON.stringify(ack)).toBe('ack');
    },
  };
}

const power = (w: number, chipId = CHIP) => sample(chipId, now(), { powerW: w });
/** Transitions of a rule, oldest first, as `from>to`. */
const transitions = async (h: HubHandle, ruleId: string, chipId = CHIP) =>
  (await h.alerts.history({ from: 0, to: Number.MAX_SAFE_INTEGER, ruleId, chipId, limit: 1000 })).reverse().map((e) => `${e.from}>${e.to}`);
const phaseOf = (h: HubHandle, ruleId: string, chipId = CHIP) => h.alerts.activeAlerts({ ruleId, chipId })[0]?.phase ?? 'inactive';

const powerRule = (over: Record<string, unknown> = {}) => ({ id: 'high-power', name: 'HighPower', field: 'powerW', op: '>', threshold: 500, selector: { chip: [CHIP] }, ...over });

describe('alert rules on live samples', () => {
  it('a REST rule fires after `for`, holds in the hysteresis band, and resolves past the clear threshold', async () => {
    const created = await api('POST', '/api/v1/alerts/rules', powerRule({ for: '1s', clear: { threshold: 450 }, severity: 'critical', labels: { team: 'ml' }, summary: '{{chip}} on {{host}} at {{value}} W' }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(alertRuleViewSchema.parse(created.body)).toMatchObject({ source: 'api', override: null, rule: { id: 'high-power', for: '1s', enabled: true, severity: 'critical' } });

    const a = await agent('a');
    const t0 = Date.now();
    await a.send([power(600)]);
    expect(phaseOf(hub, 'high-power')).toBe('pending');
    // Breaching samples until it fires: never before `for` has run.
    while (phaseOf(hub, 'high-power') !== 'firing') {
      expect(Date.now() - t0).toBeLessThan(5000);
      await sleep(100);
      await a.send([power(600)]);
    }
    const firing = alertsAnswerSchema.parse((await api('GET', '/api/v1/alerts?phase=firing', undefined, 'viewer')).body).alerts;
    expect(firing).toHaveLength(1);
    const alert = firing[0]!;
    expect(alert.firedAt! - alert.startsAt).toBeGreaterThanOrEqual(1000);
    expect(alert).toMatchObject({
      ruleId: 'high-power',
      chipId: CHIP,
      phase: 'firing',
      severity: 'critical',
      value: 600,
      labels: { alertname: 'HighPower', rule: 'high-power', severity: 'critical', chip: CHIP, host: 'a-host', vendor: 'nvidia', model: 'H100', team: 'ml' },
      annotations: { summary: `${CHIP} on a-host at 600 W` },
    });
    expect(alert.fingerprint).toMatch(/^[0-9a-f]{16}$/);

    // 470 W is between the clear threshold (450) and the threshold (500): still firing.
    await a.send([power(470)]);
    expect(phaseOf(hub, 'high-power')).toBe('firing');
    await a.send([power(440)]);
    expect(phaseOf(hub, 'high-power')).toBe('resolved');
    await a.send([power(300)]);
    expect(phaseOf(hub, 'high-power')).toBe('inactive');
    expect(await transitions(hub, 'high-power')).toEqual(['inactive>pending', 'pending>firing', 'firing>resolved', 'resolved>inactive']);

    const history = alertHistoryAnswerSchema.parse((await api('GET', `/api/v1/alerts/history?rule=high-power&chip=${CHIP}&limit=3`, undefined, 'viewer')).body);
    expect(history.truncated).toBe(true);
    expect(history.events.map((e) => e.to)).toEqual(['inactive', 'resolved', 'firing']);
    const resolved = history.events[1]!;
    expect(resolved).toMatchObject({ from: 'firing', value: 440, startsAt: alert.startsAt, fingerprint: alert.fingerprint, labels: alert.labels });
    expect(resolved.endsAt).toBe(resolved.at);
    expect(history.events[2]!.endsAt).toBeNull();
  });

  it('a pending alert whose condition clears before `for` never fires', async () => {
    expect((await api('POST', '/api/v1/alerts/rules', powerRule({ for: '1s' }))).status).toBe(201);
    const a = await agent('a');
    await a.send([power(600)]);
    await sleep(200);
    await a.send([power(300)]);
    expect(phaseOf(hub, 'high-power')).toBe('inactive');
    await sleep(1300); // past `for` and several timer ticks
    expect(await transitions(hub, 'high-power')).toEqual(['inactive>pending', 'pending>inactive']);
  });

  it('the `for` timer fires a pending alert without another sample', async () => {
    expect((await api('POST', '/api/v1/alerts/rules', powerRule({ for: '500ms' }))).status).toBe(201);
    const a = await agent('a');
    await a.send([power(600)]);
    await eventually(() => phaseOf(hub, 'high-power') === 'firing', 3000, 'the expiry to fire the alert');
    const [alert] = hub.alerts.activeAlerts({ ruleId: 'high-power' });
    expect(alert!.firedAt! - alert!.startsAt).toBe(500);
  });

  it('a backfilled breach does not fire; the live samples after it decide', async () => {
    expect((await api('POST', '/api/v1/alerts/rules', powerRule({ for: '0s' }))).status).toBe(201);
    const a = await agent('a');
    const t = Date.now() - 60_000;
    await a.send([0, 1, 2, 3].map((i) => sample(CHIP, t + i * 1000, { powerW: 600 })), { backfill: true });
    await sleep(600);
    expect(phaseOf(hub, 'high-power')).toBe('pending');
    expect(await transitions(hub, 'high-power')).toEqual(['inactive>pending']);
    await a.send([power(300)]);
    expect(await transitions(hub, 'high-power')).toEqual(['inactive>pending', 'pending>inactive']);
  });

  it('evaluates a rule only on the chips its selector takes', async () => {
    expect((await api('POST', '/api/v1/alerts/rules', powerRule({ selector: { host: ['b-host'] } }))).status).toBe(201);
    const a = await agent('a', [chipInfo(0, { chipId: 'GPU-a' })]);
    const b = await agent('b', [chipInfo(0, { chipId: 'GPU-b' })]);
    await a.send([power(600, 'GPU-a')]);
    await b.send([power(600, 'GPU-b')]);
    expect(hub.alerts.activeAlerts({ ruleId: 'high-power' }).map((x) => [x.chipId, x.phase])).toEqual([['GPU-b', 'firing']]);
    // Disabling the rule ends its alerts: a firing one resolves.
    const put = await api('PUT', '/api/v1/alerts/rules/high-power', powerRule({ selector: { host: ['b-host'] }, enabled: false }));
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(hub.alerts.activeAlerts({ ruleId: 'high-power' })).toEqual([]);
    expect(await transitions(hub, 'high-power', 'GPU-b')).toEqual(['inactive>pending', 'pending>firing', 'firing>resolved']);
  });
});

describe('liveness rules', () => {
  it('stale fires when an agent stops sending and resolves when it resumes', async () => {
    const put = await api('PUT', '/api/v1/alerts/rules/stale', { threshold: 5, severity: 'critical' });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toMatchObject({ source: 'builtin', override: { threshold: 5, severity: 'critical' }, rule: { id: 'stale', field: 'missedIntervals', threshold: 5, severity: 'critical' } });
    // Interval 100 ms: stale after 5 missed intervals (500 ms) without a sample.
    const a = await agent('a', [chipInfo(0)], 100);
    for (let i = 0; i < 8; i++) {
      await a.send([power(300)]);
      await sleep(50);
    }
    expect(phaseOf(hub, 'stale')).toBe('inactive');
    const stopped = Date.now();
    await eventually(() => phaseOf(hub, 'stale') === 'firing', 3000, 'stale to fire');
    const [alert] = hub.alerts.activeAlerts({ ruleId: 'stale' });
    expect(alert!.firedAt! - stopped).toBeGreaterThanOrEqual(400);
    expect(alert!.value).toBeGreaterThan(5);
    expect(alert!.severity).toBe('critical');
    await a.send([power(300)]);
    expect(phaseOf(hub, 'stale')).toBe('resolved');
    await a.send([power(300)]);
    expect(await transitions(hub, 'stale')).toEqual(['inactive>pending', 'pending>firing', 'firing>resolved', 'resolved>inactive']);
    // Counting again: silence fires it again.
    await eventually(() => phaseOf(hub, 'stale') === 'firing', 3000, 'stale to fire again');
  });

  it('agent-offline fires `for` after the disconnect and resolves when the agent is back', async () => {
    expect((await api('PUT', '/api/v1/alerts/rules/agent-offline', { for: '500ms' })).status).toBe(200);
    const a = await agent('a');
    await a.send([power(300)]);
    a.ws.close();
    await a.ws.waitClosed();
    const closed = Date.now();
    await eventually(() => phaseOf(hub, 'agent-offline') === 'pending', 2000, 'agent-offline pending');
    await eventually(() => phaseOf(hub, 'agent-offline') === 'firing', 3000, 'agent-offline to fire');
    const [alert] = hub.alerts.activeAlerts({ ruleId: 'agent-offline' });
    expect(alert!.firedAt! - alert!.startsAt).toBe(500);
    expect(alert!.firedAt! - closed).toBeGreaterThanOrEqual(400);
    expect(alert).toMatchObject({ severity: 'critical', labels: { alertname: 'AgentOffline', host: 'a-host' } });
    // Stale is not measured while the agent is away.
    expect(phaseOf(hub, 'stale')).toBe('inactive');
    await agent('a');
    expect(phaseOf(hub, 'agent-offline')).toBe('resolved');
    expect(await transitions(hub, 'agent-offline')).toEqual(['inactive>pending', 'pending>firing', 'firing>resolved']);
  });
});

describe('persistence', () => {
  it('after a restart a firing alert is still firing, and no second firing is recorded', async () => {
    const tmp = tempDir();
    const db = join(tmp.dir, 'hub.db');
    let h = await startHub({ port: 0, host: '127.0.0.1', db });
    try {
      const admin = h.tokens.create('admin', 'admin').token;
      const agentToken = h.tokens.create('agent', 'agent').token;
      expect((await api('POST', '/api/v1/alerts/rules', powerRule({ clear: { for: '200ms' } }), 'admin', h.port, admin)).status).toBe(201);
      let a = await agent('a', [chipInfo(0)], 1000, h.port, agentToken);
      await a.send([power(600)]);
      expect(phaseOf(h, 'high-power')).toBe('firing');
      const before = h.alerts.activeAlerts({ ruleId: 'high-power' })[0]!;
      expect((await api('PUT', '/api/v1/alerts/rules/agent-offline', { for: '400ms' }, 'admin', h.port, admin)).status).toBe(200);
      await h.close();

      const started = Date.now();
      h = await startHub({ port: 0, host: '127.0.0.1', db });
      // The hub stopping (its sockets closing) was not the agent going offline.
      expect(await transitions(h, 'agent-offline')).toEqual([]);
      const after = alertsAnswerSchema.parse((await api('GET', '/api/v1/alerts?rule=high-power', undefined, 'admin', h.port, admin)).body).alerts;
      expect(after).toEqual([before]);
      // The agent does not come back within agent-offline's `for` (400 ms): its chip's alert fires, counted from the start.
      await eventually(() => phaseOf(h, 'agent-offline') === 'firing', 3000, 'agent-offline after the restart');
      const offline = h.alerts.activeAlerts({ ruleId: 'agent-offline' })[0]!;
      expect(offline.startsAt - started).toBeGreaterThanOrEqual(0);
      expect(offline.firedAt! - offline.startsAt).toBe(400);
      a = await agent('a', [chipInfo(0)], 1000, h.port, agentToken);
      expect(phaseOf(h, 'agent-offline')).toBe('resolved');
      await a.send([power(650)]);
      expect(phaseOf(h, 'high-power')).toBe('firing');
      // The clear countdown (clear.for 200 ms) runs on the timer.
      await a.send([power(300)]);
      expect(phaseOf(h, 'high-power')).toBe('firing');
      await eventually(() => phaseOf(h, 'high-power') === 'resolved', 3000, 'clear.for to resolve it');
      expect(await transitions(h, 'high-power')).toEqual(['inactive>pending', 'pending>firing', 'firing>resolved']);
      // The rule came back from the database too.
      expect((await api('GET', '/api/v1/alerts/rules/high-power', undefined, 'admin', h.port, admin)).body).toMatchObject({ source: 'api', rule: { id: 'high-power' } });
    } finally {
      await h.close();
      tmp.cleanup();
    }
  });
});

describe('rules API', () => {
  const valid = powerRule();
  const cases: { name: string; method: 'POST' | 'PUT'; path?: string; body: unknown; status: number; field: string }[] = [
    { name: 'bad duration', method: 'POST', body: { ...valid, for: '1x' }, status: 400, field: 'for: invalid duration' },
    { name: 'unknown field', method: 'POST', body: { ...valid, thresold: 5 }, status: 400, field: 'thresold: unknown field' },
    { name: 'unknown op', method: 'POST', body: { ...valid, op: '=~' }, status: 400, field: 'op:' },
    { name: 'unknown rule field', method: 'POST', body: { ...valid, field: 'fanSpeed' }, status: 400, field: 'field:' },
    { name: 'clear threshold on the wrong side', method: 'POST', body: { ...valid, clear: { threshold: 600 } }, status: 400, field: 'clear.threshold:' },
    { name: 'reserved label', method: 'POST', body: { ...valid, labels: { chip: 'x' } }, status: 400, field: 'labels.chip: label "chip" is set by fleetscope itself' },
    { name: 'bad id', method: 'POST', body: { ...valid, id: 'Bad Id' }, status: 400, field: 'id:' },
    { name: 'missing threshold', method: 'POST', body: { ...valid, threshold: undefined }, status: 400, field: 'threshold:' },
    { name: 'bad selector vendor', method: 'POST', body: { ...valid, selector: { vendor: ['amd'] } }, status: 400, field: 'selector.vendor[0]:' },
    { name: 'liveness rule with and', method: 'POST', body: { ...valid, field: 'agentDisconnected', op: '==', threshold: 1, and: [{ field: 'powerW', op: '>', threshold: 1 }], clear: {} }, status: 400, field: 'and:' },
    { name: 'built-in id', method: 'POST', body: { ...valid, id: 'thermal' }, status: 409, field: 'id: "thermal" is a built-in rule' },
    { name: 'not JSON', method: 'POST', body: '{nope', status: 400, field: 'JSON' },
    { name: 'PUT id differs from the URL', method: 'PUT', path: 'other', body: valid, status: 400, field: 'id: must be "other"' },
    { name: 'override of a wrong type', method: 'PUT', path: 'thermal', body: { threshold: 'hot' }, status: 400, field: 'threshold:' },
    { name: 'override with an id', method: 'PUT', path: 'thermal', body: { id: 'thermal' }, status: 400, field: 'id: unknown field' },
    { name: 'override that breaks the merged rule', method: 'PUT', path: 'thermal', body: { threshold: 70 }, status: 400, field: 'clear.threshold: must be at most threshold (70)' },
  ];
  it.each(cases)('refuses $name ($status, naming the field)', async ({ method, path, body, status, field }) => {
    const res = await api(method, `/api/v1/alerts/rules${path ? `/${path}` : ''}`, body);
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(errorBodySchema.parse(res.body).message).toContain(field);
  });

  it('lists built-ins, API rules; adjusts, disables and resets a built-in', async () => {
    const list = alertRulesAnswerSchema.parse((await api('GET', '/api/v1/alerts/rules', undefined, 'viewer')).body);
    expect(list.rules.map((r) => r.rule.id)).toEqual(['stale', 'agent-offline', 'idle-powered', 'thermal', 'power-at-limit', 'ecc-uncorrected']);
    expect((await api('POST', '/api/v1/alerts/rules', valid)).status).toBe(201);
    expect((await api('POST', '/api/v1/alerts/rules', valid)).status).toBe(409);
    const off = await api('PUT', '/api/v1/alerts/rules/thermal', { enabled: false });
    expect(off.body).toMatchObject({ source: 'builtin', override: { enabled: false }, rule: { id: 'thermal', enabled: false, threshold: 85 } });
    const replaced = await api('PUT', '/api/v1/alerts/rules/high-power', { ...valid, threshold: 550 });
    expect(replaced.status).toBe(200);
    const created = await api('PUT', '/api/v1/alerts/rules/low-util', { name: 'LowUtil', field: 'utilPct', op: '<', threshold: 1 });
    expect(created.status).toBe(201);
    const after = alertRulesAnswerSchema.parse((await api('GET', '/api/v1/alerts/rules')).body).rules;
    expect(after.map((r) => `${r.source}:${r.rule.id}`)).toEqual(['builtin:stale', 'builtin:agent-offline', 'builtin:idle-powered', 'builtin:thermal', 'builtin:power-at-limit', 'builtin:ecc-uncorrected', 'api:high-power', 'api:low-util']);
    expect(after.find((r) => r.rule.id === 'high-power')!.rule.threshold).toBe(550);
    expect((await api('DELETE', '/api/v1/alerts/rules/thermal')).status).toBe(204);
    expect((await api('GET', '/api/v1/alerts/rules/thermal')).body).toMatchObject({ override: null, rule: { enabled: true } });
    expect((await api('DELETE', '/api/v1/alerts/rules/high-power')).status).toBe(204);
    expect((await api('GET', '/api/v1/alerts/rules/high-power')).status).toBe(404);
    expect((await api('DELETE', '/api/v1/alerts/rules/high-power')).status).toBe(404);
    const big = await api('POST', '/api/v1/alerts/rules', { ...valid, id: 'big', description: 'x'.repeat(70_000) });
    expect(big.status).toBe(413);
    const bad = await api('GET', '/api/v1/alerts/history?limit=0');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('limit:');
  });

  it.each([
    ['POST', '/api/v1/alerts/rules', valid],
    ['PUT', '/api/v1/alerts/rules/high-power', valid],
    ['PUT', '/api/v1/alerts/rules/thermal', { enabled: false }],
    ['DELETE', '/api/v1/alerts/rules/thermal', undefined],
  ] as const)('a viewer cannot %s %s (403); it can read', async (method, path, body) => {
    expect((await api(method, path, body, 'viewer')).status).toBe(403);
    expect((await api('GET', '/api/v1/alerts/rules', undefined, 'viewer')).status).toBe(200);
    expect((await api('GET', '/api/v1/alerts', undefined, 'viewer')).status).toBe(200);
    expect((await api('GET', '/api/v1/alerts/history', undefined, 'viewer')).status).toBe(200);
    expect((await api('GET', '/api/v1/alerts/rules/thermal')).body.rule.enabled).toBe(true);
  });
});

describe('/ws/live alerts topic', () => {
  it('sends the current alerts, then each transition as it happens', async () => {
    expect((await api('POST', '/api/v1/alerts/rules', powerRule())).status).toBe(201);
    const a = await agent('a');
    const live = await hub.ws('/ws/live');
    live.send({ v: 1, type: 'subscribe', sub: { topic: 'alerts' } });
    const snapshot = await live.waitFor((f) => f.type === 'alerts-snapshot');
    expect(snapshot.alerts).toEqual([]);
    await a.send([power(600)]);
    const frame = await live.waitFor((f) => f.type === 'alert');
    const events = frame.events.map((e: unknown) => alertEventSchema.parse(e));
    expect(events.map((e: { from: string; to: string }) => `${e.from}>${e.to}`)).toEqual(['inactive>pending', 'pending>firing']);
    expect(events[1]).toMatchObject({ ruleId: 'high-power', chipId: CHIP, value: 600, severity: 'warning', endsAt: null, labels: { alertname: 'HighPower' } });

    // A new subscriber's snapshot has the firing alert.
    const late = await hub.ws('/ws/live');
    late.send({ v: 1, type: 'subscribe', sub: { topic: 'alerts' } });
    const snap = await late.waitFor((f) => f.type === 'alerts-snapshot');
    expect(snap.alerts.map((x: { ruleId: string; phase: string }) => `${x.ruleId}:${x.phase}`)).toEqual(['high-power:firing']);
    // Fleet subscribers do not get alert frames.
    expect(live.frames.filter((f) => f.type === 'fleet-update' || f.type === 'fleet-snapshot')).toEqual([]);
  });
});

describe('rules file', () => {
  const fileRule = { id: 'hot-mem', name: 'MemHigh', field: 'memUsedPct', op: '>', threshold: 90, for: '1m' };

  it('is loaded at start with the built-ins adjusted, and reloaded by reloadRules (a bad file keeps the old rules)', async () => {
    await hub.stop();
    const tmp = tempDir();
    const file = join(tmp.dir, 'rules.yaml');
    writeFileSync(file, ['builtins:', '  thermal: { threshold: 90, clear: { threshold: 85 } }', '  idle-powered: { enabled: false }', 'rules:', `  - ${JSON.stringify(fileRule)}`].join('\n'));
    hub = await startTestHub({ rulesFile: file });
    try {
      const rules = () => hub.alerts.rules().map((r) => `${r.source}:${r.rule.id}:${r.rule.enabled}:${r.rule.threshold}`);
      expect(rules()).toContain('builtin:thermal:true:90');
      expect(rules()).toContain('builtin:idle-powered:false:5');
      expect(rules()).toContain('file:hot-mem:true:90');
      // The API cannot change a file rule; the API's override goes over the file's.
      expect((await api('PUT', '/api/v1/alerts/rules/hot-mem', fileRule)).status).toBe(409);
      expect((await api('DELETE', '/api/v1/alerts/rules/hot-mem')).status).toBe(409);
      expect((await api('PUT', '/api/v1/alerts/rules/thermal', { severity: 'info' })).body.rule).toMatchObject({ threshold: 90, severity: 'info' });

      writeFileSync(file, 'rules:\n  - { id: hot-mem, name: MemHigh, field: memUsedPct, op: ">", threshold: 90, for: "1y" }\n');
      const bad = hub.reloadRules();
      expect(bad.ok).toBe(false);
      expect(!bad.ok && bad.errors.join()).toContain('rules[0].for: invalid duration "1y"');
      expect(rules()).toContain('file:hot-mem:true:90');

      writeFileSync(file, 'rules:\n  - { id: hot-mem-2, name: MemHigher, field: memUsedPct, op: ">", threshold: 95 }\n');
      expect(hub.reloadRules()).toEqual({ ok: true, rules: 7 });
      expect(rules()).toContain('file:hot-mem-2:true:95');
      expect(rules()).not.toContain('file:hot-mem:true:90');
      expect(rules()).toContain('builtin:thermal:true:85');
    } finally {
      tmp.cleanup();
    }
  });

  it('a real hub process refuses a bad file at start (exit 2, naming the field) and reloads on SIGHUP', { timeout: 60_000 }, async () => {
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, 'rules.json');
      const db = join(tmp.dir, 'hub.db');
      writeFileSync(file, JSON.stringify({ rules: [{ ...fileRule, threshold: 'high' }] }));
      const refused = runFleetscope(['hub', '--port', '0', '--host', '127.0.0.1', '--db', db, '--open', '--rules', file]);
      expect(await refused.exited).toBe(2);
      expect(refused.stderr()).toContain('rules[0].threshold');

      writeFileSync(file, JSON.stringify({ builtins: { stale: { threshold: 5 } }, rules: [fileRule] }));
      const p = runFleetscope(['hub', '--port', '0', '--host', '127.0.0.1', '--db', db, '--open', '--rules', file, '--log-format', 'json']);
      try {
        await eventually(() => /listening on/.test(p.stdout()), 30_000, `the hub to listen; stderr: ${p.stderr()}`);
        const url = /listening on (\S+)/.exec(p.stdout())![1]!;
        const ids = async () => ((await (await fetch(`${url}/api/v1/alerts/rules`)).json()) as { rules: { source: string; rule: { id: string; threshold: number } }[] }).rules.map((r) => `${r.source}:${r.rule.id}:${r.rule.threshold}`);
        expect(await ids()).toEqual(expect.arrayContaining(['builtin:stale:5', 'file:hot-mem:90']));

        writeFileSync(file, '{ "rules": [ oops');
        p.child.kill('SIGHUP');
        await eventually(() => p.jsonLogs().some((l) => l.msg?.startsWith('alert rules file refused')), 10_000, 'the refusal to be logged');
        expect(await ids()).toEqual(expect.arrayContaining(['builtin:stale:5', 'file:hot-mem:90']));

        writeFileSync(file, JSON.stringify({ rules: [{ ...fileRule, threshold: 80 }] }));
        p.child.kill('SIGHUP');
        await eventually(async () => (await ids()).includes('file:hot-mem:80'), 10_000, 'the reload');
        expect(await ids()).toContain('builtin:stale:3');
      } finally {
        p.child.kill('SIGTERM');
        await p.exited;
      }
    } finally {
      tmp.cleanup();
    }
  });
});
