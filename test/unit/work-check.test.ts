/**
 * The agent's zod-free work report check (schema/work-check.ts) accepts exactly what the hub's
 * schema (workReportSchema) accepts: table-driven edges, then generated inputs around every bound.
 */
import { describe, expect, it } from 'vitest';
import { MIN_TS } from '../../schema/sample.ts';
import { checkWorkReport } from '../../schema/work-check.ts';
import { workReportSchema } from '../../schema/work.ts';
import { createPrng } from '../../agents/sources/prng.ts';

const NOW = 1_800_000_000_000;
const base = () => ({ ts: NOW, job: 'run-7', counters: { tokens: 10, steps: 1 } as Record<string, unknown> });
const optional = workReportSchema.partial({ ts: true });

function agree(x: unknown): void {
  const mine = checkWorkReport(x, NOW, false);
  const zod = workReportSchema.safeParse(x);
  expect(mine.ok, `${JSON.stringify(x)?.slice(0, 200)}: ${mine.ok ? 'accepted' : `${mine.path}: ${mine.message}`}`).toBe(zod.success);
  if (mine.ok && zod.success) expect(mine.report).toEqual(zod.data);
  const mineOpt = checkWorkReport(x, NOW, true);
  expect(mineOpt.ok).toBe(optional.safeParse(x).success);
}

describe('checkWorkReport agrees with workReportSchema', () => {
  const cases: [string, unknown][] = [
    ['a plain report', base()],
    ['attribution only', { ...base(), counters: {} }],
    ['no ts', { job: 'j', counters: {} }],
    ['ts before 2000', { ...base(), ts: MIN_TS - 1 }],
    ['ts at 2000', { ...base(), ts: MIN_TS }],
    ['ts not whole', { ...base(), ts: NOW + 0.5 }],
    ['ts past 2^53', { ...base(), ts: 2 ** 53 }],
    ['ts as text', { ...base(), ts: String(NOW) }],
    ['empty job', { ...base(), job: '' }],
    ['job of 128', { ...base(), job: 'j'.repeat(128) }],
    ['job of 129', { ...base(), job: 'j'.repeat(129) }],
    ['job with a blank', { ...base(), job: 'a b' }],
    ['job with slash and at', { ...base(), job: 'ns/pod@1+x=y:z' }],
    ['job of a number', { ...base(), job: 7 }],
    ['unit starting with a digit', { ...base(), counters: { '9x': 1 } }],
    ['unit with a dash', { ...base(), counters: { 'a-b': 1 } }],
    ['unit of 64', { ...base(), counters: { ['u'.repeat(64)]: 1 } }],
    ['unit of 65', { ...base(), counters: { ['u'.repeat(65)]: 1 } }],
    ['negative counter', { ...base(), counters: { tokens: -1 } }],
    ['counter of 1e18', { ...base(), counters: { tokens: 1e18 } }],
    ['counter over 1e18', { ...base(), counters: { tokens: 1.1e18 } }],
    ['counter as text', { ...base(), counters: { tokens: '5' } }],
    ['16 counters', { ...base(), counters: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`u${i}`, i])) }],
    ['17 counters', { ...base(), counters: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`u${i}`, i])) }],
    ['counters an array', { ...base(), counters: [1] }],
    ['no counters', { ts: NOW, job: 'j' }],
    ['chips', { ...base(), chips: ['GPU-a', 'i-1-neuron0'] }],
    ['empty chips', { ...base(), chips: [] }],
    ['a bad chip id', { ...base(), chips: ['a/b'] }],
    ['1,024 chips', { ...base(), chips: Array.from({ length: 1024 }, (_, i) => `c${i}`) }],
    ['1,025 chips', { ...base(), chips: Array.from({ length: 1025 }, (_, i) => `c${i}`) }],
    ['labels', { ...base(), labels: { team: 'nlp', 'k8s.io/pod': 'x' } }],
    ['an empty label name', { ...base(), labels: { '': 'x' } }],
    ['a label value of 257', { ...base(), labels: { a: 'x'.repeat(257) } }],
    ['a label value a number', { ...base(), labels: { a: 1 } }],
    ['33 labels', { ...base(), labels: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`l${i}`, 'v'])) }],
    ['an unknown key', { ...base(), extra: 1 }],
    ['not an object', [base()]],
    ['null', null],
    ['__proto__ in counters (left out)', JSON.parse('{"ts": 1800000000000, "job": "j", "counters": {"__proto__": "x", "tokens": 1}}')],
    ['__proto__ in labels (left out)', JSON.parse('{"ts": 1800000000000, "job": "j", "counters": {}, "labels": {"__proto__": 5}}')],
    ['__proto__ at the top', JSON.parse('{"ts": 1800000000000, "job": "j", "counters": {}, "__proto__": 1}')],
    ['astral characters in a label', { ...base(), labels: { ['😀'.repeat(64)]: '😀'.repeat(256) } }],
  ];
  it.each(cases)('%s', (_, x) => agree(x));

  it('on 5,000 generated reports around every bound', () => {
    const rng = createPrng(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng.next() * xs.length)]!;
    const strings = ['', 'a', 'A9', '9a', 'a b', 'tok_ens', 'x'.repeat(64), 'x'.repeat(65), 'x'.repeat(128), 'x'.repeat(129), 'GPU-1', 'a/b', '😀', '__proto__', 'constructor'];
    const numbers = [0, 1, -1, 0.5, 1e18, 1.1e18, MIN_TS, MIN_TS - 1, NOW, 2 ** 53, Number.MAX_SAFE_INTEGER];
    for (let n = 0; n < 5000; n++) {
      const x: Record<string, unknown> = {};
      if (rng.next() < 0.9) x.ts = rng.next() < 0.8 ? NOW : pick([...numbers, 'x', null]);
      if (rng.next() < 0.95) x.job = rng.next() < 0.7 ? 'job-1' : pick([...strings, 3]);
      if (rng.next() < 0.95) x.counters = Object.fromEntries(Array.from({ length: Math.floor(rng.next() * 18) }, () => [rng.next() < 0.7 ? `u${Math.floor(rng.next() * 20)}` : pick(strings), rng.next() < 0.8 ? Math.floor(rng.next() * 1000) : pick([...numbers, 'x'])]));
      if (rng.next() < 0.3) x.chips = Array.from({ length: pick([0, 1, 2, 1025]) }, () => (rng.next() < 0.9 ? 'GPU-1' : pick(strings)));
      if (rng.next() < 0.3) x.labels = Object.fromEntries(Array.from({ length: pick([0, 1, 33]) }, () => [pick(strings), rng.next() < 0.9 ? 'v' : pick(['x'.repeat(257), 1])]));
      if (rng.next() < 0.03) x.other = 1;
      agree(JSON.parse(JSON.stringify(x)));
    }
  });
});
