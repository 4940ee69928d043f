/** `fleetscope demo --chips N`: the hosts it simulates. */
import { describe, expect, it } from 'vitest';
import { demoHosts } from '../../cli/demo-command.ts';

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
