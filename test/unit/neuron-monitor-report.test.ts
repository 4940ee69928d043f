import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEccAccumulator, neuronDeviceType, parseNeuronMonitorReport } from '../../agents/sources/neuron-monitor-report.ts';
import { chipInfoSchema, chipIdSchema, hostInfoSchema, sampleSchema, type Sample } from '../../schema/sample.ts';

const FIX = new URL('../fixtures/neuron/', import.meta.url);
const TRN2 = readFileSync(new URL('trn2-report.json', FIX), 'utf8');
const TRN1 = readFileSync(new URL('trn1-report.json', FIX), 'utf8');
const STREAM = readFileSync(new URL('neuron-monitor-stream.jsonl', FIX), 'utf8').split('\n').filter(Boolean);
const TS = 1_790_000_000_000;
const TRN2_ID = 'i-0a1b2c3d4e5f60718';
/** Device memory one llama core holds (fixture `neuroncore_memory_usage` categories summed). */
const LLAMA_CORE_BYTES = 13958643712 + 402653184 + 1073741824 + 268435456 + 5771362304;
const BERT_CORE_BYTES = 1207959552 + 176285056 + 0 + 67108864 + 20971520;

const parse = (line: string, fallbackHostname = 'fallback-host', powerW?: (d: number) => number | null) =>
  parseNeuronMonitorReport(line, { ts: TS, fallbackHostname, powerW });
/** Parse the trn2 fixture after `mutate` changed its JSON. */
const parseTrn2 = (mutate: (r: any) => void, fallbackHostname?: string) => {
  const r = JSON.parse(TRN2);
  mutate(r);
  return parse(JSON.stringify(r), fallbackHostname);
};
const dev = (samples: Sample[], i: number) => samples[i]!;

function expectValid(out: ReturnType<typeof parse>) {
  expect(hostInfoSchema.safeParse(out.host).success).toBe(true);
  for (const c of out.chips) expect(chipInfoSchema.safeParse(c).error).toBeUndefined();
  for (const s of out.samples) expect(sampleSchema.safeParse(s).error).toBeUndefined();
}

describe('parseNeuronMonitorReport: trn2.48xlarge (LNC=2, v3d)', () => {
  const out = parse(TRN2);

  it('reads host and 16 Trainium2 chips from instance_info / neuron_hardware_info', () => {
    expectValid(out);
    expect(out.host).toEqual({ hostname: 'trn2-train-a-017', instanceId: TRN2_ID, instanceType: 'trn2.48xlarge' });
    expect(out.chips).toHaveLength(16);
    expect(out.chips[3]).toEqual({
      chipId: `${TRN2_ID}-neuron3`, vendor: 'aws', model: 'Trainium2', index: 3, cores: 4, memTotalBytes: 103079215104, ratedPowerW: 500,
    });
    expect(out.samples.map((s) => s.chipId)).toEqual(out.chips.map((c) => c.chipId));
  });

  it.each([
    // device, utilPct (mean of its in-use logical cores), memUsedBytes, extras
    [0, 87.26, 4 * LLAMA_CORE_BYTES, { nc0: 84.15, nc1: 93.28, nc2: 88.3, nc3: 83.32, pnc0: 85.46, pnc1: 82.84, pnc2: 93.48, pnc3: 93.08, pnc4: 89.24, pnc5: 87.36, pnc6: 85, pnc7: 81.64 }],
    [1, 88.51, 4 * LLAMA_CORE_BYTES, { nc0: 92.45, nc1: 87.47, nc2: 82.49, nc3: 91.62, pnc0: 93.02, pnc1: 91.88, pnc2: 88.78, pnc3: 86.16, pnc4: 82.69, pnc5: 82.29, pnc6: 92.56, pnc7: 90.68 }],
    // cores 16, 17 = device 4 locals 0, 1 (core 17 attached but idle: 0, not null); nc_v3.32.. → pnc0..
    [4, 21.88, 2 * BERT_CORE_BYTES, { nc0: 43.75, nc1: 0, pnc0: 44.85, pnc1: 42.65, pnc2: 0, pnc3: 0 }],
  ])('device %i: util %d, mem, per-core extras (global core → floor(core / 4))', (i, util, mem, extras) => {
    const s = dev(out.samples, i);
    expect(s.utilPct).toBe(util);
    expect(s.memUsedBytes).toBe(mem);
    expect(s.extras).toEqual(extras);
  });

  it.each([2, 3, 5, 15])('device %i has no runtime: utilPct and memUsedBytes null, no extras', (i) => {
    const s = dev(out.samples, i);
    expect(s.utilPct).toBeNull();
    expect(s.memUsedBytes).toBeNull();
    expect(s.extras).toBeUndefined();
  });

  it('fills the fixed fields: no temperature, no memory utilization, no energy, rated limit', () => {
    for (const s of out.samples) {
      expect(s).toMatchObject({ ts: TS, memUtilPct: null, tempC: null, energyJ: null, powerW: null, powerLimitW: 500, memTotalBytes: 103079215104 });
      expect(s.flags).toBeUndefined();
    }
  });

  it('sums mem + sram ECC per device', () => {
    expect(dev(out.samples, 5)).toMatchObject({ eccCorrected: 3, eccUncorrected: 1 });
    expect(dev(out.samples, 0)).toMatchObject({ eccCorrected: 0, eccUncorrected: 0 });
  });
});

