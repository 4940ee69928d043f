import { describe, expect, it } from 'vitest';
import { mergeRuns } from '../../server/store/writer/chunk-merge.ts';

const c = (chipId: string, startTs: number, n: number, plain = 0) => ({ chipId, startTs, n, plain });
const starts = (runs: ReturnType<typeof mergeRuns>) => runs.map((r) => r.map((x) => `${x.chipId}@${x.startTs}`));

describe('mergeRuns: which old chunks become one', () => {
  it.each<[string, ReturnType<typeof c>[], string[][]]>([
    ['nothing', [], []],
    ['a lone small chunk stays', [c('a', 0, 20)], []],
    ['adjacent small chunks of a chip merge', [c('a', 0, 20), c('a', 20, 40), c('a', 60, 20)], [['a@0', 'a@20', 'a@60']]],
    ['a run stops at 600 samples and the next begins', [c('a', 0, 300), c('a', 1, 300), c('a', 2, 300), c('a', 3, 100)], [['a@0', 'a@1'], ['a@2', 'a@3']]],
    ['a full chunk between two runs is never merged across', [c('a', 0, 20), c('a', 1, 20), c('a', 2, 600), c('a', 3, 20), c('a', 4, 20)], [['a@0', 'a@1'], ['a@3', 'a@4']]],
    ['a full chunk leaves a lone neighbour alone', [c('a', 0, 20), c('a', 1, 700), c('a', 2, 20)], []],
    ['runs never cross chips', [c('a', 0, 20), c('b', 0, 20), c('b', 1, 20), c('c', 5, 10)], [['b@0', 'b@1']]],
    ['a lone plain chunk is rewritten (deflated)', [c('a', 0, 20, 1)], [['a@0']]],
    ['a lone plain chunk between full ones', [c('a', 0, 600), c('a', 1, 20, 1), c('a', 2, 700)], [['a@1']]],
    ['plain and deflated neighbours merge as one run', [c('a', 0, 20), c('a', 1, 20, 1)], [['a@0', 'a@1']]],
    ['a plain chunk that does not fit the run starts its own', [c('a', 0, 590), c('a', 1, 20, 1)], [['a@1']]],
    ['exactly 600 together is one run', [c('a', 0, 200), c('a', 1, 200), c('a', 2, 200)], [['a@0', 'a@1', 'a@2']]],
  ])('%s', (_, chunks, expected) => {
    expect(starts(mergeRuns(chunks))).toEqual(expected);
  });
});
