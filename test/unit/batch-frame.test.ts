/**
 * schema/batch-frame.ts: binary batch frames decode to the object JSON.parse gives for the same
 * batch, are refused with clear codes when they are not that layout, and are checked by the hub
 * with the same answers as the batch in JSON.
 */
import { describe, expect, it } from 'vitest';
import { BINARY_FRAME_MARK, ChipIdCache, decodeBatchFrame, encodeBatchFrame } from '../../schema/batch-frame.ts';
import { parseAgentFrame, parseBinaryAgentFrame } from '../../schema/parse-frame.ts';
import type { BatchMessage } from '../../schema/protocol.ts';
import type { Sample } from '../../schema/sample.ts';
import { sample } from '../helpers/frames.ts';

const NOW = Date.UTC(2026, 11, 5, 12);
const T = NOW - 60_000;

function batchOf(samples: unknown[], more: Record<string, unknown> = {}): BatchMessage {
  return { v: 1, type: 'batch', seq: 7, samples, ...more } as BatchMessage;
}

/** What the hub gets from the JSON form of `msg`. */
const viaJson = (msg: unknown) => JSON.parse(JSON.stringify(msg));

function encoded(msg: BatchMessage): Uint8Array {
  const bytes = encodeBatchFrame(msg);
  if (bytes === null) throw new Error('not encodable');
  return bytes;
}

const protoExtras = JSON.parse('{"__proto__": 3, "ok": 1}') as Record<string, number>;

const ROUND_TRIPS: [string, BatchMessage][] = [
  ['one plain sample', batchOf([sample('GPU-a', T)])],
  ['every value null', batchOf([sample('GPU-a', T, { utilPct: null, memUtilPct: null, memUsedBytes: null, memTotalBytes: null, powerW: null, powerLimitW: null, tempC: null, energyJ: null })])],
  ['optional fields absent, null and set', batchOf([sample('GPU-a', T, { smClockMhz: 1980, eccCorrected: null }), sample('GPU-b', T, { eccUncorrected: 0 })])],
  ['flags true, false and absent', batchOf([sample('GPU-a', T, { flags: { powerEstimated: true, backfill: false } }), sample('GPU-a', T + 1, { flags: {} })])],
  ['extras, a non-ASCII key and a __proto__ key', batchOf([sample('GPU-a', T, { extras: { 'nc0.util': 12.5, 'température': -3 } }), sample('GPU-a', T + 1, { extras: protoExtras })])],
  ['negative zero (sent as 0, as in JSON), tiny, huge and fractional values', batchOf([sample('GPU-a', T, { tempC: -0, powerW: 5e-324, energyJ: 9.999999999999e14, utilPct: 33.333333333333336 })])],
  ['many chips, interleaved', batchOf(Array.from({ length: 64 }, (_, i) => sample(`GPU-${i % 16}`, T + Math.floor(i / 16))))],
  ['backfill true', batchOf([sample('GPU-a', T)], { backfill: true })],
  ['backfill false', batchOf([sample('GPU-a', T)], { backfill: false })],
  ['health, dropped and work in the tail', batchOf([sample('GPU-a', T)], { health: [{ kind: 'sim-nvml', state: 'ok', restarts: 0, parseErrors: 0, lastError: null }], dropped: { batches: 1, samples: 8 }, work: [{ job: 'j1' }] })],
  ['a large seq', batchOf([sample('GPU-a', T)], { seq: 2 ** 53 - 1 })],
  ['a timestamp that is not an integer (refused later, as in JSON)', batchOf([sample('GPU-a', T + 0.5)])],
  ['a value out of range (refused later, as in JSON)', batchOf([sample('GPU-a', T, { utilPct: 250 })])],
  ['a chip id the protocol refuses (refused later, as in JSON)', batchOf([sample('GPU a/é', T)])],
  ['no samples (refused later, as in JSON)', batchOf([])],
];

describe('binary batch frames: round trip', () => {
  it.each(ROUND_TRIPS)('%s decodes to what JSON.parse gives', (_name, msg) => {
    const bytes = encoded(msg);
    expect(bytes[0]).toBe(BINARY_FRAME_MARK);
    const dec = decodeBatchFrame(bytes);
    expect(dec.ok).toBe(true);
    if (!dec.ok) return;
    expect(dec.rec).toStrictEqual(viaJson(msg));
  });

  it('keeps a __proto__ extras key as own data, not as a prototype', () => {
    const dec = decodeBatchFrame(encoded(batchOf([sample('GPU-a', T, { extras: protoExtras })])));
    if (!dec.ok) throw new Error(dec.message);
    const extras = (dec.rec.samples as Sample[])[0].extras!;
    expect(Object.getPrototypeOf(extras)).toBe(Object.prototype);
    expect(Object.keys(extras)).toEqual(['__proto__', 'ok']);
  });

  it('is smaller than the JSON form of a 16-chip batch', () => {
    const msg = batchOf(Array.from({ length: 16 }, (_, i) => sample(`GPU-5f1b7a2e-0c4d-4d1e-9a77-${String(i).padStart(12, '0')}`, T, { smClockMhz: 1980, eccCorrected: 0, eccUncorrected: 0 })));
    expect(encoded(msg).length).toBeLessThan(JSON.stringify(msg).length * 0.6);
  });
});