describe('parseNeuronMonitorReport: trn1.32xlarge (NeuronCore-v2, no v3d)', () => {
  const out = parse(TRN1, 'ip-10-0-1-17');
  it('maps 16 Trainium chips of 2 cores, host name falls back when instance_name is empty', () => {
    expectValid(out);
    expect(out.host).toEqual({ hostname: 'ip-10-0-1-17', instanceId: 'i-09db1e3c5a7f2b4d6', instanceType: 'trn1.32xlarge' });
    expect(out.chips[7]).toEqual({
      chipId: 'i-09db1e3c5a7f2b4d6-neuron7', vendor: 'aws', model: 'Trainium', index: 7, cores: 2, memTotalBytes: 34359738368, ratedPowerW: 400,
    });
  });
  it('runtime on cores 0..15 covers devices 0..7 only', () => {
    expect(dev(out.samples, 0).utilPct).toBeCloseTo(68.515, 1);
    expect(dev(out.samples, 0).extras).toEqual({ nc0: 60, nc1: 77.03 });
    expect(dev(out.samples, 7).utilPct).toBe(80.96);
    expect(dev(out.samples, 7).extras).toEqual({ nc0: 87.51, nc1: 74.41 });
    expect(dev(out.samples, 0).memUsedBytes).toBe(2 * (4294967296 + 268435456 + 536870912 + 134217728 + 2147483648));
    for (let i = 8; i < 16; i++) expect(dev(out.samples, i)).toMatchObject({ utilPct: null, memUsedBytes: null });
  });
  it('ECC sums', () => {
    expect(dev(out.samples, 3)).toMatchObject({ eccCorrected: 4, eccUncorrected: 0 });
    expect(dev(out.samples, 12)).toMatchObject({ eccCorrected: 2, eccUncorrected: 1 });
  });
});

