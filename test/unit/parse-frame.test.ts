import { describe, expect, it } from 'vitest';
import { parseAgentFrame, parseLiveFrame } from '../../schema/parse-frame.ts';
import { batch, hello, sample } from '../helpers/frames.ts';

const NOW = Date.UTC(2026, 10, 26, 12);
const s = sample('GPU-test-0', NOW - 1000);
const withSample = (over: Record<string, unknown>) => JSON.stringify(batch(1, [{ ...s, ...over } as never]));

describe('parseAgentFrame: valid frames pass', () => {
  const valid: [string, string][] = [
    ['hello', JSON.stringify(hello())],
    ['batch', JSON.stringify(batch(0, [s]))],
    ['batch with nulls (Neuron: no temperature, no mem util)', withSample({ tempC: null, memUtilPct: null, powerW: null })],
    ['batch with flags and extras', withSample({ flags: { powerEstimated: true, energyDerived: true }, extras: { nc0: 97.5 } })],
    ['sample slightly in the future (clock skew, within the 5 s window)', withSample({ ts: NOW + 4_000 })],
  ];
  it.each(valid)('%s', (_name, raw) => {
    const res = parseAgentFrame(raw, NOW);
    expect(res.ok).toBe(true);
  });
});

describe('parseAgentFrame: malformed frames are rejected with a stable code', () => {
  const bad: [string, string, string][] = [
    ['not JSON', '{"v":1,', 'bad_json'],
    ['JSON array', '[1,2]', 'bad_frame'],
    ['JSON string', '"hello"', 'bad_frame'],
    ['missing version', JSON.stringify({ type: 'hello' }), 'unsupported_version'],
    ['future version', JSON.stringify({ ...hello(), v: 2 }), 'unsupported_version'],
    ['unknown type', JSON.stringify({ v: 1, type: 'reboot' }), 'unknown_type'],
    ['missing type', JSON.stringify({ v: 1 }), 'unknown_type'],
    ['hello without chips', JSON.stringify({ ...hello(), chips: [] }), 'bad_frame'],
    ['hello with bad vendor', JSON.stringify(hello('a', [{ ...hello().chips[0], vendor: 'amd' as never }])), 'bad_frame'],
    ['hello with extra field', JSON.stringify({ ...hello(), extra: 1 }), 'bad_frame'],
    ['batch with no samples', JSON.stringify(batch(0, [])), 'bad_frame'],
    ['batch with negative seq', JSON.stringify(batch(-1, [s])), 'out_of_range'],
    ['utilization above 100', withSample({ utilPct: 101 }), 'out_of_range'],
    ['negative power', withSample({ powerW: -5 }), 'out_of_range'],
    ['absurd temperature', withSample({ tempC: 900 }), 'out_of_range'],
    ['timestamp before 2000', withSample({ ts: 1000 }), 'out_of_range'],
    ['timestamp an hour in the future', withSample({ ts: NOW + 3_600_000 }), 'out_of_range'],
    ['timestamp 6 s in the future', withSample({ ts: NOW + 6_000 }), 'out_of_range'],
    ['seq past the safe integers', JSON.stringify({ ...batch(0, [s]), seq: 1e308 }), 'out_of_range'],
    ['chip index 2^53 + 2', JSON.stringify(hello('a', [{ ...hello().chips[0], index: 9007199254740994 }])), 'out_of_range'],
    ['hello with 1,025 chips', JSON.stringify(hello('a', Array.from({ length: 1025 }, (_, i) => ({ ...hello().chips[0], chipId: `GPU-${i}`, index: i })))), 'out_of_range'],
    ['inventory with 1,025 chips', JSON.stringify({ v: 1, type: 'inventory', chips: Array.from({ length: 1025 }, (_, i) => ({ ...hello().chips[0], chipId: `GPU-${i}`, index: i })) }), 'out_of_range'],
    ['sample with 65 extras keys', withSample({ extras: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i])) }), 'out_of_range'],
    ['power as a string', withSample({ powerW: '400' }), 'bad_frame'],
    ['missing field (0 is not null)', JSON.stringify(batch(0, [{ ...s, tempC: undefined } as never])), 'bad_frame'],
    ['chip id with a slash', withSample({ chipId: 'GPU/0' }), 'bad_frame'],
    ['unknown sample field', withSample({ fanPct: 30 }), 'bad_frame'],
    ['non-integer ts', withSample({ ts: NOW - 0.5 }), 'bad_frame'],
  ];
  it.each(bad)('%s -> %s', (_name, raw, code) => {
    const res = parseAgentFrame(raw, NOW);
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.code).toBe(code);
      expect(res.message.length).toBeGreaterThan(0);
    }
  });
});

describe('parseLiveFrame', () => {
  it.each([
    ['fleet subscribe', { v: 1, type: 'subscribe', sub: { topic: 'fleet' } }, null],
    ['chip subscribe', { v: 1, type: 'subscribe', sub: { topic: 'chip', chipId: 'GPU-1' } }, null],
    ['unsubscribe', { v: 1, type: 'unsubscribe', sub: { topic: 'fleet' } }, null],
    ['firehose subscribe', { v: 1, type: 'subscribe', sub: { topic: 'samples' } }, null],
    ['firehose with a chip id', { v: 1, type: 'subscribe', sub: { topic: 'samples', chipId: 'GPU-1' } }, 'bad_frame'],
    ['unknown topic', { v: 1, type: 'subscribe', sub: { topic: 'everything' } }, 'bad_frame'],
    ['chip without id', { v: 1, type: 'subscribe', sub: { topic: 'chip' } }, 'bad_frame'],
    ['unknown type', { v: 1, type: 'hello' }, 'unknown_type'],
  ] as const)('%s', (_n, frame, code) => {
    const res = parseLiveFrame(JSON.stringify(frame));
    if (code === null) expect(res.ok).toBe(true);
    else expect(res).toMatchObject({ ok: false, code });
  });
});
