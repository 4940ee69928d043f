/**
 * /energy, /top and /series without a step read raw samples only while the selected chips hold
 * few of them in the range (estimated from each agent's interval); a bigger selection is answered
 * from the 1m tier instead of decoding millions of samples on the hub's event loop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RAW_RANGE_SAMPLE_BUDGET } from '../../server/history/tier-choice.ts';
import { batch, chipInfo, hello, sample } from '../helpers/frames.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';

const S = 1000;
const MIN = 60 * S;
let hub: TestHub;
// Unaligned, recent, 20 minutes: a 1 s chip holds 1,200 raw samples; a 10 ms one 120,000.
const to = Math.floor(Date.now() / MIN) * MIN - 7 * S;
const from = to - 20 * MIN;

beforeAll(async () => {
  hub = await startTestHub();
  for (const [agentId, intervalMs] of [['slow', 1000], ['fast', 10]] as const) {
    const a = await hub.ws('/ws/agent');
    a.send(hello(agentId, [chipInfo(0, { chipId: `GPU-${agentId}` })], { intervalMs }));
    await a.waitFor((f) => f.type === 'welcome');
    a.send(batch(0, Array.from({ length: 20 }, (_, i) => sample(`GPU-${agentId}`, from + i * MIN + 30 * S, { powerW: 100 + i }))));
    await a.waitFor((f) => f.type === 'ack');
    a.close();
  }
});
afterAll(() => hub?.stop());

describe('raw-sample budget of /energy and /top', () => {
  it('a chip holding few raw samples in the range: raw, exact range', async () => {
    const { body } = await hub.get(`/api/v1/top?chip=GPU-slow&field=powerW&from=${from}&to=${to}`);
    expect(body).toMatchObject({ tier: 'raw', coveredFrom: from, coveredTo: to });
    expect(body.chips[0].value).toBeCloseTo(109.5, 9);
  });

  it(`a chip holding more than ${RAW_RANGE_SAMPLE_BUDGET} raw samples in the range: the 1m tier, widened to whole minutes`, async () => {
    const { body } = await hub.get(`/api/v1/top?chip=GPU-fast&field=powerW&from=${from}&to=${to}`);
    expect(body).toMatchObject({ tier: '1m', coveredFrom: from - (from % MIN), coveredTo: to - (to % MIN) + MIN });
    expect(body.chips[0].value).toBeCloseTo(109.5, 9);
    const energy = await hub.get(`/api/v1/energy?chip=GPU-fast&from=${from}&to=${to}`);
    expect(energy.body.tier).toBe('1m');
  });

  it('/series without a step: raw 10 s steps for the slow chip, 1 m steps from the 1m tier for the fast one', async () => {
    const slow = await hub.get(`/api/v1/series?chip=GPU-slow&fields=powerW&from=${from}&to=${to}`);
    expect(slow.body).toMatchObject({ tier: 'raw', step: '10s' });
    const fast = await hub.get(`/api/v1/series?chip=GPU-fast&fields=powerW&from=${from}&to=${to}`);
    expect(fast.body).toMatchObject({ tier: '1m', step: '1m' });
    expect(fast.body.data[1].filter((v: number | null) => v !== null)).toHaveLength(20);
  });
});
