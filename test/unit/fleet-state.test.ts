/**
 * FleetState's per-agent index against the whole fleet: what one agent's hello, disconnect,
 * inventory change or chip move touches must be exactly what a pass over every chip would find.
 */
import { describe, expect, it } from 'vitest';
import { FleetState } from '../../server/fleet-state.ts';
import type { AgentRegistration } from '../../server/store/store.ts';
import { chipInfo, sample } from '../helpers/frames.ts';
import { deriveStatus } from '../../server/chip-status.ts';

const reg = (agentId: string, chipIdx: number[], intervalMs = 1000): AgentRegistration => ({
  agentId,
  agentVersion: 'test',
  intervalMs,
  host: { hostname: `${agentId}-host`, instanceId: null, instanceType: null },
  chips: chipIdx.map((i) => chipInfo(i)),
});

const ids = (fleet: FleetState, agentId: string) => fleet.agentChips(agentId).map((v) => v.chipId).sort();

describe('FleetState', () => {
  it('agentChips follows hellos, inventory changes and chip moves (random sequence vs a pass over the fleet)', () => {
    const fleet = new FleetState();
    const agents = ['a', 'b', 'c', 'd'];
    // The expected inventory: chip -> agent, for chips in some agent's inventory now.
    const owner = new Map<number, string>();
    let seed = 7;
    let leftSeen = 0;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (let step = 0; step < 400; step++) {
      const agent = agents[rand(agents.length)]!;
      const op = rand(4);
      if (op === 3) {
        // A hello naming a chip another agent has (ingest leaves those out; the fleet takes what it is given).
        const i = rand(32);
        const chips = [...[...owner].filter(([, o]) => o === agent).map(([c]) => c).filter((c) => c !== i), i];
        owner.set(i, agent);
        fleet.agentConnected(reg(agent, chips));
      } else if (op < 2) {
        // A new inventory for the agent: some of its chips and some free ones (never another agent's).
        const chips = Array.from({ length: 32 }, (_, i) => i).filter((i) => (owner.get(i) ?? agent) === agent && rand(2) === 0);
        for (const [i, a] of owner) if (a === agent) owner.delete(i);
        for (const i of chips) owner.set(i, agent);
        if (op === 0) fleet.agentConnected(reg(agent, chips));
        else fleet.setInventory(reg(agent, chips));
      } else {
        // An admin moves a chip to this agent.
        const i = rand(32);
        owner.set(i, agent);
        fleet.moveChip({ ...chipInfo(i), agentId: agent, host: `${agent}-host`, instanceType: null, intervalMs: 1000, lastSeen: 0 }, step);
      }
      for (const a of agents) {
        const expected = [...owner].filter(([, o]) => o === a).map(([i]) => `GPU-test-${i}`).sort();
        expect(ids(fleet, a), `step ${step}, agent ${a}`).toEqual(expected);
        const listed = fleet.listAgents().find((x) => x.agentId === a);
        if (listed) expect(listed.chips, `step ${step}, agent ${a}'s chip count`).toBe(expected.length);
      }
      // Chips that left every inventory are shown offline.
      const left = fleet.list().filter((v) => !owner.has(v.index));
      for (const v of left) expect(v.status, `step ${step}, ${v.chipId}`).toBe('offline');
      leftSeen += left.length;
    }
    expect(leftSeen).toBeGreaterThan(0);
  });

  it("a disconnect changes (and reports) only that agent's chips", () => {
    const fleet = new FleetState();
    fleet.agentConnected(reg('a', [0, 1]));
    fleet.agentConnected(reg('b', [2, 3]));
    fleet.applySamples([sample('GPU-test-0', 1), sample('GPU-test-2', 1)], 1000);
    const changes = fleet.agentDisconnected('a', 1500);
    expect(changes.map((c) => c.chipId).sort()).toEqual(['GPU-test-0', 'GPU-test-1']);
    expect(changes.every((c) => c.status === 'offline')).toBe(true);
    expect(fleet.get('GPU-test-2')!.status).toBe('live');
    // b's chip that never sent stays as it was until the status timer's pass.
    expect(fleet.get('GPU-test-3')!.status).toBe('stale');
    expect(fleet.refreshStatuses(1500)).toEqual([]);
    expect(fleet.refreshStatuses(5000).map((c) => c.chipId)).toEqual(['GPU-test-2']);
  });

  it('a chip is heard when its samples arrive, before they are committed', () => {
    const fleet = new FleetState();
    fleet.agentConnected(reg('a', [0, 1]));
    fleet.applySamples([sample('GPU-test-0', 1), sample('GPU-test-1', 1)], 1000);
    // Samples of chip 0 arrive at 3500 and wait behind the writer; chip 1 is silent.
    fleet.heard([sample('GPU-test-0', 2)], 3500);
    expect(fleet.chipLiveness('GPU-test-0')!.lastSampleAt).toBe(3500);
    expect(fleet.chipLiveness('GPU-test-1')!.lastSampleAt).toBe(1000);
    const changes = fleet.refreshStatuses(4500);
    expect(changes).toEqual([{ chipId: 'GPU-test-1', status: 'stale' }]);
    // Not a chip of the fleet, or one no longer in an inventory: nothing happens.
    fleet.setInventory(reg('a', [0]));
    fleet.heard([sample('GPU-unknown', 2), sample('GPU-test-1', 3)], 5000);
    expect(fleet.chipLiveness('GPU-test-1')!.lastSampleAt).toBe(1000);
    expect(fleet.chipLiveness('GPU-test-1')!.agentConnected).toBe(false);
  });

  it("a chip is not silent while the hub is not reading its agent's socket, nor while the hub is behind; that time is taken off its silence", () => {
    const fleet = new FleetState();
    fleet.agentConnected(reg('a', [0, 1]));
    fleet.agentConnected(reg('b', [2]));
    fleet.applySamples([sample('GPU-test-0', 1), sample('GPU-test-1', 1), sample('GPU-test-2', 1)], 1000);
    // The hub holds a's socket from 1500 (writer backlog): a's chips stay live past their deadline; b's does not.
    fleet.agentReading('a', false, 1500);
    expect(fleet.chipLiveness('GPU-test-0')!.read).toBe(false);
    expect(fleet.chipLiveness('GPU-test-2')!.read).toBe(true);
    expect(fleet.refreshStatuses(4500)).toEqual([{ chipId: 'GPU-test-2', status: 'stale' }]);
    expect(fleet.refreshStatuses(9000)).toEqual([]);
    expect(fleet.get('GPU-test-0')!.status).toBe('live');
    // Reading again at 9000: the 7.5 s not read are taken off; chip 0 is heard at 9500, chip 1 never again.
    fleet.agentReading('a', true, 9000);
    expect(fleet.chipLiveness('GPU-test-1')).toMatchObject({ read: true, lastSampleAt: 8500 });
    fleet.heard([sample('GPU-test-0', 2)], 9500);
    expect(fleet.refreshStatuses(11_000)).toEqual([]);
    expect(fleet.refreshStatuses(11_600)).toEqual([{ chipId: 'GPU-test-1', status: 'stale' }]);
    // A status tick running over a second late: the hub is behind, nothing turns stale then.
    expect(fleet.refreshStatuses(12_600, 1_100)).toEqual([]);
    expect(fleet.refreshStatuses(13_700)).toEqual([{ chipId: 'GPU-test-0', status: 'stale' }]);
    // Short holds again and again do not keep a silent chip live: only their own time is taken off.
    fleet.heard([sample('GPU-test-0', 3)], 20_000);
    fleet.applySamples([sample('GPU-test-0', 3)], 20_000);
    for (let t = 20_000; t < 25_000; t += 500) {
      fleet.agentReading('a', false, t);
      fleet.agentReading('a', true, t + 100);
      fleet.refreshStatuses(t + 100);
    }
    // Silent 5 s, of which 0.1 s a hold: stale after 3.9 s, the 9 holds before then taken off.
    expect(fleet.get('GPU-test-0')!.status).toBe('stale');
    expect(fleet.chipLiveness('GPU-test-0')!.lastSampleAt).toBe(20_900);
    // A disconnect ends the hold; a hold on an agent that is not connected is ignored.
    fleet.agentReading('a', false, 30_000);
    fleet.agentDisconnected('a', 30_000);
    expect(fleet.chipLiveness('GPU-test-0')).toMatchObject({ agentConnected: false, read: true });
    fleet.agentReading('a', false, 31_000);
    expect(fleet.chipLiveness('GPU-test-0')!.read).toBe(true);
  });

  it("a chip with a shorter interval than its agent's others turns stale on its own deadline", () => {
    const fleet = new FleetState();
    fleet.agentConnected(reg('c', [8, 9], 5000), 0);
    fleet.applySamples([sample('GPU-test-8', 0), sample('GPU-test-9', 0)], 0);
    // Moved to c with a 250 ms interval, heard at 100: stale after 3 intervals, long before c's other chips.
    fleet.moveChip({ ...chipInfo(0), agentId: 'c', host: 'c-host', instanceType: null, intervalMs: 250, lastSeen: 0 }, 50);
    fleet.applySamples([sample('GPU-test-0', 100)], 100);
    expect(fleet.refreshStatuses(800)).toEqual([]);
    expect(fleet.refreshStatuses(900)).toEqual([{ chipId: 'GPU-test-0', status: 'stale' }]);
    expect(fleet.refreshStatuses(15_000)).toEqual([]);
    expect(fleet.refreshStatuses(15_100).map((c) => c.chipId).sort()).toEqual(['GPU-test-8', 'GPU-test-9']);
  });

  it('the status timer finds every live chip that went silent, without a pass over the fleet (random run vs deriving every status)', () => {
    const fleet = new FleetState();
    const agents = ['a', 'b', 'c'];
    const chipsOf = (i: number) => [i * 4, i * 4 + 1, i * 4 + 2, i * 4 + 3];
    const intervals = [1000, 250, 5000];
    let x = 3;
    const rnd = (n: number) => ((x = (x * 1103515245 + 12345) % 2 ** 31) % n);
    let now = 1_000_000;
    agents.forEach((a, i) => fleet.agentConnected(reg(a, chipsOf(i), intervals[i]), now));
    const connected = new Set(agents);
    for (let step = 0; step < 2000; step++) {
      now += rnd(400);
      const op = rnd(10);
      const i = rnd(3);
      const chip = `GPU-test-${chipsOf(i)[rnd(4)]}`;
      if (op < 5) fleet.applySamples([sample(chip, now)], now);
      else if (op === 5) {
        // Arrival, then the commit a little later (a chip turns live when its samples are stored).
        fleet.heard([sample(chip, now)], now);
        now += rnd(50);
        fleet.applySamples([sample(chip, now)], now);
      }
      else if (op === 6 && connected.has(agents[i]!)) {
        fleet.agentDisconnected(agents[i]!, now);
        connected.delete(agents[i]!);
      } else if (op === 7 && !connected.has(agents[i]!)) {
        fleet.agentConnected(reg(agents[i]!, chipsOf(i), intervals[i]), now);
        connected.add(agents[i]!);
      } else if (op === 8) {
        // An admin moves a chip to another agent: it is watched under that agent from then on,
        // with an interval of its own (it may turn stale before the agent's other chips).
        const to = rnd(3);
        fleet.moveChip({ ...chipInfo(chipsOf(i)[rnd(4)]!), agentId: agents[to]!, host: `${agents[to]}-host`, instanceType: null, intervalMs: intervals[rnd(3)]!, lastSeen: 0 }, now);
      } else if (op === 9 && connected.has(agents[i]!)) {
        // A new inventory: some of its four chips (chips moved to it and away come and go).
        fleet.setInventory(reg(agents[i]!, chipsOf(i).filter(() => rnd(3) > 0), intervals[i]), now);
      }
      fleet.refreshStatuses(now);
      for (const v of fleet.list()) {
        const li = fleet.chipLiveness(v.chipId)!;
        expect(v.status, `step ${step}, ${v.chipId}`).toBe(deriveStatus({ agentConnected: li.agentConnected, lastSampleAt: li.lastSampleAt, intervalMs: li.intervalMs }, now));
      }
    }
  });
});
