/**
 * frameToRecord (server/ws/frame-record.ts) against the object way it stands in for:
 * parseBinaryAgentFrame, then encodeSampleRecord of the samples it gives. A frame the fast way
 * takes must be one the object way takes, with a record of the same bytes, the same keys and the
 * same reports, and decode again to the same samples with the chip ids it read; the common frame
 * (what agents send) must be taken. Random frames, boundary values per field, and every frame cut
 * short or with one byte changed.
 */
import { describe, expect, it } from 'vitest';
import { ChipIdCache, decodeBatchFrame, encodeBatchFrame } from '../../schema/batch-frame.ts';
import { parseBinaryAgentFrame } from '../../schema/parse-frame.ts';
import type { BatchMessage } from '../../schema/protocol.ts';
import { SAMPLE_FIELDS, type Sample } from '../../schema/sample.ts';
import { encodeSampleRecord } from '../../server/store/sample-records.ts';
import { SampleKeys } from '../../server/store/unfolded-log-index.ts';
import { frameToRecord } from '../../server/ws/frame-record.ts';
import { sample } from '../helpers/frames.ts';

const NOW = 1_780_000_000_000;
const WINDOW = { maxFutureMs: 5_000, maxAgeMs: 3_600_000 };

/** Compares both ways on `buf`; returns whether the fast way took it. */
function compare(buf: Uint8Array, what: string): boolean {
  const fast = frameToRecord(buf, NOW, WINDOW, new ChipIdCache());
  const slow = parseBinaryAgentFrame(buf, NOW, WINDOW, new ChipIdCache());
  if (fast === null) return false;
  expect(slow.ok, `${what}: taken by the fast way, refused by the object way (${slow.ok ? '' : slow.message})`).toBe(true);
  if (!slow.ok || slow.msg.type !== 'batch') throw new Error('unreachable');
  const msg = slow.msg;
  expect(Buffer.from(fast.record).equals(Buffer.from(encodeSampleRecord(msg.samples))), `${what}: record bytes`).toBe(true);
  expect(fast.seq).toBe(msg.seq);
  expect(fast.keys).toEqual(SampleKeys.of(msg.samples));
  expect(fast.report).toEqual(JSON.parse(JSON.stringify({ health: msg.health, dropped: msg.dropped, work: msg.work })));
  expect(new Set(fast.chips)).toEqual(new Set(msg.samples.map((s) => s.chipId)));
  // Decoded again with the chip ids the fast way read, as the hub does after the commit.
  expect(decodeBatchFrame(buf, fast.known)).toEqual(decodeBatchFrame(buf));
  return true;
}

let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

/** A sample such as the simulators send, sometimes with optional fields, flags or extras. */
function agentSample(chip: string, ts: number): Sample {
  const s = sample(chip, ts, { utilPct: Math.round(rand() * 10000) / 100, powerW: Math.round(rand() * 7000) / 10, tempC: 30 + Math.round(rand() * 600) / 10, energyJ: 1e6 + rand() * 1e6 });
  if (rand() < 0.5) Object.assign(s, { smClockMhz: pick([1980, null]), eccCorrected: 0, eccUncorrected: pick([0, null]) });
  if (rand() < 0.3) s.flags = pick([{ powerEstimated: true }, { energyDerived: true, powerEstimated: false }, {}, { backfill: true }]);
  if (rand() < 0.3) s.extras = pick<Record<string, number>>([{ neuronCores: 8, hbmGBps: 812.5 }, { 'a.b_c': -1.25 }, {}]);
  if (rand() < 0.2) s.memUtilPct = null;
  return s;
}

function agentBatch(seq: number): BatchMessage {
  const chips = Array.from({ length: 1 + Math.floor(rand() * 16) }, (_, c) => `GPU-${seq % 7}-${c}`);
  const samples = Array.from({ length: 1 + Math.floor(rand() * 40) }, (_, i) => agentSample(pick(chips), NOW - 60_000 + i * 17));
  const b: BatchMessage = { v: 1, type: 'batch', seq, samples };
  if (rand() < 0.5) b.health = [{ kind: 'nvml-sim', state: 'ok', restarts: 0, parseErrors: 0, lastError: null }];
  if (rand() < 0.5) b.dropped = { batches: 0, samples: Math.floor(rand() * 3) };
  if (rand() < 0.2) b.work = [{ ts: NOW - 1000, job: 'train-1', counters: { tokens: 1234 } }];
  return b;
}

