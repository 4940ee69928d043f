import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_NEURON_SYSFS_DIR,
  neuronPowerPath,
  neuronPowerWatts,
  parseNeuronPowerUtilization,
  readNeuronPowerW,
} from '../../agents/sources/neuron-sysfs-power.ts';

const SYSFS = fileURLToPath(new URL('../fixtures/neuron/sysfs', import.meta.url));

describe('parseNeuronPowerUtilization', () => {
  it.each([
    ['POWER_STATUS_VALID,1718000040,41.27,93.05,78.66\n', { status: 'POWER_STATUS_VALID', epochS: 1718000040, minPct: 41.27, maxPct: 93.05, avgPct: 78.66 }],
    ['POWER_STATUS_NO_DATA,1718000040,0.00,0.00,0.00', { status: 'POWER_STATUS_NO_DATA', epochS: 1718000040, minPct: 0, maxPct: 0, avgPct: 0 }],
    ['POWER_STATUS_INVALID,0,,,', { status: 'POWER_STATUS_INVALID', epochS: 0, minPct: null, maxPct: null, avgPct: null }],
    ['POWER_STATUS_NO_DATA', { status: 'POWER_STATUS_NO_DATA', epochS: null, minPct: null, maxPct: null, avgPct: null }],
    [' POWER_STATUS_VALID, 1718000100, 1.5, 2.5, 2.00 \n\n', { status: 'POWER_STATUS_VALID', epochS: 1718000100, minPct: 1.5, maxPct: 2.5, avgPct: 2 }],
  ])('%j', (text, want) => {
    expect(parseNeuronPowerUtilization(text)).toEqual(want);
  });

  it.each(['', 'garbage here', '78.66', 'POWER_STATUS_VALID,1,2,3,4,5', '{"status":1}'])('malformed %j throws', (text) => {
    expect(() => parseNeuronPowerUtilization(text)).toThrow(/neuron sysfs power/);
  });
});

describe('neuronPowerWatts', () => {
  const u = (status: string, avgPct: number | null) => ({ status, epochS: 1718000040, minPct: null, maxPct: null, avgPct });
  it.each([
    ['VALID 78.66 % of 500 W', u('POWER_STATUS_VALID', 78.66), 500, 393.3],
    ['VALID 30 % of 1000 W', u('POWER_STATUS_VALID', 30), 1000, 300],
    ['VALID 0 %', u('POWER_STATUS_VALID', 0), 500, 0],
    ['NO_DATA', u('POWER_STATUS_NO_DATA', 50), 500, null],
    ['INVALID', u('POWER_STATUS_INVALID', 50), 500, null],
    ['VALID without avg', u('POWER_STATUS_VALID', null), 500, null],
    ['VALID above 100 %', u('POWER_STATUS_VALID', 100.5), 500, null],
    ['VALID negative', u('POWER_STATUS_VALID', -1), 500, null],
  ])('%s', (_n, reading, rated, want) => {
    expect(neuronPowerWatts(reading, rated)).toBe(want);
  });
});

describe('readNeuronPowerW (fixture sysfs tree)', () => {
  it.each([
    [0, 500, 393.3], // VALID 78.66 %
    [1, 500, null], // NO_DATA
    [2, 500, null], // INVALID
    [3, 500, null], // no file
    [4, 500, 150], // VALID 30 %
    [4, 1000, 300],
  ])('neuron%i at rated %i W → %s', (i, rated, want) => {
    expect(readNeuronPowerW(i, rated, SYSFS)).toBe(want);
  });

  it('builds the driver path; default root is the driver sysfs dir', () => {
    expect(neuronPowerPath('/sys/devices/virtual/neuron_device', 7)).toBe('/sys/devices/virtual/neuron_device/neuron7/stats/power/utilization');
    expect(DEFAULT_NEURON_SYSFS_DIR).toBe('/sys/devices/virtual/neuron_device');
  });

  it('a missing root is null, not an error', () => {
    expect(readNeuronPowerW(0, 500, '/nonexistent/neuron_device')).toBeNull();
  });
});
