/**
 * `fleetscope hub --retention-alerts`: a real hub process prunes alert transitions older than the
 * given time at start (and hourly after), with the shared texts only they named; a bad value is
 * refused with the flag named.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../bench/support/temp-dir.ts';
import { runFleetscope } from '../../bench/support/processes.ts';
import type { AlertEvent } from '../../server/alerts/alert-events.ts';
import { openAlertStore } from '../../server/alerts/alert-store.ts';
import { startHubProcess } from '../helpers/hub-process.ts';
import { eventually } from '../helpers/ws-client.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const transition = (chipId: string, at: number): AlertEvent => ({
  ruleId: 'power-at-limit',
  chipId,
  from: 'inactive',
  to: 'pending',
  at,
  value: 99,
  severity: 'info',
  labels: { alertname: 'ChipPowerAtLimit', chip: chipId, rule: 'power-at-limit' },
  annotations: { summary: `${chipId} on host-a at 99 % of its power limit`, description: 'The chip is held at its power limit.' },
  fingerprint: `fp-${chipId}`,
  startsAt: at,
  endsAt: null,
});

describe('--retention-alerts', () => {
  it('a hub started with 1h drops older transitions and their texts, and keeps the rest', async () => {
    const db = join(tmp.dir, 'hub.db');
    const now = Date.now();
    const old = transition('GPU-old', now - 3 * 3_600_000);
    const recent = transition('GPU-recent', now - 10 * 60_000);
    const seed = openAlertStore(db);
    await seed.write([], [old, recent], now);
    seed.close();

    const hub = await startHubProcess(['--db', db, '--open', '--retention-alerts', '1h']);
    try {
      await eventually(() => hub.logged('alert history pruned').length > 0, 15_000, 'the prune at start');
      expect(hub.logged('alert history pruned')[0].events).toBe(1);
      const history = await hub.get(`/api/v1/alerts/history?from=0&to=${now}`);
      expect(history.events.map((e: AlertEvent) => e.chipId)).toEqual(['GPU-recent']);
      expect(history.events[0].annotations).toEqual(recent.annotations);
      expect(history.events[0].labels).toEqual(recent.labels);
    } finally {
      expect(await hub.stop()).toBe(0);
    }
    const raw = new Database(db, { readonly: true });
    try {
      const texts = raw.prepare('SELECT text FROM alert_texts').pluck().all() as string[];
      expect(texts.some((t) => t.includes('GPU-recent'))).toBe(true);
      expect(texts.some((t) => t.includes('GPU-old'))).toBe(false);
    } finally {
      raw.close();
    }
  }, 60_000);

  it('refuses a value that is not a positive duration, naming the flag', async () => {
    for (const bad of ['0s', 'soon']) {
      const proc = runFleetscope(['hub', '--port', '0', '--db', join(tmp.dir, 'bad.db'), '--open', '--retention-alerts', bad]);
      expect(await proc.exited).toBe(2);
      expect(proc.stderr()).toContain('--retention-alerts');
    }
  }, 30_000);
});