describe('binary batch frames: chip ids reused from a connection\'s earlier frames', () => {
  it('gives the ids each frame holds, whatever changed since the frame before', () => {
    const frames = [
      ['GPU-a', 'GPU-b'],
      ['GPU-a', 'GPU-b'], // the same ids again
      ['GPU-b', 'GPU-a'], // swapped places
      ['GPU-c', 'GPU-a'], // same length, other bytes
      ['GPU-c-long', 'GPU-a'], // other length
      ['GPU-é', 'GPU-a'], // not ASCII
      ['GPU-c-long'], // fewer
      ['GPU-c-long', 'GPU-a', 'GPU-z'], // more
    ];
    const ids = new ChipIdCache();
    const seen = frames.map((chips, n) => {
      const dec = decodeBatchFrame(encoded(batchOf(chips.map((c, i) => sample(c, T + n * 10 + i)))), ids);
      if (!dec.ok) throw new Error(dec.message);
      return (dec.rec.samples as Sample[]).map((x) => x.chipId);
    });
    expect(seen).toEqual(frames);
  });

  it('a cached id that is not ASCII is never taken for bytes that only match its char codes', () => {
    const ids = new ChipIdCache();
    const utf8 = (t: string) => Buffer.from(t, 'utf8');
    expect(ids.get(0, utf8('Ã'), 0, 2)).toBe('Ã');
    // 0xC3 is the char code of Ã and the first byte of its UTF-8: alone it is not that id.
    const lone = Buffer.from([0xc3]);
    expect(ids.get(0, lone, 0, 1)).toBe(new TextDecoder().decode(lone));
    expect(ids.get(0, utf8('GPU-a'), 0, 5)).toBe('GPU-a');
    expect(ids.get(0, utf8('xGPU-b'), 1, 5)).toBe('GPU-b');
  });
});

describe('binary batch frames: what the encoder leaves to JSON', () => {
  const cases: [string, unknown][] = [
    ['a key the batch does not have', batchOf([sample('GPU-a', T)], { extra: 1 })],
    ['a key a sample does not have', batchOf([{ ...sample('GPU-a', T), speed: 3 }])],
    ['a string value', batchOf([sample('GPU-a', T, { utilPct: '5' as unknown as number })])],
    ['an optional field that is a string', batchOf([sample('GPU-a', T, { smClockMhz: 'fast' as unknown as number })])],
    ['a chip id that is not a string', batchOf([sample(7 as unknown as string, T)])],
    ['a sample that is not an object', batchOf([null])],
    ['flags with an unknown flag', batchOf([sample('GPU-a', T, { flags: { hot: true } as never })])],
    ['a flag that is not a boolean', batchOf([sample('GPU-a', T, { flags: { backfill: 1 } as never })])],
    ['an extras value that is a string', batchOf([sample('GPU-a', T, { extras: { a: 'x' } as never })])],
    ['more than 64 extras keys', batchOf([sample('GPU-a', T, { extras: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i])) })])],
    ['a seq that is not a count', batchOf([sample('GPU-a', T)], { seq: -1 })],
    ['a backfill that is not a boolean', batchOf([sample('GPU-a', T)], { backfill: 'yes' })],
  ];
  it.each(cases)('%s: null', (_name, msg) => {
    expect(encodeBatchFrame(msg as BatchMessage)).toBeNull();
  });
});

/** A frame from its bytes. */
const bytes = (...b: number[]) => Uint8Array.from(b);