describe('frameToRecord', () => {
  it('takes what agents send, with the same record, keys and reports as the object way (random batches)', () => {
    for (let k = 0; k < 300; k++) {
      const b = agentBatch(k);
      const buf = encodeBatchFrame(b)!;
      expect(compare(buf, `batch ${k}`), `batch ${k} was not taken`).toBe(true);
    }
  });

  it('leaves backfill batches to the object way', () => {
    const buf = encodeBatchFrame({ ...agentBatch(1), backfill: true })!;
    expect(frameToRecord(buf, NOW, WINDOW, new ChipIdCache())).toBeNull();
    expect(parseBinaryAgentFrame(buf, NOW, WINDOW).ok).toBe(true);
  });

  it('takes a value exactly when the object way does, at and past each field bound', () => {
    const edges = [-1e15 - 1, -40.5, -40, -0, 0, 1e-9, 100, 100.0001, 150, 150.5, 10_000, 10_001, 2 ** 50, 2 ** 50 + 2, 1e15, 1.1e15, NaN, Infinity, -Infinity];
    let taken = 0;
    for (const field of SAMPLE_FIELDS) {
      for (const v of edges) {
        const s = sample('GPU-edge-0', NOW - 1000, { [field]: v });
        const buf = encodeBatchFrame({ v: 1, type: 'batch', seq: 1, samples: [s] })!;
        const fast = compare(buf, `${field} = ${v}`);
        const slow = parseBinaryAgentFrame(buf, NOW, WINDOW).ok;
        expect(fast, `${field} = ${v}: the object way ${slow ? 'takes' : 'refuses'} it`).toBe(slow);
        if (fast) taken++;
      }
    }
    expect(taken).toBeGreaterThan(SAMPLE_FIELDS.length * 3);
  });

  it('refuses (to the object way) timestamps outside the window, chip ids and extras keys that are not plain', () => {
    const cases: [string, Partial<Sample> & { chipId?: string }][] = [
      ['ts in the future', { ts: NOW + 6_000 }],
      ['ts too old', { ts: NOW - 3_700_000 }],
      ['fractional ts', { ts: NOW - 1000.5 }],
      ['chip id with a space', { chipId: 'GPU 1' }],
      ['extras key __proto__', { extras: JSON.parse('{"__proto__": 1}') }],
      ['extras key starting with a digit', { extras: { '2': 1, b: 2 } }],
      ['extras value infinite', { extras: { a: Infinity } }],
      ['extras key of 65 characters', { extras: { ['k'.repeat(65)]: 1 } }],
    ];
    for (const [what, over] of cases) {
      const s = { ...sample('GPU-x-0', NOW - 1000), ...over } as Sample;
      const buf = encodeBatchFrame({ v: 1, type: 'batch', seq: 3, samples: [s] });
      if (buf === null) continue; // not sayable as a binary frame at all
      expect(frameToRecord(buf, NOW, WINDOW, new ChipIdCache()), what).toBeNull();
    }
  });

  it('never takes a frame the object way refuses: every frame cut short, and with each byte changed', () => {
    let taken = 0;
    for (let k = 0; k < 12; k++) {
      const buf = encodeBatchFrame(agentBatch(100 + k))!;
      for (let cut = 0; cut < buf.length; cut += 1 + Math.floor(buf.length / 200)) compare(buf.subarray(0, cut), `batch ${k} cut at ${cut}`);
      for (let at = 0; at < buf.length; at++) {
        const changed = Uint8Array.from(buf);
        changed[at] = (changed[at]! + 1 + Math.floor(rand() * 255)) & 0xff;
        if (compare(changed, `batch ${k}, byte ${at} changed`)) taken++;
      }
    }
    // Most single-byte changes of a value still make a valid frame.
    expect(taken).toBeGreaterThan(100);
  });

  it('takes frames whose chip ids come from the connection cache, as the object way names them', () => {
    const ids = new ChipIdCache();
    const b = agentBatch(7);
    const first = frameToRecord(encodeBatchFrame(b)!, NOW, WINDOW, ids)!;
    const second = frameToRecord(encodeBatchFrame({ ...b, seq: 8 })!, NOW, WINDOW, ids)!;
    expect(second.keys.chipIds).toEqual(first.keys.chipIds);
    for (let i = 0; i < first.keys.chipIds.length; i++) expect(second.keys.chipIds[i]).toBe(first.keys.chipIds[i]);
    // A chip id that is not plain in a place the cache had a plain one is still refused, and the plain one taken again after it.
    const bad = encodeBatchFrame({ v: 1, type: 'batch', seq: 9, samples: [sample('GPU 0', NOW - 1000)] })!;
    expect(frameToRecord(bad, NOW, WINDOW, ids)).toBeNull();
    expect(frameToRecord(encodeBatchFrame({ ...b, seq: 10 })!, NOW, WINDOW, ids)).not.toBeNull();
  });
});
