import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_QUERY_FIELDS,
  EnergyIntegrator,
  MIB,
  columnsForFields,
  gpuModelFromName,
  parseCsvHeader,
  parseCsvRow,
  parseHelpQueryGpu,
  parseNvidiaSmiTimestamp,
  rowToChipInfo,
  rowToSample,
  selectQueryFields,
} from '../../agents/sources/nvidia-smi-csv.ts';
import { chipInfoSchema, sampleSchema } from '../../schema/sample.ts';

const FIX = path.resolve(process.cwd(), 'test/fixtures');
const H100_HELP = readFileSync(path.join(FIX, 'nvidia-h100/nvidia-smi-help-query-gpu.txt'), 'utf8');
const UUID = 'GPU-82a2d334-d3f3-e1ce-0176-3b908d0cb49e';
const DEFAULT_COLS = columnsForFields(DEFAULT_QUERY_FIELDS);
const local = (iso: string) => Date.parse(iso); // ISO without zone = local time, like nvidia-smi

describe('--help-query-gpu', () => {
  const supported = parseHelpQueryGpu(H100_HELP);

  it('lists the fields and aliases of the real H100 driver, nothing from the prose', () => {
    for (const f of ['timestamp', 'uuid', 'gpu_uuid', 'clocks.current.sm', 'clocks.sm', 'power.draw', 'power.draw.average', 'enforced.power.limit', 'hostname']) {
      expect(supported.has(f), f).toBe(true);
    }
    expect([...supported].some((f) => /\s|:/.test(f))).toBe(false); // `"0: Default" means …` is prose
    expect(supported.has('energy')).toBe(false);
  });

  it('queries every wanted field on H100, preferred names first', () => {
    expect(selectQueryFields(supported)).toEqual([...DEFAULT_QUERY_FIELDS]);
    expect(DEFAULT_QUERY_FIELDS).toContain('clocks.current.sm');
    expect(DEFAULT_QUERY_FIELDS).toContain('power.draw');
  });

  it('leaves out unsupported fields, uses aliases, and requires timestamp and uuid', () => {
    const older = new Set(['timestamp', 'index', 'gpu_uuid', 'name', 'power.draw', 'enforced.power.limit', 'clocks.sm']);
    expect(selectQueryFields(older)).toEqual(['timestamp', 'index', 'gpu_uuid', 'name', 'power.draw', 'enforced.power.limit', 'clocks.sm']);
    expect(() => selectQueryFields(new Set(['index', 'uuid']))).toThrow(/timestamp/);
  });
});

describe('CSV header', () => {
  it('maps the real header with units; duplicates and unknown columns are ignored', () => {
    const header = readFileSync(path.join(FIX, 'nvidia-h100/query-gpu-250ms.csv'), 'utf8').split('\n')[0];
    const cols = parseCsvHeader(header)!;
    expect(cols).toHaveLength(31);
    const at = (name: string) => header.split(', ').findIndex((h) => h.startsWith(name));
    expect(cols[at('power.draw [W]')]).toBe('powerW');
    expect(cols[at('power.draw.average')]).toBeNull(); // power.draw preferred
    expect(cols[at('power.limit')]).toBe('powerLimitW');
    expect(cols[at('enforced.power.limit')]).toBeNull();
    expect(cols[at('clocks.current.sm')]).toBe('smClockMhz');
    expect(cols[at('serial')]).toBeNull();
    expect(cols.filter((c) => c !== null)).toHaveLength(14);
  });

  it('is not a header without timestamp and uuid', () => {
    expect(parseCsvHeader('index, name, power.draw [W]')).toBeNull();
    expect(parseCsvHeader(`2026/11/26 10:55:48.518, 0, ${UUID}`)).toBeNull();
  });
});