describe('binary batch frames: refusals', () => {
  const good = encoded(batchOf([sample('GPU-a', T, { extras: { a: 1 } })], { health: [] }));
  /** `good` with byte `at` set to `value`. */
  const withByte = (at: number, value: number) => {
    const b = Uint8Array.from(good);
    b[at] = value;
    return b;
  };
  // Offsets in `good`: 0 mark, 1 kind, 2 seq, 3 frame bits, 4 chip count, 5 chip id length, 6-10
  // "GPU-a", 11 sample count, 12 chip index, 13-20 ts, 21 required mask, 22 optional mask.
  const cases: [string, Uint8Array, string, RegExp][] = [
    ['an empty frame', bytes(), 'bad_frame', /first byte 0xB2/],
    ['random bytes', bytes(0x12, 0x34, 0x56), 'bad_frame', /first byte 0xB2/],
    ['JSON sent as a binary frame', new TextEncoder().encode('{"v":1}'), 'bad_frame', /first byte 0xB2/],
    ['an unknown kind', withByte(1, 9), 'unknown_type', /kind 9/],
    ['unknown frame bits', withByte(3, 0x84), 'bad_frame', /unknown frame bits 128/],
    ['a chip index past the chip ids', withByte(12, 5), 'bad_frame', /names chip 5 of the frame's 1 chip ids/],
    ['an optional field with presence code 3', withByte(22, 0x83), 'bad_frame', /smClockMhz has the unknown presence code 3/],
    ['bytes after the end', Uint8Array.from([...good, 0]), 'bad_frame', /1 bytes after the end/],
    ['a varint longer than 8 bytes', bytes(0xb2, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1), 'bad_frame', /longer than 8 bytes/],
    ['more samples than a batch may hold', bytes(0xb2, 1, 0, 0, 0, 0x91, 0x4e), 'out_of_range', /10001 samples; at most 10000/],
    ['a sample count the frame cannot hold', bytes(0xb2, 1, 0, 0, 0, 100), 'bad_frame', /truncated/],
    ['more chip ids than a batch may hold', bytes(0xb2, 1, 0, 0, 0x91, 0x4e), 'out_of_range', /10001 chip ids/],
  ];
  it.each(cases)('%s: %s', (_name, frame, code, message) => {
    const dec = decodeBatchFrame(frame);
    expect(dec.ok).toBe(false);
    if (dec.ok) return;
    expect(dec.code).toBe(code);
    expect(dec.message).toMatch(message);
  });

  it('refuses every truncation of a valid frame as bad_frame, without throwing', () => {
    const full = encoded(batchOf([sample('GPU-a', T, { smClockMhz: 1, flags: { backfill: true }, extras: { a: 1 } }), sample('GPU-b', T)], { backfill: true, dropped: { batches: 0, samples: 0 } }));
    for (let n = 0; n < full.length; n++) {
      const dec = decodeBatchFrame(full.subarray(0, n));
      expect(dec.ok, `first ${n} bytes`).toBe(false);
      if (!dec.ok) expect(dec.code, `first ${n} bytes`).toBe('bad_frame');
    }
  });

  it('refuses a tail that is not JSON, not an object, or holds other keys', () => {
    const withTail = (tail: string) => {
      const head = encoded(batchOf([sample('GPU-a', T)]));
      const b = Uint8Array.from(head);
      b[3] |= 4;
      const t = new TextEncoder().encode(tail);
      return Uint8Array.from([...b, t.length, ...t]);
    };
    const answers = ['{nope', '[1]', '{"samples":[]}', '{"__proto__":{"x":1}}'].map((t) => {
      const d = decodeBatchFrame(withTail(t));
      return d.ok ? 'ok' : `${d.code}: ${d.message}`;
    });
    expect(answers).toEqual([
      "bad_json: the binary frame's tail is not valid JSON",
      "bad_frame: the binary frame's tail must be a JSON object",
      'bad_frame: the binary frame\'s tail may hold only health, dropped, work; it holds "samples"',
      'bad_frame: the binary frame\'s tail may hold only health, dropped, work; it holds "__proto__"',
    ]);
  });

  it('refuses more than 64 extras keys as out_of_range', () => {
    const msg = batchOf([sample('GPU-a', T, { extras: { a: 1 } })]);
    const b = encoded(msg);
    b[23 + 8 * 8] = 65; // the extras count, after the two masks (21, 22) and the 8 values
    const dec = decodeBatchFrame(b);
    expect(dec).toMatchObject({ ok: false, code: 'out_of_range', message: 'a sample has 65 extras keys; at most 64' });
  });
});

describe('the hub answers a binary batch as it answers the same batch in JSON', () => {
  const cases: [string, BatchMessage][] = [
    ['a valid batch', batchOf([sample('GPU-a', T), sample('GPU-b', T, { flags: { energyDerived: true }, extras: { x: 1 } })], { backfill: false })],
    ['utilPct out of range', batchOf([sample('GPU-a', T), sample('GPU-b', T, { utilPct: 250 })])],
    ['a timestamp 10 minutes ahead', batchOf([sample('GPU-a', NOW + 600_000)])],
    ['a timestamp before 2000', batchOf([sample('GPU-a', 1000)])],
    ['a fractional timestamp', batchOf([sample('GPU-a', T + 0.5)])],
    ['a chip id with a space', batchOf([sample('GPU a', T)])],
    ['an extras key longer than 64', batchOf([sample('GPU-a', T, { extras: { ['k'.repeat(65)]: 1 } })])],
    ['no samples', batchOf([])],
    ['bad health in the tail', batchOf([sample('GPU-a', T)], { health: [{ kind: '', state: 'odd' }] })],
  ];
  it('refuses a NaN value (JSON cannot carry one)', () => {
    expect(parseBinaryAgentFrame(encoded(batchOf([sample('GPU-a', T, { powerW: NaN })])), NOW)).toMatchObject({ ok: false, code: 'bad_frame', message: expect.stringContaining('samples.0.powerW') });
  });

  it.each(cases)('%s', (_name, msg) => {
    const fromJson = parseAgentFrame(JSON.stringify(msg), NOW);
    const fromBinary = parseBinaryAgentFrame(encoded(msg), NOW);
    expect(fromBinary).toStrictEqual(fromJson);
  });
});
