import { describe, expect, it } from 'vitest';
import { chipHourPrice, parsePriceChipHour, parsePriceKwh } from '../../server/history/prices.ts';
import { energyQuerySchema, isListParam, parseQuery, seriesQuerySchema, topQuerySchema } from '../../server/history/query-schemas.ts';
import { acceptsCsv } from '../../server/routes/series-routes.ts';
import { queryParameters } from '../../server/routes/openapi-document.ts';

const FIELDS = 'utilPct, memUtilPct, memUsedBytes, memTotalBytes, powerW, powerLimitW, tempC, smClockMhz, eccCorrected, eccUncorrected, energyJ';

describe('parseQuery: valid queries', () => {
  it('parses every /series parameter, splitting list parameters on commas and repeats', () => {
    const q = parseQuery(seriesQuerySchema, {
      chip: ['a0,a1', ' b0 '],
      vendor: ['nvidia'],
      fields: ['utilPct, energyJ,utilPct'],
      from: ['now-6h'],
      to: ['2026-01-15T12:00:00Z'],
      step: ['5m'],
      agg: ['max'],
      groupBy: ['model'],
      maxPoints: ['500'],
      format: ['csv'],
    });
    expect(q).toEqual({
      chip: ['a0', 'a1', 'b0'],
      vendor: ['nvidia'],
      fields: ['utilPct', 'energyJ'],
      from: { kind: 'rel', offsetMs: -6 * 3_600_000 },
      to: { kind: 'abs', ms: Date.UTC(2026, 0, 15, 12) },
      step: 300_000,
      agg: 'max',
      groupBy: 'model',
      maxPoints: 500,
      format: 'csv',
    });
  });

  it('leaves absent parameters undefined (defaults are applied by the query)', () => {
    expect(parseQuery(seriesQuerySchema, {})).toEqual({});
    expect(parseQuery(topQuerySchema, { k: ['1000'], order: ['asc'], field: ['energyJ'] })).toEqual({ k: 1000, order: 'asc', field: 'energyJ' });
    expect(parseQuery(energyQuerySchema, { groupBy: ['vendor'], host: ['h1,h2'] })).toEqual({ groupBy: 'vendor', host: ['h1', 'h2'] });
  });

  it('knows the list parameters', () => {
    expect(['chip', 'vendor', 'model', 'host', 'fields', 'step'].map((n) => isListParam(seriesQuerySchema, n))).toEqual([true, true, true, true, false, false]);
  });
});

describe('parseQuery: each bad parameter names itself and what it accepts', () => {
  const cases: [string, Record<string, string[]>, string][] = [
    ['unknown field', { fields: ['utilPct,bogus'] }, `fields: unknown field "bogus"; accepted (comma list): ${FIELDS}`],
    ['empty fields', { fields: [','] }, `fields: no field given; accepted (comma list): ${FIELDS}`],
    ['garbage from', { from: ['last tuesday'] }, 'from: must be an ISO-8601 time (2025-01-31T12:00:00Z), epoch milliseconds, or relative to now (now, now-6h, now-30m); got "last tuesday"'],
    ['garbage to', { to: ['now-'] }, 'to: must be an ISO-8601 time (2025-01-31T12:00:00Z), epoch milliseconds, or relative to now (now, now-6h, now-30m); got "now-"'],
    ['step 0', { step: ['0'] }, 'step: must be a positive whole number with a unit s, m, h, d or w (10s, 1m, 5m, 1h, 1d); got "0"'],
    ['negative step', { step: ['-1h'] }, 'step: must be a positive whole number with a unit s, m, h, d or w (10s, 1m, 5m, 1h, 1d); got "-1h"'],
    ['garbage step', { step: ['soon'] }, 'step: must be a positive whole number with a unit s, m, h, d or w (10s, 1m, 5m, 1h, 1d); got "soon"'],
    ['unknown agg', { agg: ['median'] }, 'agg: must be one of avg, min, max, last; got "median"'],
    ['unknown groupBy', { groupBy: ['rack'] }, 'groupBy: must be one of none, chip, host, model, vendor, fleet; got "rack"'],
    ['unknown format', { format: ['xml'] }, 'format: must be one of json, csv; got "xml"'],
    ['maxPoints 0', { maxPoints: ['0'] }, 'maxPoints: must be a whole number from 1 to 100000; got "0"'],
    ['maxPoints over the cap', { maxPoints: ['100001'] }, 'maxPoints: must be a whole number from 1 to 100000; got "100001"'],
    ['maxPoints not a number', { maxPoints: ['lots'] }, 'maxPoints: must be a whole number from 1 to 100000; got "lots"'],
    ['unknown vendor', { vendor: ['nvidia,intel'] }, 'vendor: must be one of nvidia, aws; got "intel"'],
    ['unknown parameter', { field: ['utilPct'] }, 'unknown parameter "field"; accepted: chip, vendor, model, host, fields, from, to, step, agg, groupBy, maxPoints, format'],
    ['single parameter repeated', { step: ['1m', '5m'] }, 'step: given 2 times; give it once'],
  ];
  it.each(cases)('%s', (_name, query, message) => {
    expect(() => parseQuery(seriesQuerySchema, query)).toThrow(expect.objectContaining({ name: 'InvalidQueryError', message }));
  });

  const others: [string, Parameters<typeof parseQuery>[0], Record<string, string[]>, string][] = [
    ['energy groupBy', energyQuerySchema, { groupBy: ['fleet'] }, 'groupBy: must be one of chip, host, model, vendor; got "fleet"'],
    ['energy: no step', energyQuerySchema, { step: ['1h'] }, 'unknown parameter "step"; accepted: chip, vendor, model, host, from, to, groupBy'],
    ['top k 0', topQuerySchema, { k: ['0'] }, 'k: must be a whole number from 1 to 1000; got "0"'],
    ['top k 1001', topQuerySchema, { k: ['1001'] }, 'k: must be a whole number from 1 to 1000; got "1001"'],
    ['top k fractional', topQuerySchema, { k: ['2.5'] }, 'k: must be a whole number from 1 to 1000; got "2.5"'],
    ['top order', topQuerySchema, { order: ['up'] }, 'order: must be one of desc, asc; got "up"'],
    ['top field', topQuerySchema, { field: ['bogus'] }, `field: must be one of ${FIELDS}; got "bogus"`],
  ];
  it.each(others)('%s', (_name, schema, query, message) => {
    expect(() => parseQuery(schema, query)).toThrow(expect.objectContaining({ name: 'InvalidQueryError', message }));
  });
});

