import { describe, expect, it } from 'vitest';
import type { ChipView } from '../../schema/protocol.ts';
import type { Sample } from '../../schema/sample.ts';
import { renderFleetMetrics, type FleetNameSet } from '../../server/telemetry/fleet-exposition.ts';
import { escapeLabelValue, extraLabel, formatValue, openLabelSet } from '../../server/telemetry/prom-text.ts';

const TS = 1_796_000_000_000;

function sample(chipId: string, over: Partial<Sample> = {}): Sample {
  return { ts: TS, chipId, utilPct: 62.5, memUtilPct: 30, memUsedBytes: 2 * 1048576, memTotalBytes: 8 * 1048576, powerW: 612.25, powerLimitW: 700, tempC: 61, energyJ: 1234.5, eccUncorrected: 0, ...over };
}

function gpu(i: number, over: Partial<ChipView> = {}, s: Partial<Sample> = {}): ChipView {
  const chipId = `GPU-${i}`;
  return { chipId, vendor: 'nvidia', model: 'H100', index: i, cores: 132, memTotalBytes: 8 * 1048576, ratedPowerW: 700, host: 'p5-a', instanceType: 'p5.48xlarge', agentId: 'a', status: 'live', latest: sample(chipId, s), ...over };
}

function trn(i: number, s: Partial<Sample> = {}, over: Partial<ChipView> = {}): ChipView {
  const chipId = `i-0abc-neuron${i}`;
  return { chipId, vendor: 'aws', model: 'Trainium2', index: i, cores: 2, memTotalBytes: 96e9, ratedPowerW: 500, host: 'trn-a', instanceType: 'trn2.48xlarge', agentId: 'b', status: 'live', latest: sample(chipId, { tempC: null, eccCorrected: 3, eccUncorrected: 1, extras: { nc0: 40, nc1: 60, pnc0: 1 }, ...s }), ...over };
}

/** The exposition's sample lines (no HELP/TYPE), for exact comparison. */
const lines = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
const G0 = 'host="p5-a",chip="GPU-0",vendor="nvidia",model="H100",instance_type="p5.48xlarge"';

