import { describe, expect, it } from 'vitest';
import { DeadlineHeap } from '../../server/deadline-heap.ts';

/** Every key due by `now`, earliest first, as the status timer takes them. */
function drain<K>(h: DeadlineHeap<K>, now: number): K[] {
  const out: K[] = [];
  for (let k = h.popDue(now); k !== undefined; k = h.popDue(now)) out.push(k);
  return out;
}

describe('DeadlineHeap', () => {
  it.each([
    ['empty', [], 10, []],
    ['none due', [[20, 'a']], 10, []],
    ['due at exactly now', [[10, 'a'], [11, 'b']], 10, ['a']],
    ['in deadline order', [[5, 'c'], [1, 'a'], [3, 'b'], [9, 'd']], 6, ['a', 'b', 'c']],
    ['a key twice', [[2, 'a'], [4, 'a']], 5, ['a', 'a']],
  ] as [string, [number, string][], number, string[]][])('%s', (_name, pushes, now, expected) => {
    const h = new DeadlineHeap<string>();
    for (const [at, k] of pushes) h.push(at, k);
    expect(drain(h, now)).toEqual(expected);
    expect(h.size).toBe(pushes.length - expected.length);
  });

  it('matches a sort on random pushes and pops', () => {
    let x = 42;
    const rnd = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const h = new DeadlineHeap<number>();
    const model: number[] = [];
    let now = 0;
    for (let step = 0; step < 3000; step++) {
      if (rnd() < 0.6) {
        const at = now + Math.floor(rnd() * 1000);
        // The key is the deadline: what comes out tells its order.
        h.push(at, at);
        model.push(at);
      } else {
        now += Math.floor(rnd() * 200);
        const due = drain(h, now);
        model.sort((a, b) => a - b);
        const expected = model.filter((a) => a <= now);
        model.splice(0, expected.length);
        expect(due).toEqual(expected);
      }
      expect(h.peek()).toBe(model.length ? Math.min(...model) : Infinity);
    }
  });
});
