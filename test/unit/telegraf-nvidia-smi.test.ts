import { describe, expect, it } from 'vitest';
import { parseLineProtocol } from '../../server/line-protocol/parse-line-protocol.ts';
import { planWrite, type FleetLookup } from '../../server/line-protocol/plan-write.ts';

const NOW = 1_800_000_000_000;
const MIB = 1048576;

/** Lines exactly as Telegraf's nvidia_smi input documents its output (README, "Example Output"). */
const TELEGRAF_README = [
  'nvidia_smi,compute_mode=Default,host=8218cf,index=0,name=GeForce\\ GTX\\ 1070,pstate=P2,uuid=GPU-823bc202-6279-6f2c-d729-868a30f14d96 fan_speed=100i,memory_free=7563i,memory_total=8112i,memory_used=549i,temperature_gpu=53i,utilization_gpu=100i,utilization_memory=90i 1523991122000000000',
  'nvidia_smi,compute_mode=Default,host=8218cf,index=1,name=GeForce\\ GTX\\ 1080,pstate=P2,uuid=GPU-f9ba66fc-a7f5-94c5-da19-019ef2f9c665 fan_speed=100i,memory_free=7557i,memory_total=8114i,memory_used=557i,temperature_gpu=50i,utilization_gpu=100i,utilization_memory=85i 1523991122000000000',
].join('\n');

/** A data-centre GPU with the fields newer Telegraf releases add (power_limit, clocks, string versions). */
const H100_LINE =
  'nvidia_smi,arch=Hopper,compute_mode=Default,host=gpu-node-7,index=3,name=NVIDIA\\ H100\\ 80GB\\ HBM3,pstate=P0,uuid=GPU-5f1c2d3e-0000-1111-2222-333344445555 ' +
  'clocks_current_sm=1980i,cuda_version="12.8",driver_version="580.159.04",fan_speed=0i,memory_free=7332i,memory_total=81559i,memory_used=74227i,' +
  'power_draw=612.45,power_limit=700,temperature_gpu=61i,utilization_gpu=97i,utilization_memory=41i,pcie_link_gen_current=5i,ecc_mode="Enabled" 1796000000123000000';

describe('Telegraf nvidia_smi lines', () => {
  it('maps the documented example output: uuid → chip, name → model, index kept, MiB → bytes', () => {
    const res = parseLineProtocol(TELEGRAF_README, NOW);
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.points).toEqual([
      {
        line: 1, host: '8218cf', vendor: 'nvidia', model: 'GeForce-GTX-1070', instanceType: null, index: 0,
        sample: {
          ts: 1523991122000, chipId: 'GPU-823bc202-6279-6f2c-d729-868a30f14d96', utilPct: 100, memUtilPct: 90, memUsedBytes: 549 * MIB, memTotalBytes: 8112 * MIB,
          powerW: null, powerLimitW: null, tempC: 53, energyJ: null, smClockMhz: null, eccCorrected: null, eccUncorrected: null,
          extras: { fan_speed: 100, memory_free: 7563 },
        },
      },
      {
        line: 2, host: '8218cf', vendor: 'nvidia', model: 'GeForce-GTX-1080', instanceType: null, index: 1,
        sample: {
          ts: 1523991122000, chipId: 'GPU-f9ba66fc-a7f5-94c5-da19-019ef2f9c665', utilPct: 100, memUtilPct: 85, memUsedBytes: 557 * MIB, memTotalBytes: 8114 * MIB,
          powerW: null, powerLimitW: null, tempC: 50, energyJ: null, smClockMhz: null, eccCorrected: null, eccUncorrected: null,
          extras: { fan_speed: 100, memory_free: 7557 },
        },
      },
    ]);
  });

  it('maps power, power limit, SM clock and the model of a data-centre GPU; string fields are ignored', () => {
    const res = parseLineProtocol(H100_LINE, NOW);
    expect(res.ok && res.points[0]).toEqual({
      line: 1, host: 'gpu-node-7', vendor: 'nvidia', model: 'H100', instanceType: null, index: 3,
      sample: {
        ts: 1796000000123, chipId: 'GPU-5f1c2d3e-0000-1111-2222-333344445555', utilPct: 97, memUtilPct: 41, memUsedBytes: 74227 * MIB, memTotalBytes: 81559 * MIB,
        powerW: 612.45, powerLimitW: 700, tempC: 61, energyJ: null, smClockMhz: 1980, eccCorrected: null, eccUncorrected: null,
        extras: { fan_speed: 0, memory_free: 7332, pcie_link_gen_current: 5 },
      },
    });
  });

  it.each([
    ['no host tag (omit_hostname)', 'nvidia_smi,index=0,uuid=GPU-1 utilization_gpu=5i', /missing tag "host"/, 'bad_request'],
    ['no uuid tag', 'nvidia_smi,host=h,index=0 utilization_gpu=5i', /missing tag "uuid"/, 'bad_request'],
    ['a uuid that is no chip id', 'nvidia_smi,host=h,uuid=GPU/1 utilization_gpu=5i', /tag "uuid"/, 'bad_request'],
    ['utilization above 100', 'nvidia_smi,host=h,uuid=GPU-1 utilization_gpu=250i', /field "utilization_gpu": 250 is outside 0\.\.100/, 'out_of_range'],
    ['an unterminated string', 'nvidia_smi,host=h,uuid=GPU-1 driver_version="580 1', /no closing quote/, 'bad_request'],
    ['a field without a value', 'nvidia_smi,host=h,uuid=GPU-1 power_draw=', /empty value/, 'bad_request'],
  ])('refuses %s', (_name, body, message, code) => {
    const res = parseLineProtocol(body, NOW);
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.message).toMatch(message);
    expect(res.code).toBe(code);
  });

  it('still refuses other measurements, naming both accepted ones', () => {
    const res = parseLineProtocol('cpu,host=h usage=1', NOW);
    expect(!res.ok && res.message).toMatch(/only "chip", "work" and Telegraf's "nvidia_smi"/);
  });

  it('registers the chips under the host with their nvidia-smi indexes', () => {
    const res = parseLineProtocol([H100_LINE, TELEGRAF_README.split('\n')[0].replace('host=8218cf', 'host=gpu-node-7')].join('\n'), NOW);
    if (!res.ok) throw new Error(res.message);
    const empty: FleetLookup = { get: () => undefined, isActive: () => false, isPushAgent: () => false, agentChips: () => [] };
    const plan = planWrite(res.points, empty);
    if (!plan.ok) throw new Error(plan.message);
    expect(plan.hosts).toHaveLength(1);
    expect(plan.hosts[0].registration.agentId).toBe('lp-gpu-node-7');
    expect(plan.hosts[0].registration.chips.map((c) => [c.chipId, c.index, c.model, c.memTotalBytes, c.ratedPowerW])).toEqual([
      ['GPU-823bc202-6279-6f2c-d729-868a30f14d96', 0, 'GeForce-GTX-1070', 8112 * MIB, null],
      ['GPU-5f1c2d3e-0000-1111-2222-333344445555', 3, 'H100', 81559 * MIB, 700],
    ]);
  });
});
