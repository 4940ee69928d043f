/**
 * The SQLite history as alert_series + alert_transitions (migration 0011, alert-history-rows.ts),
 * on real database files: a file written before the migration (its table alert_events, texts
 * inline and shared) reads back exactly as before after the hub opens it, ids kept and continued;
 * every pair of phases reads back; a series' last_at is written at most once per TEXT_REFRESH_MS,
 * and a series the prune dropped is written again when its alert comes back.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../bench/support/temp-dir.ts';
import type { AlertEvent } from '../../server/alerts/alert-events.ts';
import { PHASES, phasesCode } from '../../server/alerts/alert-history-rows.ts';
import { openAlertStore, type AlertStore } from '../../server/alerts/alert-store.ts';
import { TEXT_REFRESH_MS, textHash } from '../../server/alerts/alert-texts.ts';
import { MIGRATIONS_DIR } from '../../server/store/sqlite-store.ts';

const T0 = 1_760_000_000_000;
const tmp = tempDir();
const stores: AlertStore[] = [];
afterAll(() => {
  for (const s of stores) s.close();
  tmp.cleanup();
});
const open = (file: string) => {
  const s = openAlertStore(file);
  stores.push(s);
  return s;
};
const all = async (s: AlertStore) => (await s.history({ from: 0, to: Number.MAX_SAFE_INTEGER, limit: 10_000 })).reverse();

function event(i: number, over: Partial<AlertEvent> = {}): AlertEvent {
  return {
    ruleId: 'thermal',
    chipId: `GPU-h-${i % 3}`,
    from: 'pending',
    to: 'firing',
    at: T0 + i * 1000,
    value: 85 + i,
    severity: 'critical',
    labels: { alertname: 'ChipHot', chip: `GPU-h-${i % 3}`, host: 'h' },
    annotations: { summary: `GPU-h-${i % 3} at ${85 + i} °C` },
    fingerprint: `fp-${i % 3}`,
    startsAt: T0 + i * 1000 - 60_000,
    endsAt: null,
    ...over,
  };
}

describe('the alert history as series and transitions', () => {
  it('a file written before migration 0011 reads back as it was, its ids kept and continued', async () => {
    // The migrations up to 0010, as a hub of the version before would have applied them.
    const before = join(tmp.dir, 'migrations-0010');
    cpSync(MIGRATIONS_DIR, before, { recursive: true });
    const journalPath = join(before, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
    journal.entries = journal.entries.filter((e) => e.tag < '0011');
    writeFileSync(journalPath, JSON.stringify(journal));
    const file = join(tmp.dir, 'before.db');
    const raw = new Database(file);
    migrate(drizzle(raw), { migrationsFolder: before });
    const labels = { alertname: 'ChipHot', chip: 'GPU-old', host: 'h' };
    const shared = JSON.stringify(labels);
    raw.prepare('INSERT INTO alert_texts (hash, text, last_at) VALUES (?, ?, ?)').run(textHash(shared), shared, T0);
    const insert = raw.prepare('INSERT INTO alert_events (id, rule_id, chip_id, from_phase, to_phase, at, value, severity, labels, annotations, fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    // Texts inline (the oldest rows), then by reference; two alerts, every phase pair an alert goes through.
    insert.run(7, 'thermal', 'GPU-inline', 'inactive', 'pending', T0, 86, 'critical', JSON.stringify({ chip: 'GPU-inline' }), JSON.stringify({ summary: 'hot', __startsAt: String(T0) }), 'fp-inline');
    insert.run(9, 'thermal', 'GPU-old', 'inactive', 'pending', T0 + 1, 85.5, 'critical', `#${textHash(shared)}`, JSON.stringify({ summary: 'hot' }), 'fp-old');
    insert.run(10, 'thermal', 'GPU-old', 'pending', 'firing', T0 + 2, null, 'critical', `#${textHash(shared)}`, JSON.stringify({ summary: 'hot', '#s': 1 }), 'fp-old');
    insert.run(11, 'thermal', 'GPU-old', 'firing', 'resolved', T0 + 3, 79, 'critical', `#${textHash(shared)}`, JSON.stringify({ '#s': 2, '#e': 0 }), 'fp-old');
    insert.run(12, 'thermal', 'GPU-old', 'pending', 'inactive', T0 + 4, 80, 'warning', `#${textHash(shared)}`, '{}', 'fp-old');
    raw.close();
    const expected = [
      { id: 7, ruleId: 'thermal', chipId: 'GPU-inline', from: 'inactive', to: 'pending', at: T0, value: 86, severity: 'critical', labels: { chip: 'GPU-inline' }, annotations: { summary: 'hot' }, fingerprint: 'fp-inline', startsAt: T0, endsAt: null },
      { id: 9, ruleId: 'thermal', chipId: 'GPU-old', from: 'inactive', to: 'pending', at: T0 + 1, value: 85.5, severity: 'critical', labels, annotations: { summary: 'hot' }, fingerprint: 'fp-old', startsAt: T0 + 1, endsAt: null },
      { id: 10, ruleId: 'thermal', chipId: 'GPU-old', from: 'pending', to: 'firing', at: T0 + 2, value: null, severity: 'critical', labels, annotations: { summary: 'hot' }, fingerprint: 'fp-old', startsAt: T0 + 1, endsAt: null },
      { id: 11, ruleId: 'thermal', chipId: 'GPU-old', from: 'firing', to: 'resolved', at: T0 + 3, value: 79, severity: 'critical', labels, annotations: {}, fingerprint: 'fp-old', startsAt: T0 + 1, endsAt: T0 + 3 },
      { id: 12, ruleId: 'thermal', chipId: 'GPU-old', from: 'pending', to: 'inactive', at: T0 + 4, value: 80, severity: 'warning', labels, annotations: {}, fingerprint: 'fp-old', startsAt: T0 + 4, endsAt: null },
    ];
    const store = open(file);
    expect(await all(store)).toEqual(expected);
    expect(await store.history({ from: 0, to: T0 + 10, chipId: 'GPU-old', ruleId: 'thermal', limit: 2 })).toEqual([expected[4], expected[3]]);
    // Three series (the warning row is an alert of its own), the old table gone, a view in its place.
    const db = new Database(file, { readonly: true });
    try {
      expect(db.prepare('SELECT count(*) FROM alert_series').pluck().get()).toBe(3);
      expect(db.prepare("SELECT type FROM sqlite_master WHERE name = 'alert_events'").pluck().get()).toBe('view');
    } finally {
      db.close();
    }
    // Ids go on after the largest kept one.
    await store.write([], [event(1, { chipId: 'GPU-old', labels, fingerprint: 'fp-old' })], T0);
    const after = await all(store);
    expect(after.map((e) => e.id)).toEqual([7, 9, 10, 11, 12, 13]);
    expect(after[5]).toMatchObject({ chipId: 'GPU-old', labels, fingerprint: 'fp-old', from: 'pending', to: 'firing' });
  });

  it('every pair of phases reads back, its code one small integer', async () => {
    const store = open(join(tmp.dir, 'phases.db'));
    const pairs = PHASES.flatMap((from) => PHASES.map((to) => ({ from, to })));
    const events = pairs.map((p, i) => event(i, p));
    await store.write([], events, T0);
    expect((await all(store)).map((e) => ({ ...e, id: 0 }))).toEqual(events.map((e) => ({ ...e, id: 0 })));
    expect(new Set(pairs.map((p) => phasesCode(p.from, p.to))).size).toBe(16);
    expect(Math.max(...pairs.map((p) => phasesCode(p.from, p.to)))).toBe(15);
    expect(() => phasesCode('pending', 'gone' as never)).toThrow(/not an alert phase: gone/);
  });

  it("a series' last_at is written once an hour at most; a pruned series comes back with its alert", async () => {
    const file = join(tmp.dir, 'series.db');
    const store = open(file);
    const lastAt = () => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare("SELECT last_at FROM alert_series WHERE chip_id = 'GPU-h-0'").pluck().all();
      } finally {
        db.close();
      }
    };
    await store.write([], [event(0)], T0);
    await store.write([], [event(0, { at: T0 + TEXT_REFRESH_MS - 1 })], T0);
    expect(lastAt()).toEqual([T0]);
    await store.write([], [event(0, { at: T0 + TEXT_REFRESH_MS })], T0);
    expect(lastAt()).toEqual([T0 + TEXT_REFRESH_MS]);
    // Every transition pruned, and the series with them once its last_at is an hour past the cutoff.
    expect(store.pruneEvents(T0 + 2 * TEXT_REFRESH_MS)).toBe(3);
    expect(lastAt()).toEqual([T0 + TEXT_REFRESH_MS]);
    expect(store.pruneEvents(T0 + 2 * TEXT_REFRESH_MS + 1)).toBe(0);
    expect(lastAt()).toEqual([]);
    // The alert again, written by the same writer (which remembered the series): the series is written again.
    const back = event(0, { at: T0 + 3 * TEXT_REFRESH_MS });
    await store.write([], [back], T0);
    expect(lastAt()).toEqual([back.at]);
    expect((await all(store)).map((e) => ({ ...e, id: 0 }))).toEqual([{ ...back, id: 0 }]);
  });
});
