/**
 * StaleTimers, alerting's per-agent staleness entries, against a plain list of per-chip deadlines:
 * whatever deadlines are set, cleared, put off or moved between agents, every chip whose deadline
 * passed comes back once, when its agent's entry goes off, and no other.
 */
import { describe, expect, it } from 'vitest';
import type { ChipEntry } from '../../server/alerts/alert-slots.ts';
import { StaleTimers, type AgentStale } from '../../server/alerts/stale-timers.ts';

/** A chip entry with only what the timers read. */
const chip = (chipId: string): ChipEntry => ({ chipId, staleTimer: false, staleDue: Infinity, staleGroup: null }) as unknown as ChipEntry;

/** A wheel of one due time per agent entry, as the alerting timer wheel keeps them. */
function rig() {
  const wheel = new Map<AgentStale, number>();
  const timers = new StaleTimers((g, at) => wheel.set(g, at));
  /** Every chip handed back by the entries due by `now`, as the engine's tick takes them. */
  const advance = (now: number): string[] => {
    const out: string[] = [];
    for (const [g, at] of [...wheel].sort((a, b) => a[1] - b[1])) {
      if (at > now) continue;
      wheel.delete(g);
      for (const e of timers.fired(g, now)) out.push(e.chipId);
    }
    return out.sort();
  };
  return { wheel, timers, advance };
}

describe('StaleTimers', () => {
  it.each([
    {
      name: "an agent's chips come back at their own deadlines, from one entry",
      steps: (r: ReturnType<typeof rig>, c: ChipEntry[]) => {
        r.timers.set(c[0]!, 'a', 3000);
        r.timers.set(c[1]!, 'a', 3500);
        r.timers.set(c[2]!, 'a', 2000);
        expect(r.wheel.size).toBe(1);
        expect(r.advance(1999)).toEqual([]);
        expect(r.advance(2000)).toEqual(['c2']);
        expect(r.advance(3499)).toEqual(['c0']);
        expect(r.advance(10_000)).toEqual(['c1']);
        expect(r.wheel.size).toBe(0);
      },
    },
    {
      name: 'a later deadline replaces an earlier one: the entry goes off early and is set again',
      steps: (r: ReturnType<typeof rig>, c: ChipEntry[]) => {
        r.timers.set(c[0]!, 'a', 3000);
        r.timers.set(c[0]!, 'a', 6000);
        expect(r.advance(3000)).toEqual([]);
        expect([...r.wheel.values()]).toEqual([6000]);
        expect(r.advance(6000)).toEqual(['c0']);
      },
    },
    {
      name: 'a cleared chip does not come back; put off, it comes back later',
      steps: (r: ReturnType<typeof rig>, c: ChipEntry[]) => {
        r.timers.set(c[0]!, 'a', 1000);
        r.timers.set(c[1]!, 'a', 1000);
        r.timers.clear(c[0]!);
        r.timers.postpone(c[1]!, 1250);
        expect(r.advance(1000)).toEqual([]);
        expect(r.advance(1250)).toEqual(['c1']);
      },
    },
    {
      name: 'a chip moved to another agent is timed there, once',
      steps: (r: ReturnType<typeof rig>, c: ChipEntry[]) => {
        r.timers.set(c[0]!, 'a', 5000);
        r.timers.set(c[1]!, 'a', 4000);
        r.timers.set(c[0]!, 'b', 2000);
        expect(r.advance(2000)).toEqual(['c0']);
        expect(r.advance(5000)).toEqual(['c1']);
        expect(r.wheel.size).toBe(0);
      },
    },
  ])('$name', ({ steps }) => {
    steps(rig(), [chip('c0'), chip('c1'), chip('c2')]);
  });

  it('matches a list of per-chip deadlines on a random run', () => {
    let x = 11;
    const rnd = (n: number) => ((x = (x * 1103515245 + 12345) % 2 ** 31) % n);
    const r = rig();
    const chips = Array.from({ length: 24 }, (_, i) => chip(`c${String(i).padStart(2, '0')}`));
    const agents = ['a', 'b', 'c', 'd'];
    /** The model: chip -> deadline, for chips with one set. */
    const model = new Map<string, number>();
    let now = 0;
    let fired = 0;
    for (let step = 0; step < 20_000; step++) {
      const e = chips[rnd(chips.length)]!;
      const op = rnd(10);
      if (op < 5) {
        const due = now + 1 + rnd(5000);
        // Mostly its own agent; now and then another (the chip moved).
        const agent = rnd(8) === 0 ? agents[rnd(agents.length)]! : (e.staleGroup?.agentId ?? agents[rnd(agents.length)]!);
        r.timers.set(e, agent, due);
        model.set(e.chipId, due);
      } else if (op === 5 && e.staleTimer) {
        r.timers.clear(e);
        model.delete(e.chipId);
      } else if (op === 6 && e.staleTimer) {
        const due = now + rnd(1000);
        r.timers.postpone(e, due);
        model.set(e.chipId, due);
      } else {
        now += rnd(300);
        const due = r.advance(now);
        const expected = [...model].filter(([, at]) => at <= now).map(([id]) => id).sort();
        for (const id of expected) model.delete(id);
        expect(due, `step ${step}, now ${now}`).toEqual(expected);
        fired += due.length;
      }
      // Every agent entry in the wheel is due no later than its first live chip.
      for (const [g, at] of r.wheel) {
        const first = Math.min(...chips.filter((c) => c.staleTimer && c.staleGroup === g).map((c) => c.staleDue));
        expect(at).toBeLessThanOrEqual(first);
      }
      expect(r.wheel.size).toBeLessThanOrEqual(agents.length);
    }
    expect(fired).toBeGreaterThan(500);
  });
});
