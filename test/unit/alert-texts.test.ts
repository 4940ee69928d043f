/**
 * The compact form of alert events (server/alerts/alert-texts.ts): whatever the annotations and the
 * value, an event read back from its columns and the texts written for it is the event written —
 * annotations by reference with the value taken out (put back from the row's value), or, without
 * a value in them, inline at their first meeting and by reference after.
 */
import { describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../server/alerts/alert-events.ts';
import { AlertTextWriter, eventTimes, expandAnnotations, labelsOfRow, referencedHashes, TEXT_REFRESH_MS, VALUE_REFS_KEY, REFS_KEY } from '../../server/alerts/alert-texts.ts';

const T0 = 1_760_000_000_000;
const event = (annotations: Record<string, string>, value: number | null, at = T0): AlertEvent => ({
  ruleId: 'r',
  chipId: 'i-05a97054253f7f38c-neuron0',
  from: 'inactive',
  to: 'pending',
  at,
  value,
  severity: 'info',
  labels: { chip: 'i-05a97054253f7f38c-neuron0', rule: 'r' },
  annotations,
  fingerprint: 'f',
  startsAt: at,
  endsAt: null,
});

/** Writes the events in turn, keeping every text written, and reads each back. */
function roundTrip(events: AlertEvent[]) {
  const writer = new AlertTextWriter();
  const stored = new Map<string, string>();
  return events.map((e) => {
    const columns = writer.compact(e, JSON.stringify(e.labels));
    for (const t of columns.texts) stored.set(t.hash, t.text);
    const annotations = JSON.parse(columns.annotations) as Record<string, unknown>;
    const hashes = referencedHashes(columns.labels, annotations);
    expect(hashes.every((h) => stored.has(h))).toBe(true);
    const times = eventTimes(e.at, annotations);
    return { columns, times, labels: JSON.parse(labelsOfRow(columns.labels, stored)) as unknown, annotations: expandAnnotations(annotations, e.value, stored) };
  });
}

describe('alert events in compact form', () => {
  const cases: [string, Record<string, string>, number | null, 'inline' | 'ref' | 'vref'][] = [
    ['a decimal value in the summary', { summary: 'GPU-1 at 98.34 % of its power limit', description: 'held at the limit' }, 98.34, 'vref'],
    ['a value of 0, with zeros inside the chip id', { summary: 'i-05a97054253f7f38c-neuron0 is 0 % busy' }, 0, 'vref'],
    ['no value (unknown)', { summary: 'GPU-1 on host-a at unknown °C for a minute' }, null, 'vref'],
    ['the value twice', { summary: 'GPU-1 on host-a: 85 °C (85 for 1 min)' }, 85, 'vref'],
    ['a negative value', { summary: 'GPU-1 on host-a: clock drift -3.5 s' }, -3.5, 'vref'],
    ['a value only inside a longer number', { summary: 'GPU-1 on host-a at 98.345 W, near its cap' }, 98.3, 'ref'],
    ['no value in the text', { description: 'A process holds the chip.' }, 12, 'ref'],
    ['a text with the mark character in it', { summary: 'GPU-1 on host-a: odd \u0001 text at 7' }, 7, 'vref'],
    ['annotations too short to share', { summary: 'at 7' }, 7, 'inline'],
    ['no annotations', {}, 1, 'inline'],
  ];
  it.each(cases)('%s: read back exactly, by reference once shared', (_, annotations, value, how) => {
    const [first, second] = roundTrip([event(annotations, value), event(annotations, value, T0 + 1000)]);
    for (const r of [first, second]) {
      expect(r.labels).toEqual(event(annotations, value).labels);
      expect(r.annotations).toEqual(annotations);
    }
    // With the value taken out the text is shared from the first event; otherwise from the second.
    expect(first.columns.annotations.includes(`"${REFS_KEY}`)).toBe(how === 'vref');
    const stored = JSON.parse(second.columns.annotations) as Record<string, unknown>;
    expect(stored[REFS_KEY] !== undefined || stored[VALUE_REFS_KEY] !== undefined).toBe(how !== 'inline');
    if (how === 'vref') expect(stored[VALUE_REFS_KEY]).toBeDefined();
    if (how === 'ref') expect(stored[VALUE_REFS_KEY]).toBeUndefined();
  });

  it('one shared text for a summary whose value changes from transition to transition', () => {
    const events = [98.1, 97.2, 99, 98.1, 96.75].map((v, i) => event({ summary: `GPU-1 on host-a at ${v} % of its power limit` }, v, T0 + i * 1000));
    const read = roundTrip(events);
    read.forEach((r, i) => expect(r.annotations).toEqual(events[i].annotations));
    const hashes = read.slice(1).map((r) => (JSON.parse(r.columns.annotations) as Record<string, string>)[VALUE_REFS_KEY]);
    expect(new Set(hashes).size).toBe(1);
  });

  it('writes a text again only once TEXT_REFRESH_MS has passed since it last wrote it', () => {
    const writer = new AlertTextWriter();
    const written = (at: number) => writer.compact(event({}, 1, at), '{"a":"b"}').texts.map((t) => t.lastAt);
    expect(written(T0)).toEqual([T0]);
    expect(written(T0 + TEXT_REFRESH_MS - 1)).toEqual([]);
    expect(written(T0 - 5000)).toEqual([]);
    expect(written(T0 + TEXT_REFRESH_MS)).toEqual([T0 + TEXT_REFRESH_MS]);
  });

  it('a missing shared text reads as absent, not as an error', () => {
    expect(labelsOfRow('#nosuchtext00000', new Map())).toBe('{}');
    expect(expandAnnotations({ summary: 'kept', [REFS_KEY]: 'nosuchtext00000' }, 1, new Map())).toEqual({ summary: 'kept' });
  });

  it('startsAt and endsAt: kept as ms before the event, read from rows of either form', () => {
    const e = { ...event({ summary: 'a summary long enough to be shared once met' }, 3), startsAt: T0 - 30_000, endsAt: T0 - 5 };
    const [first, second] = roundTrip([e, e]);
    for (const r of [first, second]) expect(r.times).toEqual({ startsAt: T0 - 30_000, endsAt: T0 - 5 });
    expect(JSON.parse(second.columns.annotations)).toMatchObject({ '#s': 30_000, '#e': 5 });
    const [pending] = roundTrip([event({}, 1)]);
    expect(pending.columns.annotations).toBe('{}');
    expect(pending.times).toEqual({ startsAt: T0, endsAt: null });
    const legacy: Record<string, unknown> = { summary: 's', __startsAt: String(T0 - 7), __endsAt: String(T0 + 1) };
    expect(eventTimes(T0, legacy)).toEqual({ startsAt: T0 - 7, endsAt: T0 + 1 });
    expect(legacy).toEqual({ summary: 's' });
  });
});
