import { describe, expect, it } from 'vitest';
import { resolveRange } from '../../server/history/query-range.ts';
import { formatDuration, formatSpan, parseDurationParam, parseTimeSpec, resolveTime, type TimeSpec } from '../../server/history/time-spec.ts';
import { InvalidQueryError } from '../../server/history/invalid-query.ts';

const NOW = Date.UTC(2026, 0, 15, 12, 34, 56, 789);
const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

describe('parseTimeSpec + resolveTime', () => {
  const cases: [string, number | null][] = [
    ['2026-01-15T10:00:00Z', Date.UTC(2026, 0, 15, 10)],
    ['2026-01-15T10:00:00.250+02:00', Date.UTC(2026, 0, 15, 8, 0, 0, 250)],
    ['2026-01-15', Date.UTC(2026, 0, 15)],
    ['1768478400000', 1768478400000],
    ['0', 0],
    ['now', NOW],
    [' now ', NOW],
    ['now-6h', NOW - 6 * HOUR],
    ['now-30m', NOW - 30 * MIN],
    ['now-90s', NOW - 90 * S],
    ['now-2d', NOW - 2 * DAY],
    ['now-1w', NOW - 7 * DAY],
    ['now+5m', NOW + 5 * MIN],
    ['now-15', NOW - 15 * S],
    ['yesterday', null],
    ['', null],
    ['now-', null],
    ['now-0m', null],
    ['now-6x', null],
    ['now-1.5h', NOW - 5_400_000],
    ['now-1.5x', null],
    ['-5', null],
    ['12.5', null],
    ['2026-13-45T99:00:00Z', null],
    ['1e12', null],
    ['NaN', null],
  ];
  it.each(cases)('%j -> %s', (text, expected) => {
    const spec = parseTimeSpec(text);
    expect(spec === null ? null : resolveTime(spec, NOW)).toBe(expected);
  });

  it('keeps relative times relative until resolved', () => {
    expect(parseTimeSpec('now-6h')).toEqual({ kind: 'rel', offsetMs: -6 * HOUR });
    expect(parseTimeSpec('1768478400000')).toEqual({ kind: 'abs', ms: 1768478400000 });
  });
});

describe('parseDurationParam (steps)', () => {
  const cases: [string, number | null][] = [
    ['10s', 10 * S],
    ['1m', MIN],
    ['5m', 5 * MIN],
    ['1h', HOUR],
    ['1d', DAY],
    ['2w', 14 * DAY],
    ['90', 90 * S],
    ['0', null],
    ['0m', null],
    ['-5m', null],
    ['1.5m', 90_000],
    ['250ms', 250],
    ['1.5.5m', null],
    ['5 minutes', null],
    ['m', null],
    ['', null],
    ['1y', null],
    ['99999999w', null],
  ];
  it.each(cases)('%j -> %s', (text, expected) => expect(parseDurationParam(text)).toBe(expected));
});

describe('formatDuration / formatSpan', () => {
  const cases: [number, string, string][] = [
    [10 * S, '10s', '10s'],
    [90 * S, '90s', '90s'],
    [5 * MIN, '5m', '5m'],
    [HOUR, '1h', '1h'],
    [DAY, '1d', '24h'],
    [2 * DAY, '2d', '48h'],
    [7 * DAY, '1w', '1w'],
    [30 * DAY, '30d', '30d'],
    [1500, '1500ms', '1500ms'],
  ];
  it.each(cases)('%i ms -> %s / %s', (ms, duration, span) => {
    expect(formatDuration(ms)).toBe(duration);
    expect(formatSpan(ms)).toBe(span);
  });
});

describe('resolveRange', () => {
  const abs = (ms: number): TimeSpec => ({ kind: 'abs', ms });
  it('defaults to = now and from = to - the default range', () => {
    expect(resolveRange(undefined, undefined, NOW, HOUR, false)).toEqual({ from: NOW - HOUR, to: NOW });
    expect(resolveRange(undefined, abs(NOW - DAY), NOW, HOUR, false)).toEqual({ from: NOW - DAY - HOUR, to: NOW - DAY });
    expect(resolveRange({ kind: 'rel', offsetMs: -6 * HOUR }, undefined, NOW, HOUR, true)).toEqual({ from: NOW - 6 * HOUR, to: NOW });
  });

  it('takes from = to for an inclusive range, not for an exclusive one', () => {
    expect(resolveRange(abs(NOW), abs(NOW), NOW, HOUR, false)).toEqual({ from: NOW, to: NOW });
    expect(() => resolveRange(abs(NOW), abs(NOW), NOW, HOUR, true)).toThrow(/is not before to/);
  });

  const bad: [string, TimeSpec | undefined, TimeSpec | undefined, boolean, string][] = [
    ['from after to', abs(Date.UTC(2026, 0, 2)), abs(Date.UTC(2026, 0, 1)), false, 'from: 2026-01-02T00:00:00.000Z is after to (2026-01-01T00:00:00.000Z); give from earlier than to'],
    ['empty exclusive range', abs(Date.UTC(2026, 0, 1)), abs(Date.UTC(2026, 0, 1)), true, 'from: 2026-01-01T00:00:00.000Z is not before to (2026-01-01T00:00:00.000Z); give from earlier than to'],
  ];
  it.each(bad)('%s -> 400', (_name, from, to, exclusive, message) => {
    let err: unknown;
    try {
      resolveRange(from, to, NOW, HOUR, exclusive);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidQueryError);
    expect(err).toMatchObject({ message });
  });
});