describe('parseNeuronMonitorReport: degraded groups give nulls, never throw', () => {
  const A = 0; // runtime llama-train-7: devices 0, 1
  const B = 1; // runtime bert-serve: device 4
  it.each<[string, (r: any) => void, { util: Array<number | null>; mem: Array<number | null>; ecc5: number | null }]>([
    ['runtime entry error', (r) => (r.neuron_runtime_data[A].error = 'runtime not responding'), { util: [null, null, 21.88], mem: [null, null, 2 * BERT_CORE_BYTES], ecc5: 3 }],
    ['neuroncore_counters error', (r) => (r.neuron_runtime_data[A].report.neuroncore_counters.error = 'failed'), { util: [null, null, 21.88], mem: [4 * LLAMA_CORE_BYTES, 4 * LLAMA_CORE_BYTES, 2 * BERT_CORE_BYTES], ecc5: 3 }],
    ['neuroncore_counters missing', (r) => delete r.neuron_runtime_data[B].report.neuroncore_counters, { util: [87.26, 88.51, null], mem: [4 * LLAMA_CORE_BYTES, 4 * LLAMA_CORE_BYTES, 2 * BERT_CORE_BYTES], ecc5: 3 }],
    ['memory_used error', (r) => (r.neuron_runtime_data[A].report.memory_used.error = 'failed'), { util: [87.26, 88.51, 21.88], mem: [null, null, 2 * BERT_CORE_BYTES], ecc5: 3 }],
    ['no breakdown, runtime on one device: its total', (r) => delete r.neuron_runtime_data[B].report.memory_used.neuron_runtime_used_bytes.usage_breakdown, { util: [87.26, 88.51, 21.88], mem: [4 * LLAMA_CORE_BYTES, 4 * LLAMA_CORE_BYTES, 2 * BERT_CORE_BYTES], ecc5: 3 }],
    ['no breakdown, runtime on two devices: unknown', (r) => delete r.neuron_runtime_data[A].report.memory_used.neuron_runtime_used_bytes.usage_breakdown, { util: [87.26, 88.51, 21.88], mem: [null, null, 2 * BERT_CORE_BYTES], ecc5: 3 }],
    ['neuron_runtime_data: [] (no runtime attached)', (r) => (r.neuron_runtime_data = []), { util: [null, null, null], mem: [null, null, null], ecc5: 3 }],
    ['neuron_runtime_data missing', (r) => delete r.neuron_runtime_data, { util: [null, null, null], mem: [null, null, null], ecc5: 3 }],
    ['system_data missing', (r) => delete r.system_data, { util: [87.26, 88.51, 21.88], mem: [4 * LLAMA_CORE_BYTES, 4 * LLAMA_CORE_BYTES, 2 * BERT_CORE_BYTES], ecc5: null }],
    ['neuron_hw_counters error', (r) => (r.system_data.neuron_hw_counters.error = 'driver'), { util: [87.26, 88.51, 21.88], mem: [4 * LLAMA_CORE_BYTES, 4 * LLAMA_CORE_BYTES, 2 * BERT_CORE_BYTES], ecc5: null }],
    ['an ECC field missing', (r) => delete r.system_data.neuron_hw_counters.neuron_devices[5].sram_ecc_corrected, { util: [87.26, 88.51, 21.88], mem: [4 * LLAMA_CORE_BYTES, 4 * LLAMA_CORE_BYTES, 2 * BERT_CORE_BYTES], ecc5: null }],
    ['a core index beyond the devices is ignored', (r) => (r.neuron_runtime_data[B].report.neuroncore_counters.neuroncores_in_use['64'] = { neuroncore_utilization: 50 }), { util: [87.26, 88.51, 21.88], mem: [4 * LLAMA_CORE_BYTES, 4 * LLAMA_CORE_BYTES, 2 * BERT_CORE_BYTES], ecc5: 3 }],
  ])('%s', (_name, mutate, want) => {
    const out = parseTrn2(mutate);
    expectValid(out);
    expect(out.chips).toHaveLength(16);
    expect([0, 1, 4].map((i) => dev(out.samples, i).utilPct)).toEqual(want.util);
    expect([0, 1, 4].map((i) => dev(out.samples, i).memUsedBytes)).toEqual(want.mem);
    expect(dev(out.samples, 5).eccCorrected).toBe(want.ecc5);
    for (const i of [0, 1, 4]) if (want.util[[0, 1, 4].indexOf(i)] === null) expect(dev(out.samples, i).extras).toBeUndefined();
  });

  it('LNC=1 layout (8 cores per device): cores 0..7 are device 0, cores 16, 17 device 2', () => {
    const out = parseTrn2((r) => {
      r.neuron_hardware_info.neuroncore_per_device_count = 8;
      r.neuron_hardware_info.logical_neuroncore_config = 1;
      for (const rt of r.neuron_runtime_data) for (const c of Object.values<any>(rt.report.neuroncore_counters.neuroncores_in_use)) delete c.v3d;
    });
    expect(out.chips[0]!.cores).toBe(8);
    expect(dev(out.samples, 0).utilPct).toBe(87.89); // mean of the 8 llama cores
    expect(Object.keys(dev(out.samples, 0).extras!)).toEqual(['nc0', 'nc1', 'nc2', 'nc3', 'nc4', 'nc5', 'nc6', 'nc7']);
    expect(dev(out.samples, 1).utilPct).toBeNull();
    expect(dev(out.samples, 2).utilPct).toBe(21.88);
    expect(dev(out.samples, 4).utilPct).toBeNull();
  });

  it('out-of-range utilization is clamped to 0..100 in utilPct', () => {
    const out = parseTrn2((r) => {
      const cores = r.neuron_runtime_data[B].report.neuroncore_counters.neuroncores_in_use;
      cores['16'].neuroncore_utilization = 130;
      cores['17'].neuroncore_utilization = 120;
    });
    expect(dev(out.samples, 4).utilPct).toBe(100);
    expectValid(out);
  });

  it.each([
    ['neuron_hardware_info error', (r: any) => (r.neuron_hardware_info.error = 'Neuron driver not loaded')],
    ['neuron_hardware_info missing', (r: any) => delete r.neuron_hardware_info],
  ])('%s: no chips, no samples', (_n, mutate) => {
    const out = parseTrn2(mutate);
    expect(out.chips).toEqual([]);
    expect(out.samples).toEqual([]);
    expect(out.host.instanceId).toBe(TRN2_ID);
  });
});

