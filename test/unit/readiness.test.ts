import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { busCheck, databaseCheck, readiness, writerCheck, type ReadinessCheck } from '../../server/readiness.ts';

const ok = (name: string): ReadinessCheck => ({ name, run: () => ({ ok: true }) });
const no = (name: string, reason: string): ReadinessCheck => ({ name, run: async () => ({ ok: false, reason }) });
const throws = (name: string): ReadinessCheck => ({ name, run: () => { throw new Error('connection refused'); } });

describe('readiness', () => {
  it.each([
    ['no checks', [], { status: 'ready', checks: {}, reasons: [] }],
    ['all ok', [ok('database'), ok('writer')], { status: 'ready', checks: { database: 'ok', writer: 'ok' }, reasons: [] }],
    ['one failing', [ok('database'), no('writer', 'behind')], { status: 'not_ready', checks: { database: 'ok', writer: 'behind' }, reasons: ['writer: behind'] }],
    ['a check that throws (a bus that is down)', [ok('database'), throws('bus')], { status: 'not_ready', checks: { database: 'ok', bus: 'check failed: connection refused' }, reasons: ['bus: check failed: connection refused'] }],
  ] as const)('%s', async (_name, checks, answer) => {
    expect(await readiness(checks as readonly ReadinessCheck[])).toEqual(answer);
  });

  it.each([
    [0, true],
    [200_000, true],
    [200_001, false],
  ])('writer backlog %i under a mark of 200000: ready %s', async (backlog, ready) => {
    const r = await writerCheck(() => backlog, 200_000).run();
    expect(r.ok).toBe(ready);
    if (!r.ok) expect(r.reason).toBe('200001 sample rows wait for the writer (backpressure above 200000)');
  });

  it.each([
    ['connected', { connected: true, since: 0, lastError: null }, { ok: true }],
    ['down 12 s, no error yet', { connected: false, since: 88_000, lastError: null }, { ok: false, reason: 'not connected to nats://127.0.0.1:4222 for 12s, reconnecting' }],
    ['down with an error', { connected: false, since: 99_600, lastError: 'CONNECTION_REFUSED' }, { ok: false, reason: 'not connected to nats://127.0.0.1:4222 for 0s, reconnecting (CONNECTION_REFUSED)' }],
  ])('bus: %s', async (_name, state, result) => {
    const check = busCheck({ url: 'nats://127.0.0.1:4222', state: () => state }, () => 100_000);
    expect(check.name).toBe('bus');
    expect(await check.run()).toEqual(result);
  });

  it('database: a writable file with room is ok; a missing file or a full disk is not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-ready-'));
    try {
      const db = join(dir, 'hub.db');
      writeFileSync(db, '');
      expect(await databaseCheck(db).run()).toEqual({ ok: true });
      expect(await databaseCheck(join(dir, 'gone.db')).run()).toEqual({ ok: false, reason: 'the database file is not writable (ENOENT)' });
      const full = await databaseCheck(db, Number.MAX_SAFE_INTEGER).run();
      expect(full.ok).toBe(false);
      if (!full.ok) expect(full.reason).toMatch(/^\d+ MiB free on the database's file system \(needs \d+ MiB\)$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
