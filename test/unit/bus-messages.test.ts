/** Live bus messages: every kind round-trips through its bytes; malformed ones are refused with a reason. */
import { describe, expect, it } from 'vitest';
import { decodeBusMessage, encodeBusMessage, hasPrefix, latestColumns, latestSamples, ownMessagePrefix, rowSample, sampleRow, type BusMessage, type SummaryLatest } from '../../server/bus/bus-messages.ts';
import type { Sample } from '../../schema/sample.ts';

const base: Sample = { ts: 1_764_900_000_000, chipId: 'GPU-1', utilPct: 42.5, memUtilPct: null, memUsedBytes: 1024, memTotalBytes: 85_520_809_984, powerW: 311.2, powerLimitW: 700, tempC: 61, energyJ: 123_456.5 };
const full: Sample = { ...base, smClockMhz: 1980, eccCorrected: 0, eccUncorrected: null, flags: { powerEstimated: true, energyDerived: true }, extras: { core0: 40, core1: 45 } };
const chip = { chipId: 'i-0a.neuron3', vendor: 'aws' as const, model: 'Trainium2', index: 3, cores: 8, memTotalBytes: 96e9, ratedPowerW: 500, host: 'ip-10-0-0-1.ec2.internal', instanceType: 'trn2.48xlarge', agentId: 'agent-1', status: 'live' as const, slot: 7 };
const noLatest: SummaryLatest = { slot: [], age: [], utilPct: [], powerW: [], tempC: [], memUsedBytes: [], flags: [] };
const event = { ruleId: 'hot', chipId: 'GPU-1', from: 'pending' as const, to: 'firing' as const, at: 1, value: 91, severity: 'warning' as const, labels: { alertname: 'hot' }, annotations: { summary: 'hot' }, fingerprint: '0123456789abcdef', startsAt: 1, endsAt: null };

describe('sample rows', () => {
  it.each([
    ['core fields only', base],
    ['optional fields, flags and extras', full],
    ['every value null', { ...base, utilPct: null, memUsedBytes: null, memTotalBytes: null, powerW: null, powerLimitW: null, tempC: null, energyJ: null }],
    ['backfill flag', { ...base, flags: { backfill: true } }],
  ])('%s round-trip', (_name, s) => {
    const row = JSON.parse(JSON.stringify(sampleRow(s)));
    expect(rowSample(s.chipId, row)).toEqual(s);
  });

  it('is less than half the bytes of the sample object without its chip id', () => {
    const { chipId: _c, ...obj } = base;
    expect(JSON.stringify(sampleRow(base)).length).toBeLessThan(JSON.stringify(obj).length / 2);
  });

  it.each([
    ['not an array', { ts: 1 }, /10 or 11 elements/],
    ['too short', [1, 2, 3], /10 or 11 elements/],
    ['string ts', ['1', null, null, null, null, null, null, null, null, 0], /numeric ts and flags/],
    ['string value', [1, 'x', null, null, null, null, null, null, null, 0], /element 1 is not a number or null/],
    ['infinite value', [1, null, null, null, null, null, null, null, 1e400, 0], /element 8/],
    ['rest not an object', [1, null, null, null, null, null, null, null, null, 0, [1]], /11th element/],
    ['bad extras', [1, null, null, null, null, null, null, null, null, 0, { extras: { a: 'x' } }], /extras/],
  ])('refuses a row: %s', (_name, row, err) => {
    expect(() => rowSample('c', row)).toThrow(err);
  });
});

