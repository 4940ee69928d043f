/** `fleetscope demo --chips N`: the hosts it simulates. */
import { describe, expect, it } from 'vitest';
import { DEMO_P5_CAP_W, defaultCappedHosts, demoFleet, demoHosts, demoPlan } from '../../cli/demo-command.ts';
import { createSource } from '../../agents/sources/source-registry.ts';
import { silentLogger } from '../../common/logger.ts';

describe('demo --chips', () => {
  it.each([
    [24, { trn2: 0, p5: 3 }, 24],
    [1_000, { trn2: 37, p5: 51 }, 1_000],
    [10_000, { trn2: 375, p5: 500 }, 10_000],
    [1, { trn2: 0, p5: 1 }, 8],
  ])('%s chips', (n, hosts, total) => {
    expect(demoHosts(n)).toEqual(hosts);
    expect(hosts.trn2 * 16 + hosts.p5 * 8).toBe(total);
  });
});

describe('demo power-capped p5 hosts', () => {
  it.each([
    [0, 0],
    [1, 0],
    [2, 1],
    [3, 1],
    [8, 1],
    [20, 2],
    [51, 5],
    [500, 50],
  ])('%i p5 hosts: %i capped by default', (p5, capped) => expect(defaultCappedHosts(p5)).toBe(capped));

  it('the default demo: 48 chips, one of the two p5 hosts capped at 400 W', async () => {
    const plan = (await demoPlan([]))!;
    expect(plan).toMatchObject({ trn2Hosts: 2, p5Hosts: 2, p5CappedHosts: 1, port: 8080, intervalMs: 1000, replays: [] });
    expect(plan.fleet).toEqual([
      { kind: 'sim-neuron', seed: 1, hostname: 'trn2-sim-1' },
      { kind: 'sim-neuron', seed: 2, hostname: 'trn2-sim-2' },
      { kind: 'sim-nvml', seed: 1, hostname: 'p5-sim-1' },
      { kind: 'sim-nvml', seed: 1, hostname: `p5-sim-cap${DEMO_P5_CAP_W}-1`, powerCapW: 400, scheduleOf: 'p5-sim-1' },
    ]);
    const sources = plan.fleet.map((f) => createSource(f.kind, { seed: f.seed, intervalMs: 1000, hostname: f.hostname, powerCapW: f.powerCapW, scheduleOf: f.scheduleOf, log: silentLogger }));
    // The capped host is the uncapped one's twin: its own chips, the same workload.
    const [plain, twin] = [sources[2]!.chips, sources[3]!.chips];
    expect(plain.filter((c) => twin.some((t) => t.chipId === c.chipId))).toEqual([]);
    expect(sources.reduce((n, s) => n + s.chips.length, 0)).toBe(48);
    const now = Date.now();
    const capped = sources[3]!.read(now);
    expect(capped.every((s) => s.powerLimitW === 400 && s.powerW! <= 400)).toBe(true);
    const uncapped = sources[2]!.read(now);
    expect(uncapped[0]!.powerLimitW).toBe(700);
    expect(capped.map((s) => s.utilPct)).toEqual(uncapped.map((s) => s.utilPct));
    for (const s of sources) expect(s.readWork!(Date.now())).toHaveLength(1);
  });

  it.each([
    [['--p5-capped-hosts', '0'], 2, 0],
    [['--p5-capped-hosts', '2'], 2, 2],
    [['--p5-hosts', '8'], 8, 1],
    [['--p5-hosts', '8', '--p5-capped-hosts', '3'], 8, 3],
    [['--p5-hosts', '1'], 1, 0],
    [['--chips', '1000'], 51, 5],
    [['--chips', '10000'], 500, 50],
    [['--chips', '10000', '--p5-capped-hosts', '7'], 500, 7],
  ])('%j: %i p5 hosts, %i capped', async (argv, p5, capped) => {
    const plan = (await demoPlan(argv))!;
    expect([plan.p5Hosts, plan.p5CappedHosts]).toEqual([p5, capped]);
    const nvml = plan.fleet.filter((f) => f.kind === 'sim-nvml');
    expect(nvml).toHaveLength(p5);
    expect(nvml.filter((f) => f.powerCapW === DEMO_P5_CAP_W).map((f) => f.hostname)).toEqual(Array.from({ length: capped }, (_, i) => `p5-sim-cap400-${i + 1}`));
    expect(new Set(plan.fleet.map((f) => f.hostname)).size).toBe(plan.fleet.length);
  });

  it.each([
    [['--p5-capped-hosts', '3'], /--p5-capped-hosts 3 is more than the 2 p5 host/],
    [['--p5-hosts', '0', '--p5-capped-hosts', '1'], /more than the 0 p5 host/],
    [['--p5-capped-hosts=-1'], /--p5-capped-hosts must be an integer/],
    [['--p5-capped-hosts', 'x'], /--p5-capped-hosts must be an integer/],
  ])('rejects %j', async (argv, err) => {
    await expect(demoPlan(argv)).rejects.toThrow(err);
  });

  it('--help gives no plan; demoFleet bounds the capped count', async () => {
    expect(await demoPlan(['--help'])).toBeNull();
    expect(demoFleet(0, 2, 5).filter((f) => f.powerCapW)).toHaveLength(2);
    expect(demoFleet(1, 3, -1).filter((f) => f.powerCapW)).toHaveLength(0);
  });
});
