/** Builders for valid protocol frames used across tests. */
import type { BatchMessage, HelloMessage } from '../../schema/protocol.ts';
import type { ChipInfo, Sample } from '../../schema/sample.ts';

export function chipInfo(i: number, over: Partial<ChipInfo> = {}): ChipInfo {
  return { chipId: `GPU-test-${i}`, vendor: 'nvidia', model: 'H100', index: i, cores: 132, memTotalBytes: 81559 * 1048576, ratedPowerW: 700, ...over };
}

export function hello(agentId = 'agent-a', chips = [chipInfo(0), chipInfo(1)], over: Partial<HelloMessage> = {}): HelloMessage {
  return { v: 1, type: 'hello', agentId, agentVersion: 'test', host: { hostname: `${agentId}-host`, instanceId: null, instanceType: 'p5.48xlarge' }, intervalMs: 1000, chips, ...over };
}

export function sample(chipId: string, ts: number, over: Partial<Sample> = {}): Sample {
  return { ts, chipId, utilPct: 50, memUtilPct: 20, memUsedBytes: 1e9, memTotalBytes: 8e10, powerW: 400.25, powerLimitW: 700, tempC: 55, energyJ: 1000 + ts / 1000, ...over };
}

export function batch(seq: number, samples: Sample[]): BatchMessage {
  return { v: 1, type: 'batch', seq, samples };
}