describe('encodeBusMessage / decodeBusMessage', () => {
  it.each<[string, BusMessage]>([
    ['samples', { hub: 'hub-a', t: 'samples', at: 5, chip: 'GPU-1', samples: [base, { ...full, ts: base.ts + 1000 }] }],
    ['status', { hub: 'hub-a', t: 'status', at: 5, chip: 'i-0a.neuron3', status: 'stale' }],
    ['alerts', { hub: 'hub-a', t: 'alerts', at: 5, events: [event] }],
    ['summary, full', { hub: 'hub.a "quoted"', t: 'summary', at: base.ts + 400, full: true, part: 0, parts: 1, chips: [chip], latest: latestColumns([{ slot: 7, sample: full }], base.ts + 400) }],
    ['summary, empty heartbeat', { hub: 'hub-a', t: 'summary', at: 5, full: false, part: 1, parts: 2, chips: [], latest: noLatest }],
    ['sync', { hub: 'hub-a', t: 'sync', at: 5 }],
  ])('%s round-trips and starts with its hub', (_name, m) => {
    const bytes = encodeBusMessage(m);
    expect(decodeBusMessage(bytes)).toEqual(m);
    expect(hasPrefix(bytes, ownMessagePrefix(m.hub))).toBe(true);
    expect(hasPrefix(bytes, ownMessagePrefix('hub-b'))).toBe(false);
    expect(hasPrefix(bytes, ownMessagePrefix(`${m.hub}x`))).toBe(false);
  });

  it('decodes from a view into a larger buffer (as the nats client hands them)', () => {
    const bytes = encodeBusMessage({ hub: 'h', t: 'sync', at: 1 });
    const big = new Uint8Array(bytes.length + 10);
    big.set(bytes, 5);
    expect(decodeBusMessage(big.subarray(5, 5 + bytes.length))).toEqual({ hub: 'h', t: 'sync', at: 1 });
  });

  const enc = (o: unknown) => Buffer.from(JSON.stringify(o));
  it.each([
    ['not JSON', Buffer.from('{nope'), /JSON/],
    ['an array', enc([1]), /JSON object/],
    ['no hub', enc({ t: 'sync', at: 1 }), /hub must be a non-empty string/],
    ['no at', enc({ hub: 'h', t: 'sync' }), /at must be a number/],
    ['unknown kind', enc({ hub: 'h', t: 'gossip', at: 1 }), /unknown bus message kind "gossip"/],
    ['bad status', enc({ hub: 'h', t: 'status', at: 1, chip: 'c', status: 'dead' }), /status must be live, stale or offline/],
    ['samples without rows', enc({ hub: 'h', t: 'samples', at: 1, chip: 'c' }), /rows must be an array/],
    ['summary part out of range', enc({ hub: 'h', t: 'summary', at: 1, full: false, part: 2, parts: 2, chips: [], latest: noLatest }), /part < parts/],
    ['summary chip without status', enc({ hub: 'h', t: 'summary', at: 1, full: false, part: 0, parts: 1, chips: [{ ...chip, status: 'x' }], latest: noLatest }), /status is live, stale or offline/],
    ['summary chip without slot', enc({ hub: 'h', t: 'summary', at: 1, full: false, part: 0, parts: 1, chips: [{ ...chip, slot: 1.5 }], latest: noLatest }), /slot is an integer/],
    ['summary latest as rows', enc({ hub: 'h', t: 'summary', at: 1, full: false, part: 0, parts: 1, chips: [], latest: [[1]] }), /object of columns/],
    ['summary latest columns of unequal length', enc({ hub: 'h', t: 'summary', at: 1, full: false, part: 0, parts: 1, chips: [], latest: { ...noLatest, slot: [1] } }), /column age has 0 entries, slot 1/],
    ['summary latest null age', enc({ hub: 'h', t: 'summary', at: 1, full: false, part: 0, parts: 1, chips: [], latest: { slot: [1], age: [null], utilPct: [1], powerW: [1], tempC: [1], memUsedBytes: [1], flags: [0] } }), /column age holds a value that is not a number$/],
    ['alert event missing fields', enc({ hub: 'h', t: 'alerts', at: 1, events: [{ ruleId: 'x' }] }), /alert events/],
  ])('refuses %s', (_name, bytes, err) => {
    expect(() => decodeBusMessage(bytes)).toThrow(err);
  });
});

describe('summary latest columns', () => {
  const at = base.ts + 250;
  const chips = new Map([[7, { chipId: 'GPU-1', memTotalBytes: 8e10 }], [9, { chipId: 'GPU-2', memTotalBytes: null }]]);
  it.each([
    ['two known chips', [{ slot: 7, sample: full }, { slot: 9, sample: { ...base, chipId: 'GPU-2', ts: base.ts - 1000, utilPct: null } }], ['GPU-1', 'GPU-2'], []],
    ['an unknown slot is listed apart', [{ slot: 7, sample: base }, { slot: 3, sample: base }], ['GPU-1'], [3]],
    ['nothing', [], [], []],
  ] as const)('%s', (_name, entries, chipIds, unknown) => {
    const cols = JSON.parse(JSON.stringify(latestColumns(entries, at)));
    const got = latestSamples(cols, at, (slot) => chips.get(slot));
    expect(got.unknown).toEqual(unknown);
    expect(got.samples.map((s) => s.chipId)).toEqual(chipIds);
    for (const s of got.samples) {
      const src = entries.find((e) => chips.get(e.slot)?.chipId === s.chipId)!.sample;
      // The overview fields as they were; the rest unknown (memTotalBytes from the chip).
      expect(s).toEqual({ ts: src.ts, chipId: s.chipId, utilPct: src.utilPct, powerW: src.powerW, tempC: src.tempC, memUsedBytes: src.memUsedBytes, ...(src.flags ? { flags: src.flags } : {}), memUtilPct: null, memTotalBytes: chips.get(entries.find((e) => chips.get(e.slot)?.chipId === s.chipId)!.slot)!.memTotalBytes, powerLimitW: null, energyJ: null });
    }
  });

  it('is about 40 bytes a chip', () => {
    const entries = Array.from({ length: 1000 }, (_, i) => ({ slot: 1000 + i, sample: { ...base, ts: at - 300, utilPct: 87.5, powerW: 612.37, memUsedBytes: 61_203_234_816 } }));
    expect(JSON.stringify(latestColumns(entries, at)).length / 1000).toBeLessThan(45);
  });
});
