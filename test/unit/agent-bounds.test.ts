/** The pure pieces of the hub's bounds: frame rate bucket, count limits, option resolution, spans. */
import { describe, expect, it } from 'vitest';
import { TokenBucket, DEFAULT_FRAME_RATE } from '../../server/ws/frame-rate-limit.ts';
import { AgentQuota, chipCountProblem, tooManyAgentsMessage } from '../../server/ws/agent-limits.ts';
import { DEFAULT_HUB_BOUNDS, resolveBounds, agentSocketBounds } from '../../server/hub-bounds.ts';
import { formatSpanMs, timeWindowProblem, windowBounds } from '../../schema/time-window.ts';
import { MIN_TS } from '../../schema/sample.ts';

describe('TokenBucket', () => {
  // [name, rate, frame arrival times (ms), when each may be handled (ms after it came)]
  const cases: [string, { perSecond: number; burst: number }, number[], number[]][] = [
    ['a burst is free', { perSecond: 10, burst: 3 }, [0, 0, 0], [0, 0, 0]],
    ['beyond the burst, one frame per 1/rate, on credit', { perSecond: 10, burst: 2 }, [0, 0, 0, 0, 0], [0, 0, 100, 200, 300]],
    ['credit keeps adding up', { perSecond: 50, burst: 1 }, [0, 0, 0, 0], [0, 20, 40, 60]],
    ['tokens refill with time', { perSecond: 10, burst: 1 }, [0, 100, 200, 250, 300], [0, 0, 0, 50, 100]],
    ['a quiet spell refills up to the burst, no more', { perSecond: 10, burst: 2 }, [0, 0, 0, 10_000, 10_000, 10_000], [0, 0, 100, 0, 0, 100]],
    ['at the rate exactly: never a wait', { perSecond: 100, burst: 1 }, [0, 10, 20, 30, 40], [0, 0, 0, 0, 0]],
    ['the default: 200 at once, then 50 a second', DEFAULT_FRAME_RATE, Array(203).fill(0), [...Array(200).fill(0), 20, 40, 60]],
    ['a clock that goes back adds nothing', { perSecond: 10, burst: 1 }, [1000, 500, 500], [0, 100, 200]],
  ];
  it.each(cases)('%s', (_name, rate, times, waits) => {
    const b = new TokenBucket(rate, times[0]);
    expect(times.map((t) => b.take(t))).toEqual(waits);
  });

  it('refuses a rate that could never refill', () => {
    expect(() => new TokenBucket({ perSecond: 0, burst: 1 }, 0)).toThrow(RangeError);
    expect(() => new TokenBucket({ perSecond: 1, burst: 0.5 }, 0)).toThrow(RangeError);
  });

  it('a flooder is held to the rate over a long run', () => {
    const b = new TokenBucket({ perSecond: 50, burst: 200 }, 0);
    // A sender whose next frame goes when the last one is handled.
    let t = 0;
    let frames = 0;
    while (t < 10_000) {
      frames++;
      t += b.take(t);
    }
    expect(frames).toBeGreaterThanOrEqual(200 + 50 * 10 - 2);
    expect(frames).toBeLessThanOrEqual(200 + 50 * 10 + 2);
  });
});

describe('chips per agent', () => {
  it.each([
    [1024, 1024, null],
    [1025, 1024, /^chips: 1025 chips, but this hub accepts at most 1024 per agent; split/],
    [5, 4, /at most 4 per agent/],
    [0, 4, null],
  ] as const)('%i chips, limit %i', (n, max, want) => {
    const got = chipCountProblem(n, max);
    if (want === null) expect(got).toBeNull();
    else expect(got).toMatch(want);
  });
});

describe('AgentQuota (agents per token)', () => {
  it('binds up to the limit per token, separately for each token and the open hub', () => {
    const q = new AgentQuota(2);
    expect([q.tryBind('tok_a'), q.tryBind('tok_a'), q.tryBind('tok_a')]).toEqual([true, true, false]);
    expect([q.tryBind('tok_b'), q.tryBind(null), q.tryBind(null), q.tryBind(null)]).toEqual([true, true, true, false]);
    expect([q.count('tok_a'), q.count('tok_b'), q.count(null), q.count('tok_c')]).toEqual([2, 1, 2, 0]);
  });

  it('counts what it was seeded with, and frees a place on unbind', () => {
    const q = new AgentQuota(3);
    q.seed(['tok_a', 'tok_a', null, 'tok_a']);
    expect(q.tryBind('tok_a')).toBe(false);
    q.unbind('tok_a');
    expect(q.count('tok_a')).toBe(2);
    expect(q.tryBind('tok_a')).toBe(true);
    q.unbind('tok_z'); // unknown: stays at 0
    expect(q.count('tok_z')).toBe(0);
  });

  it('defaults to 10,000 per token and says what to do', () => {
    expect(new AgentQuota().maxPerToken).toBe(10_000);
    expect(tooManyAgentsMessage(10_000)).toMatch(/already has 10000 agents .*reuse an agent id/);
  });
});

