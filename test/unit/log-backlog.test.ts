/**
 * The compactor's count of what waits in the sample log (LogBacklog in
 * server/store/writer/compaction.ts): kept from the rows logged since its last look, it must say
 * what summing every unfolded row would say, whatever the folds in between.
 */
import { describe, expect, it } from 'vitest';
import { LogBacklog, type LoggedRow } from '../../server/store/writer/compaction.ts';

/** A log the test appends to; `asked` records each query's afterId. */
function fakeLog(foldedAtStart = 0) {
  const rows: LoggedRow[] = [];
  const asked: number[] = [];
  return {
    rows,
    asked,
    append: (n: number, receivedAt: number) => rows.push({ id: (rows.at(-1)?.id ?? foldedAtStart) + 1, receivedAt, n }),
    newRows: (afterId: number) => (asked.push(afterId), rows.filter((r) => r.id > afterId)),
    /** What a full sum over the unfolded rows says. */
    truth: (now: number, folded: number) => {
      const left = rows.filter((r) => r.id > folded);
      return { samples: left.reduce((a, r) => a + r.n, 0), oldestAgeMs: left.length ? now - left[0].receivedAt : 0 };
    },
  };
}

describe('the sample log backlog, kept from new rows', () => {
  // Each step: rows appended (n, receivedAt), then the fold's position when the backlog is read.
  const steps: { append: [number, number][]; folded: number; now: number }[] = [
    { append: [], folded: 0, now: 1000 },
    { append: [[100, 1000], [50, 1100]], folded: 0, now: 1200 },
    { append: [[25, 1300]], folded: 1, now: 1400 },
    { append: [], folded: 1, now: 5000 },
    { append: [[10, 5100], [10, 5200], [10, 5300]], folded: 5, now: 5400 },
    // A fold past rows the backlog never saw (folded between two looks).
    { append: [[7, 5500], [8, 5600]], folded: 7, now: 5700 },
    { append: [[1, 5800]], folded: 7, now: 5900 },
    { append: [], folded: 8, now: 6000 },
  ];
  it('matches a full sum after every step', () => {
    const log = fakeLog();
    const backlog = new LogBacklog(log.newRows, 0);
    let seenBefore = 0;
    for (const [i, s] of steps.entries()) {
      for (const [n, at] of s.append) log.append(n, at);
      expect(backlog.at(s.now, s.folded), `step ${i}`).toEqual(log.truth(s.now, s.folded));
      // Each look asks only for rows after those it has seen (or folded).
      expect(log.asked.at(-1)).toBeGreaterThanOrEqual(seenBefore);
      seenBefore = log.asked.at(-1)!;
    }
  });

  it('asks only for the rows after the last one it saw', () => {
    const log = fakeLog(40);
    const backlog = new LogBacklog(log.newRows, 40);
    for (let i = 0; i < 3000; i++) {
      log.append(16, i);
      const folded = Math.max(40, 40 + i - 20);
      expect(backlog.at(i + 5, folded)).toEqual(log.truth(i + 5, folded));
    }
    expect(log.asked.slice(0, 3)).toEqual([40, 41, 42]);
    expect(log.asked.at(-1)).toBe(40 + 2999);
  });
});
