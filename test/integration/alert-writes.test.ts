/**
 * Alerting's hot writes through Drizzle, on SQLite and on PostgreSQL side by side: a pass of state
 * writes and transitions (one small, one of 13,000 transitions: more rows than one PostgreSQL
 * statement takes, deletions across several rules, the same alert written twice in a pass) reads
 * back the same on both — the last state of each alert, every event in the order given, startsAt
 * and endsAt kept — and the notification outbox (outbox.ts, pg-outbox.ts) answers the same calls
 * the same way on both: enqueue (once per key), the open window, heads in id order, claims
 * (once; on PostgreSQL only when due), done, retry, dead letters and their revival, prune.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../bench/support/temp-dir.ts';
import type { AlertEvent } from '../../server/alerts/alert-events.ts';
import { openAlertStore, type AlertStore, type StateWrite } from '../../server/alerts/alert-store.ts';
import { openPgAlertStore } from '../../server/alerts/pg-alert-store.ts';
import { Outbox } from '../../server/alerts/outbox.ts';
import { PgOutbox } from '../../server/alerts/pg-outbox.ts';
import { connectPg, type PgConnection } from '../../server/store/pg/pg-connection.ts';
import { PG_URL } from '../helpers/store-contract.ts';

const T0 = 1_760_000_000_000;
const schema = `fs_alert_writes_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const tmp = tempDir();
let conn: PgConnection;
let sqlite: AlertStore;
let pgStore: AlertStore;

beforeAll(async () => {
  conn = await connectPg(PG_URL, { schema, maxConnections: 4 });
  sqlite = openAlertStore(join(tmp.dir, 'hub.db'));
  pgStore = await openPgAlertStore(conn.pool);
});
afterAll(async () => {
  sqlite?.close();
  await pgStore?.close();
  await conn?.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await conn?.pool.end();
  tmp.cleanup();
});

function event(i: number, over: Partial<AlertEvent> = {}): AlertEvent {
  const chipId = `GPU-w-${i % 5000}`;
  const to = i % 3 === 0 ? 'resolved' : 'firing';
  const labels = { alertname: 'W', chip: chipId, n: String(i % 7) };
  return {
    ruleId: `rule-${i % 4}`,
    chipId,
    from: to === 'resolved' ? 'firing' : 'pending',
    to,
    at: T0 + i,
    value: i % 5 === 0 ? null : i + 0.5,
    severity: i % 2 ? 'warning' : 'critical',
    labels,
    annotations: { summary: `${chipId} ${i} °C "quoted"` },
    fingerprint: `fp${i}`,
    startsAt: T0 - i,
    endsAt: to === 'resolved' ? T0 + i : null,
    ...over,
  };
}

/** A state write of event i's alert: deleted (back to inactive) for every third. */
const stateOf = (e: AlertEvent, i: number): StateWrite => ({ ruleId: e.ruleId, chipId: e.chipId, state: i % 3 === 0 ? null : { phase: e.to, n: i }, labels: e.labels });

const read = async (store: AlertStore) => ({
  states: store === sqlite ? store.loadStates() : ((await conn.pool.query('SELECT rule_id, chip_id, state, labels, updated_at FROM alert_states')).rows as { rule_id: string; chip_id: string; state: string; labels: string; updated_at: number }[]).map((r) => ({ ruleId: r.rule_id, chipId: r.chip_id, state: JSON.parse(r.state) as unknown, labels: JSON.parse(r.labels) as Record<string, string>, updatedAt: r.updated_at })),
  events: (await store.history({ from: 0, to: Number.MAX_SAFE_INTEGER, limit: 100_000 })).reverse(),
});
const byKey = <T extends { ruleId: string; chipId: string }>(xs: T[]) => [...xs].sort((a, b) => (a.ruleId + a.chipId < b.ruleId + b.chipId ? -1 : 1));

