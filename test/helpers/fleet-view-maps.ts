/**
 * Run with `node --allow-natives-syntax --import tsx`: builds a fleet through every path that makes
 * a chip view (hello, stored chips at start, a chip moved, a remote hub's chips, jobs set and
 * cleared, samples) from inventories parsed as the hub parses them (JSON, then the protocol's
 * schema), and prints how many hidden classes its views have, as JSON.
 */
import { FleetState } from '../../server/fleet-state.ts';
import { chipInfoSchema, type ChipInfo } from '../../schema/sample.ts';
import type { ChipView } from '../../schema/protocol.ts';
import { sample } from './frames.ts';

const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

const AGENTS = 40;
const CHIPS = 16;
const info = (agent: number, i: number): ChipInfo =>
  chipInfoSchema.parse(
    JSON.parse(
      JSON.stringify({
        chipId: `chip-${agent}-${i}`,
        vendor: agent % 2 ? 'aws' : 'nvidia',
        model: agent % 2 ? 'Trainium2' : 'H100',
        index: i,
        cores: agent % 3 === 0 ? null : 8,
        memTotalBytes: 96 * 2 ** 30,
        ratedPowerW: agent % 4 === 0 ? 500 : 700.5,
      }),
    ),
  );

const fleet = new FleetState();
const now = Date.now();
fleet.load(
  Array.from({ length: CHIPS }, (_, i) => ({ ...info(AGENTS, i), agentId: 'stored', host: 'stored-host', instanceType: null, intervalMs: 1000, lastSeen: now })),
  new Map(),
);
for (let a = 0; a < AGENTS; a++) {
  const chips = Array.from({ length: CHIPS }, (_, i) => info(a, i));
  fleet.agentConnected({ agentId: `agent-${a}`, agentVersion: 'test', intervalMs: 1000, host: { hostname: `host-${a}`, instanceId: null, instanceType: a % 2 ? 'trn2.48xlarge' : null }, chips }, now);
  fleet.applySamples(
    chips.map((c) => sample(c.chipId, now)),
    now,
  );
}
fleet.setJobs(new Map(Array.from({ length: CHIPS }, (_, i) => [`chip-1-${i}`, 'job-1'] as const)));
fleet.setJobs(new Map(Array.from({ length: CHIPS / 2 }, (_, i) => [`chip-1-${i}`, null] as const)));
fleet.moveChip({ ...info(2, 0), agentId: 'agent-3', host: 'host-3', instanceType: 'trn2.48xlarge', intervalMs: 1000, lastSeen: now }, now);
const remote: Omit<ChipView, 'latest'>[] = Array.from({ length: CHIPS }, (_, i) => ({ ...info(AGENTS + 1, i), host: 'far-host', instanceType: null, agentId: 'far-agent', status: 'live' }));
fleet.applyRemoteChips('hub-b', remote);

const views = fleet.list();
const maps: ChipView[] = [];
for (const v of views) if (!maps.some((m) => haveSameMap(m, v))) maps.push(v);
const withoutJob = views.find((v) => v.chipId === 'chip-1-0')!;
console.log(JSON.stringify({ views: views.length, maps: maps.length, clearedJobJson: JSON.stringify(withoutJob).includes('"job"'), setJob: views.find((v) => v.chipId === 'chip-1-15')!.job }));
