/**
 * kill -9 at fleet shape: 625 agents x 16 chips (10,000 chips) send as fast as acks allow, the hub
 * is SIGKILLed right after its first fold step commits (folded chunks on disk, folded log rows
 * being deleted, more log waiting), then started again on the same database and stopped cleanly.
 * Every acknowledged sample must be stored, and every stored sample once.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../bench/support/free-port.ts';
import { createToken, runFleetscope, type Proc } from '../../bench/support/processes.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';
import { decodeChunk } from '../../server/store/chunk-codec.ts';
import { eventually } from '../helpers/ws-client.ts';

const GENERATOR = fileURLToPath(new URL('../../bench/ingest-generator.ts', import.meta.url));
const AGENTS = 625;

const tmp = tempDir();
const procs: Proc[] = [];
afterAll(() => {
  for (const p of procs) p.child.kill('SIGKILL');
  tmp.cleanup();
});

describe('kill -9 at 10,000 chips', () => {
  it('every acknowledged sample is stored after the restart, each once', { timeout: 180_000 }, async () => {
    const port = await freePort();
    const db = join(tmp.dir, 'hub.db');
    const agentToken = await createToken(db, 'agent');
    const viewerToken = await createToken(db, 'viewer');
    const hubArgs = ['hub', '--port', String(port), '--host', '127.0.0.1', '--db', db, '--log-level', 'warn', '--agent-frame-rate', '100000'];
    const startHub = async () => {
      const hub = runFleetscope(hubArgs);
      procs.push(hub);
      await eventually(() => hub.stdout().includes('listening'), 20_000, 'hub to listen');
      return hub;
    };
    const folds = async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${viewerToken}` } })).text();
      const m = /^fleetscope_store_fold_duration_seconds_count\{[^}]*phase="write"[^}]*\} (\d+)/m.exec(text);
      return m ? Number(m[1]) : 0;
    };

    let hub = await startHub();
    const ackedFile = join(tmp.dir, 'acked.jsonl');
    const gen = spawn(process.execPath, ['--import', 'tsx', GENERATOR, `ws://127.0.0.1:${port}`, String(AGENTS), '4', '40', 'sim'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, FLEETSCOPE_TOKEN: agentToken, FLEETSCOPE_GEN_ACKED: ackedFile },
    });
    let genOut = '';
    gen.stdout.on('data', (d) => (genOut += d));
    const genExited = new Promise((r) => gen.on('exit', r));

    // Killed as soon as a fold step has committed: chunks and rollups on disk, the log behind them.
    await eventually(async () => (await folds()) > 0, 60_000, 'a first fold step');
    hub.child.kill('SIGKILL');
    await hub.exited;
    await genExited;
    const res = JSON.parse(genOut.trim().split('\n').at(-1)!) as { samples: number; notWelcomed: number };
    const acked = readFileSync(ackedFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { chipIds: string[]; ackedTs: number[] });
    expect(acked).toHaveLength(AGENTS);
    expect(res.samples).toBeGreaterThan(50_000);

    // Back on the same database, then stopped cleanly: it folds everything into chunks on the way out.
    hub = await startHub();
    hub.child.kill('SIGTERM');
    expect(await hub.exited).toBe(0);

    const sqlite = new Database(db, { readonly: true });
    const stored = new Map<string, number[]>();
    for (const row of sqlite.prepare('select chip_id, data from sample_chunks').iterate() as IterableIterator<{ chip_id: string; data: Buffer }>) {
      const list = stored.get(row.chip_id) ?? [];
      for (const s of decodeChunk(row.data, row.chip_id)) list.push(s.ts);
      stored.set(row.chip_id, list);
    }
    expect((sqlite.prepare('select count(*) as n from sample_log').get() as { n: number }).n).toBe(0);
    sqlite.close();

    let missing = 0;
    let duplicates = 0;
    let ackedSamples = 0;
    for (const list of stored.values()) duplicates += list.length - new Set(list).size;
    for (const a of acked) {
      for (const chipId of a.chipIds) {
        const have = new Set(stored.get(chipId) ?? []);
        for (const ts of a.ackedTs) {
          ackedSamples++;
          if (!have.has(ts)) missing++;
        }
      }
    }
    expect(ackedSamples).toBe(res.samples);
    expect({ missing, duplicates }).toEqual({ missing: 0, duplicates: 0 });
  });
});