describe('resolveBounds', () => {
  it('defaults', () => {
    expect(resolveBounds({})).toEqual(DEFAULT_HUB_BOUNDS);
    expect(DEFAULT_HUB_BOUNDS).toMatchObject({ maxFutureMs: 5_000, helloTimeoutMs: 10_000, agentFramesPerSec: 50, agentFrameBurst: 200, maxChipsPerAgent: 1024, maxAgentsPerToken: 10_000, maxSeriesCells: 2_000_000, headersTimeoutMs: 10_000, requestTimeoutMs: 60_000 });
  });
  it('takes the options given and ignores others', () => {
    expect(resolveBounds({ maxFutureMs: 0, helloTimeoutMs: 250, port: 1 } as never)).toMatchObject({ maxFutureMs: 0, helloTimeoutMs: 250, agentFramesPerSec: 50 });
  });
  it.each([
    [{ maxFutureMs: -1 }, /maxFutureMs must be a number >= 0/],
    [{ helloTimeoutMs: 0 }, /helloTimeoutMs must be a number >= 1/],
    [{ agentFramesPerSec: 0 }, /agentFramesPerSec must be a number > 0/],
    [{ maxSeriesCells: Number.NaN }, /maxSeriesCells/],
    [{ maxChipsPerAgent: 1025 }, /at most 1024/],
  ] as const)('refuses %j', (opts, msg) => {
    expect(() => resolveBounds(opts as never)).toThrow(msg);
  });
  it('agent sockets refuse samples older than the raw retention', () => {
    expect(agentSocketBounds(resolveBounds({ maxFutureMs: 2_000 }), 48 * 3_600_000).window).toEqual({ maxFutureMs: 2_000, maxAgeMs: 48 * 3_600_000 });
  });
});

describe('time window', () => {
  const NOW = Date.UTC(2026, 10, 26, 12);
  it.each([
    [{}, NOW + 5_000, null],
    [{}, NOW + 6_000, "is 6 s ahead of the hub's clock; at most 5 s ahead is accepted (check the sender's clock)"],
    [{ maxFutureMs: 600_000 }, NOW + 660_000, "is 11 min ahead of the hub's clock; at most 10 min ahead is accepted (check the sender's clock)"],
    [{}, MIN_TS, null],
    [{ maxAgeMs: 48 * 3_600_000 }, NOW - 48 * 3_600_000, null],
    [{ maxAgeMs: 48 * 3_600_000 }, NOW - 60 * 3_600_000, 'is 60 h old; the hub keeps raw samples 48 h and refuses older ones'],
    [{ maxAgeMs: 30 * 86_400_000 }, NOW - 31 * 86_400_000, 'is 31 d old; the hub keeps raw samples 30 d and refuses older ones'],
  ] as const)('%j at %i', (window, ts, want) => {
    expect(timeWindowProblem(ts, NOW, window)).toBe(want);
  });
  it('bounds', () => {
    expect(windowBounds(NOW)).toEqual({ lo: MIN_TS, hi: NOW + 5_000 });
    expect(windowBounds(NOW, { maxAgeMs: 1000, maxFutureMs: 0 })).toEqual({ lo: NOW - 1000, hi: NOW });
    expect(windowBounds(NaN, { maxAgeMs: 1000 }).lo).toBe(MIN_TS);
  });
  it.each([
    [999, '999 ms'],
    [5_000, '5 s'],
    [1_500, '1.5 s'],
    [600_000, '10 min'],
    [48 * 3_600_000, '48 h'],
    [730 * 86_400_000, '730 d'],
  ])('formatSpanMs(%i) = %s', (ms, text) => expect(formatSpanMs(ms)).toBe(text));
});