describe('OpenAPI parameters from the query schemas', () => {
  it('one parameter per schema key, list parameters as exploded arrays, descriptions from the schema', () => {
    const params = queryParameters(topQuerySchema) as any[];
    expect(params.map((p) => p.name)).toEqual(Object.keys(topQuerySchema.shape));
    expect(params.find((p) => p.name === 'k')).toMatchObject({ in: 'query', required: false, schema: { type: 'string' }, description: expect.stringContaining('at most 1000') });
    expect(params.find((p) => p.name === 'order').schema).toEqual({ type: 'string', enum: ['desc', 'asc'] });
    expect(params.find((p) => p.name === 'vendor')).toMatchObject({ style: 'form', explode: true, schema: { type: 'array', items: { type: 'string', enum: ['nvidia', 'aws'] } } });
  });
});

describe('acceptsCsv', () => {
  const cases: [string | undefined, boolean][] = [
    ['text/csv', true],
    ['text/csv; charset=utf-8', true],
    ['application/json, text/csv;q=0.5', true],
    ['application/json', false],
    ['text/html,application/xhtml+xml,*/*;q=0.8', false],
    ['text/csvx', false],
    [undefined, false],
  ];
  it.each(cases)('%j -> %s', (accept, csv) => expect(acceptsCsv(accept)).toBe(csv));
});

describe('prices', () => {
  it('parses --price-kwh and --price-chip-hour', () => {
    expect(parsePriceKwh('0.15')).toBe(0.15);
    expect(parsePriceKwh(undefined)).toBeNull();
    expect(parsePriceKwh('')).toBeNull();
    expect(parsePriceChipHour('H100=2.5, Trainium2=1.3')).toEqual({ H100: 2.5, Trainium2: 1.3 });
    expect(parsePriceChipHour(undefined)).toEqual({});
  });

  const bad: [() => unknown, string][] = [
    [() => parsePriceKwh('cheap'), '--price-kwh must be a non-negative number, got "cheap"'],
    [() => parsePriceKwh('-1'), '--price-kwh must be a non-negative number, got "-1"'],
    [() => parsePriceChipHour('H100'), '--price-chip-hour takes MODEL=PRICE entries separated by commas (H100=2.5,Trainium2=1.3), got "H100"'],
    [() => parsePriceChipHour('=2'), '--price-chip-hour takes MODEL=PRICE entries separated by commas (H100=2.5,Trainium2=1.3), got "=2"'],
    [() => parsePriceChipHour('H100=x'), '--price-chip-hour H100 must be a non-negative number, got "x"'],
  ];
  it.each(bad)('rejects %#', (fn, message) => expect(fn).toThrow(message));

  it('looks chip-hour prices up by model, case-insensitively', () => {
    const prices = { kwh: null, chipHour: { H100: 2.5 } };
    expect(chipHourPrice(prices, 'H100')).toBe(2.5);
    expect(chipHourPrice(prices, 'h100')).toBe(2.5);
    expect(chipHourPrice(prices, 'Trainium2')).toBeNull();
  });
});