describe('renderFleetMetrics', () => {
  const cases: { name: string; chips: ChipView[]; names?: FleetNameSet; has: string[]; lacks: RegExp[] }[] = [
    {
      name: 'a live GPU: every field with the sample timestamp; up 1 without one',
      chips: [gpu(0)],
      has: [
        `fleetscope_chip_power_watts{${G0}} 612.25 ${TS}`,
        `fleetscope_chip_utilization_ratio{${G0}} 0.625 ${TS}`,
        `fleetscope_chip_memory_used_bytes{${G0}} 2097152 ${TS}`,
        `fleetscope_chip_temperature_celsius{${G0}} 61 ${TS}`,
        `fleetscope_chip_energy_joules_total{${G0}} 1234.5 ${TS}`,
        `fleetscope_chip_ecc_uncorrected_total{${G0}} 0 ${TS}`,
        `fleetscope_chip_up{${G0}} 1`,
      ],
      lacks: [],
    },
    {
      name: 'a stale chip: up 0 and no value at all (never 0)',
      chips: [gpu(0, { status: 'stale' })],
      has: [`fleetscope_chip_up{${G0}} 0`],
      lacks: [/^fleetscope_chip_(power|utilization|memory|temperature|energy|ecc)/],
    },
    {
      name: 'an offline chip and a chip that never sent a sample: up 0 only',
      chips: [gpu(0, { status: 'offline' }), gpu(1, { latest: null })],
      has: [`fleetscope_chip_up{${G0}} 0`, `fleetscope_chip_up{${G0.replace('GPU-0', 'GPU-1')}} 0`],
      lacks: [/_watts/],
    },
    {
      name: 'null fields are left out (Neuron has no temperature), the rest written',
      chips: [trn(0, { powerW: null })],
      has: ['fleetscope_chip_utilization_ratio{host="trn-a",chip="i-0abc-neuron0",vendor="aws",model="Trainium2",instance_type="trn2.48xlarge"} 0.625 ' + TS],
      lacks: [/^fleetscope_chip_temperature_celsius/, /^fleetscope_chip_power_watts/],
    },
    {
      name: 'label values escape quotes, backslashes and newlines; a null instance type is ""',
      chips: [gpu(0, { host: 'h"1\\x\ny', model: 'H100 "SXM"', instanceType: null })],
      has: [`fleetscope_chip_up{host="h\\"1\\\\x\\ny",chip="GPU-0",vendor="nvidia",model="H100 \\"SXM\\"",instance_type=""} 1`],
      lacks: [],
    },
    {
      name: 'dcgm names: NVIDIA chips only, dcgm units (%, W, MiB, mJ) and labels',
      names: 'dcgm',
      chips: [gpu(3), trn(0)],
      has: [
        `DCGM_FI_DEV_GPU_UTIL{gpu="3",UUID="GPU-3",device="nvidia3",modelName="H100",Hostname="p5-a"} 62.5 ${TS}`,
        `DCGM_FI_DEV_POWER_USAGE{gpu="3",UUID="GPU-3",device="nvidia3",modelName="H100",Hostname="p5-a"} 612.25 ${TS}`,
        `DCGM_FI_DEV_FB_USED{gpu="3",UUID="GPU-3",device="nvidia3",modelName="H100",Hostname="p5-a"} 2 ${TS}`,
        `DCGM_FI_DEV_FB_FREE{gpu="3",UUID="GPU-3",device="nvidia3",modelName="H100",Hostname="p5-a"} 6 ${TS}`,
        `DCGM_FI_DEV_GPU_TEMP{gpu="3",UUID="GPU-3",device="nvidia3",modelName="H100",Hostname="p5-a"} 61 ${TS}`,
        `DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu="3",UUID="GPU-3",device="nvidia3",modelName="H100",Hostname="p5-a"} 1234500 ${TS}`,
      ],
      lacks: [/neuron/, /^fleetscope_/],
    },
    {
      name: 'dcgm names leave a stale GPU out entirely',
      names: 'dcgm',
      chips: [gpu(0, { status: 'stale' })],
      has: [],
      lacks: [/DCGM/],
    },
    {
      name: 'neuron names: Neuron chips only, per-core utilization ratio, memory, ECC events by type',
      names: 'neuron',
      chips: [gpu(0), trn(1)],
      has: [
        `neuroncore_utilization_ratio{instance_name="trn-a",instance_type="trn2.48xlarge",neuron_device_index="1",neuroncore="2"} 0.4 ${TS}`,
        `neuroncore_utilization_ratio{instance_name="trn-a",instance_type="trn2.48xlarge",neuron_device_index="1",neuroncore="3"} 0.6 ${TS}`,
        `neuron_runtime_memory_used_bytes{instance_name="trn-a",instance_type="trn2.48xlarge",neuron_device_index="1",memory_location="neuron_device"} 2097152 ${TS}`,
        `hardware_ecc_events_total{instance_name="trn-a",instance_type="trn2.48xlarge",neuron_device_index="1",event_type="mem_ecc_corrected"} 3 ${TS}`,
        `hardware_ecc_events_total{instance_name="trn-a",instance_type="trn2.48xlarge",neuron_device_index="1",event_type="mem_ecc_uncorrected"} 1 ${TS}`,
      ],
      lacks: [/DCGM/, /GPU-0/, /pnc/],
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const out = lines(renderFleetMetrics(c.chips, c.names).toString());
      for (const l of c.has) expect(out).toContain(l);
      for (const re of c.lacks) expect(out.filter((l) => re.test(l))).toEqual([]);
    });
  }

  it('writes HELP and TYPE once per family, counters as counter, and nothing for an empty fleet', () => {
    const text = renderFleetMetrics([gpu(0), gpu(1)]).toString();
    expect(text.match(/^# TYPE fleetscope_chip_power_watts gauge$/gm)).toHaveLength(1);
    expect(text).toMatch(/^# TYPE fleetscope_chip_energy_joules_total counter$/m);
    expect(renderFleetMetrics([]).toString()).toBe('');
  });
});

describe('prom-text', () => {
  it.each([
    ['plain', 'plain'],
    ['a"b', 'a\\"b'],
    ['a\\b', 'a\\\\b'],
    ['a\nb', 'a\\nb'],
    ['\\"\n', '\\\\\\"\\n'],
  ])('escapes label value %j', (raw, escaped) => {
    expect(escapeLabelValue(raw)).toBe(escaped);
    expect(openLabelSet([['k', raw], ['n', null]])).toBe(`{k="${escaped}",n=""`);
    expect(extraLabel('k', raw)).toBe(`,k="${escaped}"`);
  });

  it.each([
    [1.5, '1.5'],
    [1e21, '1e+21'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
  ])('formats %p as %s', (v, s) => expect(formatValue(v)).toBe(s));
});
