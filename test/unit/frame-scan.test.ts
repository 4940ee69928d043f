import { describe, expect, it } from 'vitest';
import { firstObjectOverKeys } from '../../schema/frame-scan.ts';

const keys = (n: number, prefix = 'k') => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, i]));

describe('firstObjectOverKeys', () => {
  it.each([
    ['no big object', { v: 1, samples: [{ a: 1, extras: keys(64) }] }, 64, null],
    ['the frame itself', keys(65), 64, '(frame)'],
    ['extras of the second sample', { v: 1, samples: [{ extras: keys(3) }, { extras: keys(65) }] }, 64, 'samples.1.extras'],
    ['nested in arrays and objects', { a: [{ b: { c: 1 } }, { x: keys(11) }] }, 10, 'a.1.x'],
    ['the first one in text order', { a: keys(20, 'a'), b: keys(30, 'b') }, 10, 'a'],
    ['colons, commas and braces inside strings do not count', { s: ':,:{}[],"\\'.repeat(100), t: { u: 'a:b' } }, 2, null],
    ['escaped quotes in keys', { 'we"ird': keys(5) }, 4, 'we\\"ird'],
    ['arrays of many elements are fine', { xs: Array.from({ length: 5000 }, (_, i) => i) }, 10, null],
  ] as const)('%s', (_name, value, max, want) => {
    expect(firstObjectOverKeys(JSON.stringify(value), max)).toBe(want);
  });

  it('stops at truncated text', () => {
    expect(firstObjectOverKeys('{"a":{"b":1,"c":2', 1)).toBe('a');
    expect(firstObjectOverKeys('{"a":"unterminated', 0)).toBe('(frame)');
    expect(firstObjectOverKeys('', 0)).toBe(null);
  });
});