describe('CSV rows', () => {
  const base = ['2026/11/26 10:55:48.518', '0', UUID, 'NVIDIA H100 80GB HBM3'];
  const cases: Array<{ name: string; cells: string[]; expect: Record<string, number | null> }> = [
    {
      name: 'nounits',
      cells: ['97', '58', '71234', '81559', '612.45', '700.00', '63', '1980', '0', '0'],
      expect: { utilPct: 97, memUtilPct: 58, memUsedBytes: 71234 * MIB, memTotalBytes: 81559 * MIB, powerW: 612.45, powerLimitW: 700, tempC: 63, smClockMhz: 1980, eccCorrected: 0, eccUncorrected: 0 },
    },
    {
      name: 'with units',
      cells: ['97 %', '58 %', '71234 MiB', '81559 MiB', '612.45 W', '700.00 W', '63', '1980 MHz', '0', '2'],
      expect: { utilPct: 97, memUsedBytes: 71234 * MIB, powerW: 612.45, powerLimitW: 700, smClockMhz: 1980, eccUncorrected: 2 },
    },
    {
      name: '[N/A], [Not Supported], N/A and empty are null, not 0',
      cells: ['[N/A]', '[Not Supported]', 'N/A', '', '[Unknown Error]', '[N/A]', '[N/A]', '[N/A]', '[Not Supported]', '[N/A]'],
      expect: { utilPct: null, memUtilPct: null, memUsedBytes: null, memTotalBytes: null, powerW: null, powerLimitW: null, tempC: null, smClockMhz: null, eccCorrected: null, eccUncorrected: null },
    },
    {
      name: 'out-of-range values are null',
      cells: ['101', '58', '1', '81559', '12000', '700', '151', '1980', '0', '0'],
      expect: { utilPct: null, powerW: null, tempC: null, memUsedBytes: MIB },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = parseCsvRow([...base, ...c.cells].join(', '), DEFAULT_COLS);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.row).toMatchObject({ ts: local('2026-11-26T10:55:48.518'), index: 0, uuid: UUID, name: 'NVIDIA H100 80GB HBM3', ...c.expect });
    });
  }

  const bad: Array<[string, string, RegExp]> = [
    ['garbage', 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.', /expected 14 fields, got 1/],
    ['partial line', `2026/11/26 10:55:48.518, 0, ${UUID}, NVIDIA H1`, /expected 14 fields, got 4/],
    ['bad timestamp', ['26/11/2026 10:55:48', '0', UUID, 'x', '1', '1', '1', '1', '1', '1', '1', '1', '0', '0'].join(', '), /timestamp/],
    ['bad number', [...base, 'abc', '1', '1', '1', '1', '1', '1', '1', '0', '0'].join(', '), /utilPct "abc"/],
    ['bad uuid', ['2026/11/26 10:55:48.518', '0', 'GPU x/y', 'n', '1', '1', '1', '1', '1', '1', '1', '1', '0', '0'].join(', '), /uuid/],
    ['empty uuid', ['2026/11/26 10:55:48.518', '0', '[N/A]', 'n', '1', '1', '1', '1', '1', '1', '1', '1', '0', '0'].join(', '), /uuid/],
  ];
  for (const [name, line, error] of bad) {
    it(`rejects ${name}`, () => {
      const r = parseCsvRow(line, DEFAULT_COLS);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(error);
    });
  }

  it('every row of both real captures parses into a valid sample and chip', () => {
    for (const f of ['nvidia-h100/query-gpu-250ms.csv', 'nvidia-h200-training/query-gpu-500ms.csv']) {
      const [header, ...rows] = readFileSync(path.join(FIX, f), 'utf8').trim().split('\n');
      const cols = parseCsvHeader(header)!;
      for (const line of rows) {
        const r = parseCsvRow(line, cols);
        if (!r.ok) throw new Error(`${f}: ${r.error}: ${line}`);
        sampleSchema.parse(rowToSample(r.row, 1));
        chipInfoSchema.parse(rowToChipInfo(r.row, 0));
      }
    }
  });
});

describe('timestamps', () => {
  it.each([
    ['2026/11/26 10:55:48.518', local('2026-11-26T10:55:48.518')],
    ['2026/11/26 10:55:48.5', local('2026-11-26T10:55:48.500')],
    ['2026/11/26 10:55:48', local('2026-11-26T10:55:48.000')],
    ['2026/02/30 10:55:48.518', null],
    ['2026/11/26 25:55:48.518', null],
    ['2026-11-26 10:55:48.518', null],
    ['', null],
  ])('%s', (s, want) => expect(parseNvidiaSmiTimestamp(s)).toBe(want));
});

describe('model names', () => {
  it.each([
    ['NVIDIA H100 80GB HBM3', 'H100'],
    ['NVIDIA H100 PCIe', 'H100'],
    ['NVIDIA H100 NVL', 'H100'],
    ['NVIDIA H200', 'H200'],
    ['NVIDIA H20', 'H20'],
    ['NVIDIA B200', 'B200'],
    ['NVIDIA GB200', 'GB200'],
    ['NVIDIA GH200 480GB', 'GH200'],
    ['NVIDIA A100-SXM4-80GB', 'A100'],
    ['NVIDIA A10G', 'A10G'],
    ['NVIDIA L40S', 'L40S'],
    ['NVIDIA L4', 'L4'],
    ['Tesla T4', 'T4'],
    ['Tesla V100-SXM2-16GB', 'V100'],
    ['NVIDIA RTX 6000 Ada Generation', 'RTX-6000-Ada-Generation'],
    ['Quadro RTX 8000', 'Quadro-RTX-8000'],
  ])('%s → %s', (name, model) => expect(gpuModelFromName(name)).toBe(model));

  it('falls back for a missing name', () => expect(gpuModelFromName(null)).toBe('NVIDIA-GPU'));
});

describe('EnergyIntegrator', () => {
  it('integrates power over the rows own timestamps (trapezoid), per chip, from 0', () => {
    const e = new EnergyIntegrator();
    expect(e.add('a', 1000, 100)).toBe(0);
    expect(e.add('b', 1000, null)).toBeNull(); // no power yet: unknown, not 0
    expect(e.add('a', 1500, 200)).toBeCloseTo(75); // (100+200)/2 W × 0.5 s
    expect(e.add('a', 2000, null)).toBeCloseTo(75); // missing power adds nothing
    expect(e.add('a', 2500, 200)).toBeCloseTo(275); // 1 s at 200 W since the last reading
    expect(e.add('a', 2400, 500)).toBeCloseTo(275); // time going back adds nothing
    expect(e.add('b', 5000, 300)).toBe(0);
  });
});