describe('parseNeuronMonitorReport: chip ids and host', () => {
  it.each<[string, (r: any) => void, string, string, string | null]>([
    ['instance_info ok', () => {}, 'h', `${TRN2_ID}-neuron0`, TRN2_ID],
    ['instance_info error', (r) => (r.instance_info.error = 'IMDS unreachable'), 'ip-10-0-0-5', 'ip-10-0-0-5-neuron0', null],
    ['instance_info missing', (r) => delete r.instance_info, 'ip-10-0-0-5', 'ip-10-0-0-5-neuron0', null],
    ['empty instance_id', (r) => (r.instance_info.instance_id = ''), 'ip-10-0-0-5', 'ip-10-0-0-5-neuron0', null],
    ['instance_id not URL-safe', (r) => (r.instance_info.instance_id = 'i-0a1b/../x'), 'host.example.com', 'host.example.com-neuron0', null],
    ['fallback host name not URL-safe', (r) => (r.instance_info.error = 'x'), 'my host/1', 'my-host-1-neuron0', null],
  ])('%s', (_n, mutate, fallback, chipId, instanceId) => {
    const out = parseTrn2(mutate, fallback);
    expect(out.chips[0]!.chipId).toBe(chipId);
    expect(out.samples[0]!.chipId).toBe(chipId);
    expect(out.host.instanceId).toBe(instanceId);
    for (const c of out.chips) expect(chipIdSchema.safeParse(c.chipId).success).toBe(true);
    expectValid(out);
  });

  it('instance_info error: host name falls back, instance type unknown', () => {
    const out = parseTrn2((r) => (r.instance_info.error = 'IMDS unreachable'), 'ip-10-0-0-5');
    expect(out.host).toEqual({ hostname: 'ip-10-0-0-5', instanceId: null, instanceType: null });
  });

  it.each([
    ['trainium2', 'Trainium2', 500],
    ['trainium', 'Trainium', 400],
    ['inferentia2', 'Inferentia2', 120],
    ['trainium3', 'Trainium3', 1000],
    ['inferentia', 'Inferentia', null],
    [null, 'Neuron', null],
  ])('device type %s → %s, rated %s W', (type, model, rated) => {
    expect(neuronDeviceType(type)).toEqual({ model, ratedPowerW: rated });
    const out = parseTrn2((r) => (r.neuron_hardware_info.neuron_device_type = type));
    expect(out.chips[0]).toMatchObject({ model, ratedPowerW: rated });
    expect(out.samples[0]!.powerLimitW).toBe(rated);
  });
});

