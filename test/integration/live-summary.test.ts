/**
 * The `summary` topic and the filtered `alerts` topic of /ws/live in a real hub (port 0, temporary
 * SQLite file): the summary's figures are what /api/v1/chips and /api/v1/alerts imply, and an
 * `alerts` subscriber with a filter gets only the alerts of matching chips.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChipInfo, Sample } from '../../schema/sample.ts';
import { chipInfo, hello, sample } from '../helpers/frames.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';
import { eventually, type TestSocket } from '../helpers/ws-client.ts';

let hub: TestHub;
beforeEach(async () => {
  hub = await startTestHub();
});
afterEach(async () => {
  await hub?.stop();
});

let lastTs = 0;
const now = () => (lastTs = Math.max(Date.now(), lastTs + 1));

async function agent(id: string, chips: ChipInfo[], instanceType = 'p5.48xlarge') {
  const ws = await hub.ws('/ws/agent');
  ws.send(hello(id, chips, { host: { hostname: `${id}-host`, instanceId: null, instanceType } }));
  await ws.waitFor((f) => f.type === 'welcome');
  let seq = 0;
  return {
    ws,
    async send(samples: Sample[]) {
      const s = seq++;
      ws.send({ v: 1, type: 'batch', seq: s, samples });
      const ack = await ws.waitFor((f) => (f.type === 'ack' || f.type === 'error') && f.seq === s);
      expect(ack.type, JSON.stringify(ack)).toBe('ack');
    },
  };
}

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${hub.port}${path}`, {
    method,
    headers: { ...hub.auth('admin'), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const of = (ws: TestSocket, type: string) => ws.frames.filter((f) => f.type === type);

describe('summary topic', () => {
  it('gives the counts /api/v1/chips and /api/v1/alerts imply, at once and then about once a second', async () => {
    // Two hosts: 3 GPUs (one idle but powered, one without utilization), 2 Trainium chips.
    const a = await agent('a', [0, 1, 2].map((i) => chipInfo(i, { chipId: `GPU-a-${i}` })));
    const b = await agent('b', [0, 1].map((i) => chipInfo(i, { chipId: `TRN-b-${i}`, vendor: 'aws', model: 'Trainium2' })), 'trn2.48xlarge');
    await a.send([sample('GPU-a-0', now(), { utilPct: 90, powerW: 650 }), sample('GPU-a-1', now(), { utilPct: 2, powerW: 120 }), sample('GPU-a-2', now(), { utilPct: null, powerW: 300 })]);
    await b.send([sample('TRN-b-0', now(), { utilPct: 40, powerW: 200 }), sample('TRN-b-1', now(), { utilPct: 60, powerW: null })]);
    const rule = await api('POST', '/api/v1/alerts/rules', { id: 'hot', name: 'Hot', field: 'powerW', op: '>', threshold: 600, for: '0s', severity: 'critical', selector: { chip: ['GPU-a-0'] } });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    await a.send([sample('GPU-a-0', now(), { utilPct: 90, powerW: 650 })]);
    // b's agent leaves: its chips go offline.
    b.ws.close();
    await eventually(() => hub.fleet.list().filter((c) => c.status === 'offline').length === 2, 3000, 'b offline');

    const ws = await hub.ws('/ws/live');
    ws.send({ v: 1, type: 'subscribe', sub: { topic: 'summary' } });
    const first = await ws.waitFor((f) => f.type === 'summary');

    const chips = (await hub.get('/api/v1/chips')).body.chips as { status: string; latest: Sample | null }[];
    const live = chips.filter((c) => c.status === 'live');
    const utils = live.map((c) => c.latest?.utilPct).filter((u): u is number => u != null);
    const idle = live.filter((c) => c.latest?.utilPct != null && c.latest.utilPct < 5 && (c.latest.powerW ?? 0) > 0);
    const alerts = (await hub.get('/api/v1/alerts')).body.alerts as { phase: string; severity: string; ruleId: string }[];
    const count = (phase: string) => Object.fromEntries(['critical', 'warning', 'info'].map((sev) => [sev, alerts.filter((x) => x.phase === phase && x.severity === sev).length]));
    expect(first).toMatchObject({
      v: 1,
      chips: { total: chips.length, live: live.length, stale: chips.filter((c) => c.status === 'stale').length, offline: 2 },
      idlePowered: idle.length,
      alerts: { firing: count('firing'), pending: count('pending') },
    });
    const firing = alerts.filter((x) => x.phase === 'firing' && x.ruleId === 'hot');
    expect(first.chips).toEqual({ total: 5, live: 3, stale: 0, offline: 2 });
    expect(first.powerW).toBeCloseTo(live.reduce((s, c) => s + (c.latest?.powerW ?? 0), 0), 6);
    expect(first.powerW).toBeCloseTo(650 + 120 + 300, 6);
    expect(first.avgUtilPct).toBeCloseTo(utils.reduce((s, u) => s + u, 0) / utils.length, 6);
    expect(first.avgUtilPct).toBeCloseTo(46, 6);
    expect([first.idlePowered, first.idlePowerW]).toEqual([1, 120]);
    expect(firing).toHaveLength(1);
    expect(Math.abs(first.at - Date.now())).toBeLessThan(2000);

    // Then about once a second, and nothing else on this socket.
    await eventually(() => of(ws, 'summary').length >= 3, 3500, 'two more summaries');
    const at = of(ws, 'summary').map((f) => f.at);
    expect(at[2] - at[1]).toBeGreaterThanOrEqual(800);
    expect(at[2] - at[1]).toBeLessThan(1500);
    expect(new Set(ws.frames.map((f) => f.type))).toEqual(new Set(['summary']));
    ws.send({ v: 1, type: 'unsubscribe', sub: { topic: 'summary' } });
    await new Promise((r) => setTimeout(r, 100));
    const n = ws.frames.length;
    await new Promise((r) => setTimeout(r, 1300));
    expect(ws.frames.length).toBe(n);
  }, 20_000);
});

describe('alerts topic with a filter', () => {
  it('a filtered subscriber gets only the alerts of matching chips, in the snapshot and in alert frames; an unfiltered one all', async () => {
    const rule = await api('POST', '/api/v1/alerts/rules', { id: 'hot', name: 'Hot', field: 'powerW', op: '>', threshold: 600, for: '0s', severity: 'warning' });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    const a = await agent('a', [0, 1].map((i) => chipInfo(i, { chipId: `GPU-a-${i}` })));
    const b = await agent('b', [0, 1].map((i) => chipInfo(i, { chipId: `TRN-b-${i}`, vendor: 'aws', model: 'Trainium2' })), 'trn2.48xlarge');
    // One chip of each host fires before anyone subscribes (the snapshot), the others after (alert frames).
    await a.send([sample('GPU-a-0', now(), { powerW: 650 })]);
    await b.send([sample('TRN-b-0', now(), { powerW: 650 })]);

    const subscribe = async (filter?: object) => {
      const ws = await hub.ws('/ws/live');
      ws.send({ v: 1, type: 'subscribe', sub: { topic: 'alerts', ...(filter ? { filter } : {}) } });
      await ws.waitFor((f) => f.type === 'alerts-snapshot');
      return ws;
    };
    const all = await subscribe();
    const aws = await subscribe({ vendor: ['aws'] });
    const hostA = await subscribe({ hostExact: ['a-host'] });
    const substr = await subscribe({ host: 'B-HO' });
    const chip = await subscribe({ chipId: ['GPU-a-1'] });
    const none = await subscribe({ model: ['MI300X'] });

    const snapshotChips = (ws: TestSocket) => of(ws, 'alerts-snapshot')[0].alerts.filter((x: { ruleId: string }) => x.ruleId === 'hot').map((x: { chipId: string }) => x.chipId).sort();
    expect(snapshotChips(all)).toEqual(['GPU-a-0', 'TRN-b-0']);
    expect(snapshotChips(aws)).toEqual(['TRN-b-0']);
    expect(snapshotChips(hostA)).toEqual(['GPU-a-0']);
    expect(snapshotChips(substr)).toEqual(['TRN-b-0']);
    expect(snapshotChips(chip)).toEqual([]);
    expect(snapshotChips(none)).toEqual([]);

    await a.send([sample('GPU-a-1', now(), { powerW: 700 })]);
    await b.send([sample('TRN-b-1', now(), { powerW: 700 })]);
    // The chips whose `hot` alert changed (the builtin rules may add their own transitions).
    const eventChips = (ws: TestSocket) => [...new Set(of(ws, 'alert').flatMap((f) => f.events.filter((e: { ruleId: string }) => e.ruleId === 'hot').map((e: { chipId: string }) => e.chipId)))].sort();
    await eventually(() => eventChips(all).length === 2, 3000, 'both transitions to the unfiltered subscriber');
    await eventually(() => eventChips(aws).length === 1 && eventChips(hostA).length === 1 && eventChips(chip).length === 1 && eventChips(substr).length === 1, 3000, 'the filtered ones');
    // Every event a filtered subscriber got is of its chips.
    const allChips = (ws: TestSocket) => new Set(of(ws, 'alert').flatMap((f) => f.events.map((e: { chipId: string }) => e.chipId)));
    expect([...allChips(aws)].every((id) => id.startsWith('TRN-'))).toBe(true);
    expect([...allChips(hostA)].every((id) => id.startsWith('GPU-a-'))).toBe(true);
    expect([...allChips(chip)]).toEqual(['GPU-a-1']);
    expect(eventChips(all)).toEqual(['GPU-a-1', 'TRN-b-1']);
    expect(eventChips(aws)).toEqual(['TRN-b-1']);
    expect(eventChips(hostA)).toEqual(['GPU-a-1']);
    expect(eventChips(substr)).toEqual(['TRN-b-1']);
    expect(eventChips(chip)).toEqual(['GPU-a-1']);
    // No frame at all for a subscriber none of whose chips has an alert.
    expect(of(none, 'alert')).toEqual([]);
    expect(of(none, 'alerts-snapshot')[0].alerts).toEqual([]);

    // A new subscribe replaces the filter and brings a new snapshot.
    aws.send({ v: 1, type: 'subscribe', sub: { topic: 'alerts', filter: { vendor: ['nvidia'] } } });
    await eventually(() => of(aws, 'alerts-snapshot').length === 2, 3000, 'the second snapshot');
    const second = of(aws, 'alerts-snapshot')[1].alerts as { chipId: string; ruleId: string }[];
    expect(second.filter((x) => x.ruleId === 'hot').map((x) => x.chipId).sort()).toEqual(['GPU-a-0', 'GPU-a-1']);
    expect(second.every((x) => x.chipId.startsWith('GPU-'))).toBe(true);
  }, 20_000);

  it('refuses a filter of the wrong shape', async () => {
    const ws = await hub.ws('/ws/live');
    ws.send({ v: 1, type: 'subscribe', sub: { topic: 'alerts', filter: { vendor: 'aws' } } });
    const err = await ws.waitFor((f) => f.type === 'error');
    expect(err.code).toBeTruthy();
    ws.send({ v: 1, type: 'subscribe', sub: { topic: 'summary', filter: {} } });
    await eventually(() => of(ws, 'error').length === 2, 3000, 'a second error');
  });
});