describe('alert states and transitions through Drizzle', () => {
  it('a small pass and a pass of 13,000 transitions read back the same on SQLite and PostgreSQL', async () => {
    const small = [event(1), event(2), event(3)];
    const big = Array.from({ length: 13_000 }, (_, i) => event(i + 10));
    for (const store of [sqlite, pgStore]) {
      await store.write(small.map((e, i) => stateOf(e, i + 1)), small, T0);
      // Each alert of the big pass written twice in it: the last write wins.
      const states = big.flatMap((e, i) => [{ ...stateOf(e, i + 10), state: { phase: 'pending' } }, stateOf(e, i + 10)]);
      await store.write(states, big, T0 + 1);
    }
    const [a, b] = [await read(sqlite), await read(pgStore)];
    expect(a.events).toHaveLength(13_003);
    // Events in the order given (ids ascending), every field kept.
    const strip = (e: { id: number }) => ({ ...e, id: 0 });
    expect(a.events.map(strip)).toEqual([...small, ...big].map((e) => ({ ...e, id: 0 })));
    expect(b.events.map(strip)).toEqual(a.events.map(strip));
    expect(b.events.map((e) => e.id)).toEqual([...b.events.map((e) => e.id)].sort((x, y) => x - y));
    // The last state of each alert; the deleted ones gone.
    const expected = new Map<string, unknown>();
    [...small.map((e, i) => [e, i + 1] as const), ...big.map((e, i) => [e, i + 10] as const)].forEach(([e, i]) => {
      const k = `${e.ruleId}/${e.chipId}`;
      if (i % 3 === 0) expected.delete(k);
      else expected.set(k, { phase: e.to, n: i });
    });
    expect(a.states).toHaveLength(expected.size);
    for (const s of a.states) expect(s.state).toEqual(expected.get(`${s.ruleId}/${s.chipId}`));
    expect(byKey(b.states)).toEqual(byKey(a.states));
  }, 60_000);

  it('pruned events and deleted states are gone on both', async () => {
    for (const store of [sqlite, pgStore]) {
      await store.write([{ ruleId: 'rule-x', chipId: 'GPU-x', state: { phase: 'firing' }, labels: { a: 'b' } }], [], T0 + 2);
      await store.write([{ ruleId: 'rule-x', chipId: 'GPU-x', state: null, labels: { a: 'b' } }], [event(99_999, { ruleId: 'rule-x', chipId: 'GPU-x', at: T0 + 50_000 })], T0 + 3);
    }
    expect(sqlite.pruneEvents(T0 + 20_000)).toBe(13_003);
    pgStore.pruneEvents(T0 + 20_000);
    for (let i = 0; i < 100 && (await pgStore.history({ from: 0, to: T0 + 20_000, limit: 1 })).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    for (const store of [sqlite, pgStore]) {
      const { states, events } = await read(store);
      expect(events.map((e) => e.ruleId)).toEqual(['rule-x']);
      expect(states.some((s) => s.ruleId === 'rule-x')).toBe(false);
    }
  });
});

describe('texts shared by alert events, stored once', () => {
  // A flapping alert: the same labels and description at every transition, the summary's value
  // changing (some values repeating).
  const labels = { alertname: 'ChipPowerAtLimit', chip: 'GPU-flap', host: 'host-a', model: 'H100 80GB HBM3', rule: 'power-at-limit', severity: 'info', vendor: 'nvidia' };
  const description = 'The chip is held at its power limit (clocks are lowered to stay under it).';
  const flap = (i: number): AlertEvent => ({
    ruleId: 'power-at-limit',
    chipId: 'GPU-flap',
    from: i % 2 ? 'pending' : 'inactive',
    to: i % 2 ? 'inactive' : 'pending',
    at: T0 + i * 1000,
    value: 97 + (i % 4),
    severity: 'info',
    labels,
    annotations: { summary: `GPU-flap on host-a at ${97 + (i % 4)} % of its power limit`, description },
    fingerprint: 'fp-flap',
    startsAt: T0 + (i - (i % 2)) * 1000,
    endsAt: null,
  });
  const events = Array.from({ length: 400 }, (_, i) => flap(i));
  const schema2 = `${schema}_texts`;
  const tmp2 = tempDir();
  let conn2: PgConnection;
  let lite: AlertStore;
  let pgs: AlertStore;
  const liteDb = () => new Database(join(tmp2.dir, 'hub.db'), { readonly: true });
  beforeAll(async () => {
    conn2 = await connectPg(PG_URL, { schema: schema2, maxConnections: 2 });
    lite = openAlertStore(join(tmp2.dir, 'hub.db'));
    pgs = await openPgAlertStore(conn2.pool);
  });
  afterAll(async () => {
    lite?.close();
    await pgs?.close();
    await conn2?.pool.query(`DROP SCHEMA IF EXISTS ${schema2} CASCADE`);
    await conn2?.pool.end();
    tmp2.cleanup();
  });

  it('400 transitions of one alert read back whole, their labels and repeated texts stored once', async () => {
    for (const store of [lite, pgs]) for (let i = 0; i < events.length; i += 100) await store.write([], events.slice(i, i + 100), T0);
    const strip = (e: { id: number }) => ({ ...e, id: 0 });
    const want = events.map((e) => ({ ...e, id: 0 }));
    expect((await lite.history({ from: 0, to: Number.MAX_SAFE_INTEGER, limit: 1000 })).reverse().map(strip)).toEqual(want);
    expect((await pgs.history({ from: 0, to: Number.MAX_SAFE_INTEGER, limit: 1000 })).reverse().map(strip)).toEqual(want);
    const db = liteDb();
    try {
      // The labels, and the annotations without the value: two texts, whatever the number of events.
      expect(db.prepare('SELECT count(*) FROM alert_texts').pluck().get()).toBe(2);
      const row = db.prepare('SELECT avg(length(labels) + length(annotations)) AS b, sum(labels LIKE \'#%\') AS refs FROM alert_events').get() as { b: number; refs: number };
      expect(row.refs).toBe(400);
      const inline = JSON.stringify(labels).length + JSON.stringify({ ...events[9].annotations, __startsAt: String(T0) }).length;
      expect(row.b).toBeLessThan(inline / 4);
      // The columns every transition shares, once; a transition row holds its key, phases, time, value and annotations.
      expect(db.prepare('SELECT count(*) FROM alert_series').pluck().get()).toBe(1);
      expect(db.prepare('SELECT count(*) FROM alert_transitions').pluck().get()).toBe(400);
      const perTransition = db.prepare("SELECT sum(payload) FROM dbstat WHERE name LIKE 'alert_transitions%'").pluck().get() as number;
      expect(perTransition / 400).toBeLessThan(80);
    } finally {
      db.close();
    }
    expect(Number((await conn2.pool.query('SELECT count(*) AS n FROM alert_texts')).rows[0].n)).toBe(2);
  });

  it('a write that failed stores its texts with the next event that names them', async () => {
    const bad = { ...flap(0), ruleId: null as unknown as string, labels: { ...labels, chip: 'GPU-failed' }, at: T0 + 900_000 };
    const good = { ...flap(0), labels: { ...labels, chip: 'GPU-failed' }, annotations: { summary: 'a summary seen once', description }, at: T0 + 900_001, fingerprint: 'fp-failed' };
    for (const store of [lite, pgs]) {
      await expect(store.write([], [bad], T0)).rejects.toThrow();
      await store.write([], [good], T0);
      const [got] = await store.history({ from: good.at, to: good.at, limit: 10 });
      expect({ ...got, id: 0 }).toEqual({ ...good, id: 0 });
    }
  });

  it('a prune keeps the texts of kept events and drops the rest an hour past the cutoff', async () => {
    const late = { ...flap(0), labels: { ...labels, chip: 'GPU-late' }, at: T0 + 10 * 3_600_000, fingerprint: 'fp-late' };
    for (const store of [lite, pgs]) await store.write([], [late], T0);
    const cutoff = T0 + 5 * 3_600_000;
    lite.pruneEvents(cutoff);
    pgs.pruneEvents(cutoff);
    const pgTexts = async () => ((await conn2.pool.query('SELECT text FROM alert_texts ORDER BY text')).rows as { text: string }[]).map((r) => r.text);
    for (let i = 0; i < 100 && (await pgTexts()).length > 2; i++) await new Promise((r) => setTimeout(r, 50));
    const db = liteDb();
    try {
      const texts = (db.prepare('SELECT text FROM alert_texts ORDER BY text').pluck().all() as string[]);
      // The late event's labels and its (already shared) annotations without the value; the flapping alert's labels gone.
      expect(texts).toEqual([JSON.stringify(late.annotations).replace('at 97 %', 'at \u0001 %'), JSON.stringify(late.labels)].sort());
      expect(await pgTexts()).toEqual(texts);
      // The flapping alert's series went with its last transition; the late one's stays.
      expect(db.prepare('SELECT chip_id, fingerprint FROM alert_series').all()).toEqual([{ chip_id: 'GPU-flap', fingerprint: 'fp-late' }]);
    } finally {
      db.close();
    }
    for (const store of [lite, pgs]) {
      const [got] = await store.history({ from: 0, to: Number.MAX_SAFE_INTEGER, limit: 10 });
      expect({ ...got, id: 0 }).toEqual({ ...late, id: 0 });
    }
  });
});

describe('the outbox through Drizzle', () => {
  it('answers the same calls the same way on SQLite and PostgreSQL', async () => {
    let clock = T0;
    const sq = Outbox.open(join(tmp.dir, 'hub.db'));
    const pq = new PgOutbox(conn.pool, 'hub-test', () => clock);
    try {
      const script = async (o: Outbox | PgOutbox) => {
        const log: unknown[] = [];
        const a = (await o.enqueue({ receiver: 'r1', idempotencyKey: 'k1', body: 'b1', nextAt: T0 }, T0))!;
        const b = (await o.enqueue({ receiver: 'r1', idempotencyKey: 'k2', body: 'b2', nextAt: T0 }, T0))!;
        const c = (await o.enqueue({ receiver: 'r2', idempotencyKey: 'k1', body: 'c1', nextAt: T0 + 5000 }, T0))!;
        log.push(await o.enqueue({ receiver: 'r1', idempotencyKey: 'k1', body: 'again', nextAt: T0 }, T0));
        log.push(b - a, c - a);
        log.push(await o.updateOpen(a, 'b1 grouped'));
        const heads = await o.heads();
        log.push(heads.map((h) => [h.id - a, h.receiver, h.body, h.attempts, h.status]));
        log.push(o.pendingCount('r1'), o.pendingCount('r2'), o.pendingCount('none'));
        log.push(await o.claim({ id: a, attempts: 0 }, T0 + 800), await o.claim({ id: a, attempts: 0 }, T0 + 800));
        log.push(await o.updateOpen(a, 'too late'));
        await o.markRetry(a, T0 + 100, 'HTTP 500');
        log.push(await o.get(a));
        clock = T0 + 100;
        log.push(await o.claim({ id: a, attempts: 1 }, T0 + 900));
        await o.markDone(a, T0 + 150);
        log.push(await o.get(a));
        log.push(await o.claim({ id: b, attempts: 0 }, T0 + 800));
        await o.markDead(b, 'HTTP 400', T0 + 160);
        log.push(await o.deadLetters(), await o.deadLetters(0));
        log.push((await o.heads()).map((h) => h.id - a));
        log.push(await o.retryDead(b, T0 + 170), await o.retryDead(b, T0 + 170), await o.retryDead(999_999, T0));
        log.push((await o.all()).map((r) => ({ ...r, claimedBy: undefined })));
        log.push(await o.prune(T0 + 151, T0 + 1000), await o.prune(T0 + 151, T0 + 1000));
        log.push(await o.get(a));
        return JSON.parse(JSON.stringify(log, (k, v) => (k === 'id' && typeof v === 'number' ? v - a : v))) as unknown[];
      };
      const [onSqlite, onPg] = [await script(sq), await script(pq)];
      expect(onPg).toEqual(onSqlite);
      expect(onSqlite).toMatchObject([
        null,
        1,
        2,
        true,
        [
          [0, 'r1', 'b1 grouped', 0, 'pending'],
          [2, 'r2', 'c1', 0, 'pending'],
        ],
        2,
        1,
        0,
        true,
        false,
        false,
        { id: 0, attempts: 1, nextAt: T0 + 100, status: 'pending', lastError: 'HTTP 500', body: 'b1 grouped' },
        true,
        { id: 0, attempts: 2, nextAt: T0 + 150, status: 'done', lastError: null },
        true,
        [{ id: 1, status: 'dead', attempts: 1, lastError: 'HTTP 400', nextAt: T0 + 160 }],
        [],
        [2],
        { id: 1, status: 'pending', attempts: 0, nextAt: T0 + 170, lastError: 'HTTP 400' },
        null,
        null,
        [
          { id: 0, status: 'done', body: 'b1 grouped', attempts: 2 },
          { id: 1, status: 'pending', body: 'b2' },
          { id: 2, status: 'pending', body: 'c1' },
        ],
        1,
        0,
        null,
      ]);
      // PostgreSQL keeps who claimed; a row not yet due is not claimed there.
      expect((await pq.all()).map((r) => r.claimedBy)).toEqual(['hub-test', null]);
      const later = (await pq.enqueue({ receiver: 'r3', idempotencyKey: 'k9', body: 'x', nextAt: clock + 60_000 }, clock))!;
      expect(await pq.claim({ id: later, attempts: 0 }, clock + 800)).toBe(false);
    } finally {
      sq.close();
    }
  });
});