describe('parseNeuronMonitorReport: power hook', () => {
  it('uses powerW(device) and flags it estimated; null / NaN stay null and unflagged', () => {
    const out = parse(TRN2, 'h', (d) => (d === 0 ? 393.3 : d === 1 ? Number.NaN : null));
    expect(dev(out.samples, 0)).toMatchObject({ powerW: 393.3, flags: { powerEstimated: true }, energyJ: null });
    expect(dev(out.samples, 1).powerW).toBeNull();
    expect(dev(out.samples, 1).flags).toBeUndefined();
    expect(dev(out.samples, 2).powerW).toBeNull();
  });
});

describe('parseNeuronMonitorReport: not a report → throws', () => {
  it.each([
    ['empty', ''],
    ['whitespace', '   '],
    ['garbage', 'neuron-monitor: starting up'],
    ['partial line', TRN2.slice(0, TRN2.length / 2)],
    ['truncated stream line', STREAM[0]!.slice(0, -1)],
    ['array', '[1,2]'],
    ['null', 'null'],
    ['number', '42'],
    ['other object', '{"foo": 1}'],
  ])('%s', (_n, line) => {
    expect(() => parse(line)).toThrow(/neuron-monitor: (empty line|not JSON|not a report)/);
  });
});

describe('fixture stream', () => {
  it('parses every line; the degraded reports give nulls', () => {
    const outs = STREAM.map((l) => parse(l));
    for (const o of outs) expectValid(o);
    expect(outs.map((o) => dev(o.samples, 0).utilPct)).toEqual([87.26, null, null, 85.6, 86.23]);
    expect(outs.map((o) => dev(o.samples, 4).utilPct)).toEqual([21.88, 23, null, 25.25, 26.38]);
    expect(outs.map((o) => dev(o.samples, 0).memUsedBytes)).toEqual([4 * LLAMA_CORE_BYTES, 4 * LLAMA_CORE_BYTES, null, 4 * LLAMA_CORE_BYTES, 4 * LLAMA_CORE_BYTES]);
    expect(outs.map((o) => dev(o.samples, 5).eccCorrected)).toEqual([3, 1, 0, null, 3]);
  });
});

describe('createEccAccumulator', () => {
  it('turns per-report counts into monotonic totals per chip; null adds nothing', () => {
    const acc = createEccAccumulator();
    const s = (chipId: string, c: number | null, u: number | null) => ({ chipId, eccCorrected: c, eccUncorrected: u }) as Sample;
    const seq = [[s('a', 3, 1), s('b', 0, 0)], [s('a', 1, 0), s('b', 2, null)], [s('a', null, null), s('b', 0, 1)], [s('a', 3, 0), s('b', 0, 0)]];
    for (const batch of seq) acc(batch);
    expect(seq.map((b) => [b[0]!.eccCorrected, b[0]!.eccUncorrected, b[1]!.eccCorrected, b[1]!.eccUncorrected])).toEqual([
      [3, 1, 0, 0],
      [4, 1, 2, null],
      [null, null, 2, 1],
      [7, 1, 2, 1],
    ]);
  });
});
