import { describe, expect, it } from 'vitest';
import { sampleSchema, type Sample } from '../../schema/sample.ts';
import { FleetState } from '../../server/fleet-state.ts';
import { CANONICAL_FIELDS, parseFieldNumber } from '../../server/line-protocol/line-fields.ts';
import { parseLineProtocol, type LinePoint, type Precision } from '../../server/line-protocol/parse-line-protocol.ts';
import { planWrite } from '../../server/line-protocol/plan-write.ts';

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);
const TS_MS = NOW - 5_000;
const TAGS = 'chip,host=h1,chip=GPU-aaa,vendor=nvidia,model=H100';
const nulls = { utilPct: null, memUtilPct: null, memUsedBytes: null, memTotalBytes: null, powerW: null, powerLimitW: null, tempC: null, energyJ: null, smClockMhz: null, eccCorrected: null, eccUncorrected: null };

function parseOne(text: string, precision?: Precision): LinePoint {
  const r = parseLineProtocol(text, NOW, precision);
  if (!r.ok) throw new Error(r.message);
  expect(r.points).toHaveLength(1);
  expect(sampleSchema.safeParse(r.points[0].sample).success).toBe(true);
  return r.points[0];
}

describe('parseLineProtocol: valid lines', () => {
  const cases: [string, string, Partial<LinePoint>, Partial<Sample>][] = [
    [
      'every canonical field, i suffix, ns timestamp',
      `${TAGS},instance_type=p5.48xlarge util_pct=97,mem_util_pct=41.5,mem_used_bytes=74690871296i,mem_total_bytes=85520809984i,power_w=612.45,power_limit_w=700,temp_c=61,energy_j=123456.5,sm_clock_mhz=1980i,ecc_corrected=0i,ecc_uncorrected=2u ${TS_MS}000000`,
      { host: 'h1', vendor: 'nvidia', model: 'H100', instanceType: 'p5.48xlarge' },
      { ts: TS_MS, chipId: 'GPU-aaa', utilPct: 97, memUtilPct: 41.5, memUsedBytes: 74690871296, memTotalBytes: 85520809984, powerW: 612.45, powerLimitW: 700, tempC: 61, energyJ: 123456.5, smClockMhz: 1980, eccCorrected: 0, eccUncorrected: 2 },
    ],
    ['missing fields are null, never 0', `${TAGS} power_w=100 ${TS_MS}000000`, { instanceType: null }, { ...nulls, ts: TS_MS, powerW: 100 }],
    ['missing timestamp -> now', `${TAGS} util_pct=1`, {}, { ts: NOW, utilPct: 1 }],
    ['sub-ms digits dropped exactly (19-digit ns)', `${TAGS} util_pct=1 ${TS_MS}999999`, {}, { ts: TS_MS }],
    ['exponent floats', `${TAGS} energy_j=1.5e6,power_w=6.1245E2,temp_c=-4e1,util_pct=.5,mem_util_pct=3. ${TS_MS}000000`, {}, { energyJ: 1.5e6, powerW: 612.45, tempC: -40, utilPct: 0.5, memUtilPct: 3 }],
    ['negative float at the bound', `${TAGS} temp_c=-40`, {}, { tempC: -40 }],
    ['other numeric fields go to extras', `${TAGS} util_pct=5,nc0_util=12.5,pcie_tx_bytes=99u,throttle_reasons=4i`, {}, { utilPct: 5, extras: { nc0_util: 12.5, pcie_tx_bytes: 99, throttle_reasons: 4 } }],
    ['escaped tag value, measurement comma-free', String.raw`chip,host=h1,chip=nc-0,vendor=aws,model=Trainium\ 2\,\=x util_pct=3`, { vendor: 'aws', model: 'Trainium 2,=x' }, { chipId: 'nc-0' }],
    ['escaped field key', String.raw`${TAGS} my\ field\,x\=y=7`, {}, { extras: { 'my field,x=y': 7 } }],
    ['a backslash before another char stays literal', String.raw`chip,host=h1,chip=GPU-aaa,vendor=nvidia,model=a\b util_pct=1`, { model: String.raw`a\b` }, {}],
    ['tags in any order; blanks around sections', `  chip,model=H100,vendor=nvidia,chip=GPU-aaa,host=h1   util_pct=2\t ${TS_MS}000000  `, { host: 'h1' }, { utilPct: 2, ts: TS_MS }],
  ];
  it.each(cases)('%s', (_name, text, point, sample) => {
    const p = parseOne(text);
    expect(p).toMatchObject({ line: 1, ...point });
    expect(p.sample).toMatchObject(sample);
  });

  const precisions: [Precision, string][] = [
    ['ns', `${TS_MS}123456`],
    ['us', `${TS_MS}123`],
    ['ms', `${TS_MS}`],
    ['s', `${Math.floor(TS_MS / 1000)}`],
  ];
  it.each(precisions)('precision %s', (precision, ts) => {
    const expected = precision === 's' ? Math.floor(TS_MS / 1000) * 1000 : TS_MS;
    expect(parseOne(`${TAGS} util_pct=1 ${ts}`, precision).sample.ts).toBe(expected);
  });

  it('skips comments and blank lines, tolerates CRLF, numbers lines from 1', () => {
    const body = `# header\r\n\r\n${TAGS} util_pct=1 ${TS_MS}000000\r\n   \n# c\n${TAGS.replace('GPU-aaa', 'GPU-bbb')} util_pct=2\r\n`;
    const r = parseLineProtocol(body, NOW);
    expect(r.ok && r.points.map((p) => [p.line, p.sample.chipId, p.sample.utilPct])).toEqual([
      [3, 'GPU-aaa', 1],
      [6, 'GPU-bbb', 2],
    ]);
  });

  it('parses an empty body as no points', () => {
    expect(parseLineProtocol('', NOW)).toEqual({ ok: true, points: [], work: [] });
    expect(parseLineProtocol('# nothing\n\n', NOW)).toEqual({ ok: true, points: [], work: [] });
  });

  it('keeps tags per line when a body mixes chips (tag cache)', () => {
    const lines = Array.from({ length: 50 }, (_, i) => `chip,host=h${i % 3},chip=GPU-${i % 7},vendor=nvidia,model=H100 util_pct=${i}`);
    const r = parseLineProtocol(lines.join('\n'), NOW);
    expect(r.ok && r.points.map((p) => `${p.host}/${p.sample.chipId}/${p.sample.utilPct}`)).toEqual(lines.map((_, i) => `h${i % 3}/GPU-${i % 7}/${i}`));
  });
});

describe('parseLineProtocol: bad lines', () => {
  const ok = `${TAGS} util_pct=1`;
  const cases: [string, string, RegExp][] = [
    ['other measurement', 'cpu,host=h1 usage=1', /measurement "cpu" is not accepted/],
    ['unknown tag', `${TAGS},rack=r7 util_pct=1`, /unknown tag "rack"/],
    ['missing host', 'chip,chip=GPU-aaa,vendor=nvidia,model=H100 util_pct=1', /missing tag "host"/],
    ['missing chip', 'chip,host=h1,vendor=nvidia,model=H100 util_pct=1', /missing tag "chip"/],
    ['missing vendor', 'chip,host=h1,chip=GPU-aaa,model=H100 util_pct=1', /missing tag "vendor"/],
    ['missing model', 'chip,host=h1,chip=GPU-aaa,vendor=nvidia util_pct=1', /missing tag "model"/],
    ['bad vendor', 'chip,host=h1,chip=GPU-aaa,vendor=amd,model=MI300 util_pct=1', /tag "vendor": "amd" is not "nvidia" or "aws"/],
    ['chip id not URL-safe', String.raw`chip,host=h1,chip=GPU/aaa,vendor=nvidia,model=H100 util_pct=1`, /tag "chip": "GPU\/aaa" may only contain/],
    ['chip id with escaped space', String.raw`chip,host=h1,chip=GPU\ a,vendor=nvidia,model=H100 util_pct=1`, /tag "chip": "GPU a" may only contain/],
    ['duplicate tag', `${TAGS},host=h2 util_pct=1`, /tag "host" is given twice/],
    ['empty tag value', 'chip,host=,chip=GPU-aaa,vendor=nvidia,model=H100 util_pct=1', /tag "host" has an empty value/],
    ['tag without =', 'chip,host,chip=GPU-aaa,vendor=nvidia,model=H100 util_pct=1', /tag "host" has no "=value"/],
    ['no fields', TAGS, /no fields/],
    ['below range', `${TAGS} power_w=-5`, /field "power_w": -5 is below 0/],
    ['above range', `${TAGS} util_pct=250`, /field "util_pct": 250 is above 100/],
    ['temp below -40', `${TAGS} temp_c=-41`, /field "temp_c": -41 is below -40/],
    ['string value', `${TAGS} util_pct="high"`, /field "util_pct": string values are not accepted/],
    ['boolean value', `${TAGS} throttled=true`, /field "throttled": boolean values are not accepted/],
    ['boolean t', `${TAGS} util_pct=t`, /boolean values are not accepted/],
    ['not a number', `${TAGS} util_pct=12abc`, /field "util_pct": "12abc" is not a number/],
    ['unsigned with minus', `${TAGS} ecc_corrected=-1u`, /"-1u" is not a number/],
    ['float with i', `${TAGS} ecc_corrected=1.5i`, /"1.5i" is not a number/],
    ['inf', `${TAGS} util_pct=inf`, /"inf" is not a number/],
    ['overflowing exponent', `${TAGS} energy_j=1e999`, /1e999 is not a finite number/],
    ['unsafe integer', `${TAGS} x=9007199254740993i`, /outside the exactly representable integer range/],
    ['empty value', `${TAGS} util_pct=`, /field "util_pct" has an empty value/],
    ['field without =', `${TAGS} util_pct`, /field "util_pct" has no "=value"/],
    ['duplicate canonical field', `${TAGS} util_pct=1,util_pct=2`, /field "util_pct" is given twice/],
    ['duplicate extra field', `${TAGS} x=1,x=2`, /field "x" is given twice/],
    ['trailing comma', `${TAGS} util_pct=1,`, /a field has an empty name/],
    ['timestamp not an integer', `${TAGS} util_pct=1 12.5`, /timestamp "12.5" is not an integer/],
    ['text after the timestamp', `${TAGS} util_pct=1 ${TS_MS}000000 extra`, /is not an integer \(or there is text after the fields\)/],
    ['timestamp before 2000', `${TAGS} util_pct=1 946684799999000000`, /timestamp 946684799999000000 \(ns\) is before 2000-01-01/],
    ['negative timestamp', `${TAGS} util_pct=1 -5`, /is before 2000-01-01/],
    ['timestamp too far ahead', `${TAGS} util_pct=1 ${NOW + 6_000}000000`, /\(ns\) is 6 s ahead of the hub's clock; at most 5 s ahead is accepted/],
    ['extras name too long', `${TAGS} ${'x'.repeat(65)}=1`, /names are limited to 64 characters/],
  ];
  it.each(cases)('%s', (_name, badLine, reason) => {
    const r = parseLineProtocol(`# comment\n${ok}\n\n${badLine}\n${ok}\n`, NOW);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.line).toBe(4);
    expect(r.message).toMatch(/^line 4: /);
    expect(r.message).toMatch(reason);
  });

  it('reports the FIRST bad line', () => {
    const r = parseLineProtocol(`${ok}\n${TAGS} util_pct=101\n${TAGS},rack=1 util_pct=1`, NOW);
    expect(r).toEqual({ ok: false, line: 2, message: 'line 2: field "util_pct": 101 is above 100', code: 'out_of_range' });
  });

  it('accepts a timestamp exactly 5 s ahead (the default window) and rejects one ms more', () => {
    expect(parseLineProtocol(`${ok} ${NOW + 5_000}`, NOW, 'ms').ok).toBe(true);
    expect(parseLineProtocol(`${ok} ${NOW + 5_001}`, NOW, 'ms').ok).toBe(false);
  });

  const H = 3_600_000;
  it.each([
    ['default: 5 s ahead', NOW + 5_000, undefined, null],
    ['default: 6 s ahead', NOW + 6_000, undefined, /is 6 s ahead of the hub's clock; at most 5 s ahead is accepted/],
    ['default: a year old', NOW - 365 * 24 * H, undefined, null],
    ['maxFutureMs 60 s: 60 s ahead', NOW + 60_000, { maxFutureMs: 60_000 }, null],
    ['maxFutureMs 60 s: 61 s ahead', NOW + 61_000, { maxFutureMs: 60_000 }, /is 61 s ahead/],
    ['maxAgeMs 48 h: 48 h old', NOW - 48 * H, { maxAgeMs: 48 * H }, null],
    ['maxAgeMs 48 h: 48 h + 1 ms old', NOW - 48 * H - 1, { maxAgeMs: 48 * H }, /is 48 h old; the hub keeps raw samples 48 h and refuses older ones/],
  ] as const)('time window, %s', (_n, ts, window, problem) => {
    const r = parseLineProtocol(`${ok} ${ts}`, NOW, 'ms', window);
    if (problem === null) expect(r.ok).toBe(true);
    else expect(r).toMatchObject({ ok: false, line: 1, code: 'out_of_range', message: expect.stringMatching(problem) });
  });

  it.each([
    [64, null],
    [65, /field "x64": at most 64 fields besides the chip's own \(11\) per line/],
  ] as const)('%i extra fields', (n, problem) => {
    const extras = Array.from({ length: n }, (_, i) => `x${i}=1`).join(',');
    const r = parseLineProtocol(`${TAGS} util_pct=1,${extras}`, NOW);
    if (problem === null) expect(r.ok && Object.keys(r.points[0].sample.extras!).length).toBe(64);
    else expect(r).toMatchObject({ ok: false, code: 'out_of_range', message: expect.stringMatching(problem) });
  });
});

describe('field checks are equivalent to sampleSchema', () => {
  const probes = [-1e16, -41, -40.0001, -40, -1e-9, -0, 0, 1e-9, 0.5, 99.999, 100, 100.0001, 150, 150.5, 9_999.9, 10_000, 10_000.1, 2 ** 50, 2 ** 50 + 1, 1e15, 1e15 + 1];
  for (const [wire, spec] of CANONICAL_FIELDS) {
    it(`${wire} accepts exactly what sampleSchema.${spec.prop} accepts`, () => {
      for (const v of probes) {
        const viaSchema = sampleSchema.safeParse({ ts: NOW, chipId: 'GPU-aaa', ...nulls, [spec.prop]: v }).success;
        const viaParser = parseLineProtocol(`${TAGS} ${wire}=${v} ${NOW}`, NOW, 'ms').ok;
        expect(viaParser, `${wire}=${v}`).toBe(viaSchema);
      }
    });
  }

  it('parses numbers to the same double as Number()', () => {
    const texts = ['0', '-0', '1', '612.45', '0.1', '0.3', '123456789012345', '1234567890123456789', '1.7976931348623157e308', '5e-324', '2.2250738585072014e-308', '9.999999999999999e22', '1e23', '.000001', '3.14159265358979323846'];
    for (const t of texts) expect(Object.is(parseFieldNumber(t, 0, t.length), Number(t)), t).toBe(true);
    for (let i = 0; i < 2000; i++) {
      const t = (Math.random() * 10 ** ((i % 30) - 10)).toPrecision(1 + (i % 17));
      expect(parseFieldNumber(t, 0, t.length), t).toBe(Number(t));
    }
  });
});

describe('planWrite and push-agent status', () => {
  const pts = (text: string) => {
    const r = parseLineProtocol(text, NOW);
    if (!r.ok) throw new Error(r.message);
    return r.points;
  };

  it('groups by host: lp-<host>, chips indexed by first appearance, inventory from the points', () => {
    const fleet = new FleetState();
    const plan = planWrite(
      pts(`chip,host=b,chip=G2,vendor=nvidia,model=H100,instance_type=p5.48xlarge util_pct=1,mem_total_bytes=80e9,power_limit_w=700
chip,host=a,chip=N1,vendor=aws,model=Trainium2 util_pct=1
chip,host=b,chip=G1,vendor=nvidia,model=H100 util_pct=1
chip,host=b,chip=G2,vendor=nvidia,model=H100 util_pct=2`),
      fleet,
    );
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    const [b, a] = plan.hosts;
    expect(b.registration).toMatchObject({ agentId: 'lp-b', host: { hostname: 'b', instanceId: null, instanceType: 'p5.48xlarge' } });
    expect(b.registration.chips).toEqual([
      { chipId: 'G2', vendor: 'nvidia', model: 'H100', index: 0, cores: null, memTotalBytes: 80e9, ratedPowerW: 700 },
      { chipId: 'G1', vendor: 'nvidia', model: 'H100', index: 1, cores: null, memTotalBytes: null, ratedPowerW: null },
    ]);
    expect(b.samples.map((s) => s.utilPct)).toEqual([1, 1, 2]);
    expect(a.registration.chips.map((c) => [c.chipId, c.index])).toEqual([['N1', 0]]);
    expect(plan.hosts.every((h) => h.changed)).toBe(true);

    // Once registered, the same inventory is not re-registered; a new chip extends it.
    for (const h of plan.hosts) fleet.pushAgentSeen(h.registration);
    const again = planWrite(pts('chip,host=b,chip=G1,vendor=nvidia,model=H100 util_pct=3'), fleet);
    expect(again.ok && again.hosts.map((h) => h.changed)).toEqual([false]);
    const grown = planWrite(pts('chip,host=b,chip=G3,vendor=nvidia,model=H100 util_pct=3'), fleet);
    expect(grown.ok && grown.hosts[0].changed).toBe(true);
    expect(grown.ok && grown.hosts[0].registration.chips.map((c) => [c.chipId, c.index])).toEqual([['G2', 0], ['G1', 1], ['G3', 2]]);
  });

  it('rejects a chip under two hosts or with two models in one request, naming the line', () => {
    const fleet = new FleetState();
    expect(planWrite(pts('chip,host=a,chip=G1,vendor=nvidia,model=H100 util_pct=1\nchip,host=b,chip=G1,vendor=nvidia,model=H100 util_pct=1'), fleet)).toEqual({
      ok: false, line: 2, message: 'line 2: chip "G1" is on host "a" on line 1, not "b"',
    });
    const r = planWrite(pts('chip,host=a,chip=G1,vendor=nvidia,model=H100 util_pct=1\nchip,host=a,chip=G1,vendor=nvidia,model=H200 util_pct=1'), fleet);
    expect(!r.ok && r.message).toMatch(/^line 2: chip "G1" is nvidia H200 here but nvidia H100 on line 1/);
  });

  it('refuses the lines of a chip another agent owns, connected or not, and plans the rest', () => {
    const fleet = new FleetState();
    const g = (chipId: string) => ({ chipId, vendor: 'nvidia' as const, model: 'H100', index: 0, cores: null, memTotalBytes: null, ratedPowerW: null });
    fleet.agentConnected({ agentId: 'agent-a', agentVersion: 't', intervalMs: 1000, host: { hostname: 'x', instanceId: null, instanceType: null }, chips: [g('G1')] });
    fleet.pushAgentSeen({ agentId: 'lp-b', agentVersion: 'line-protocol', intervalMs: 10_000, host: { hostname: 'b', instanceId: null, instanceType: null }, chips: [g('G9')] });
    const body = ['G1', 'G2', 'G1', 'G9'].map((c) => `chip,host=a,chip=${c},vendor=nvidia,model=H100 util_pct=1`).join('\n');
    const expected = {
      ok: true,
      hosts: [expect.objectContaining({ samples: [expect.objectContaining({ chipId: 'G2' })] })],
      refused: [
        { chipId: 'G1', host: 'a', owner: 'agent-a', line: 1, lines: 2 },
        { chipId: 'G9', host: 'a', owner: 'lp-b', line: 4, lines: 1 },
      ],
    };
    expect(planWrite(pts(body), fleet)).toEqual(expected);
    // The same while agent-a is disconnected (e.g. reconnecting): its chip is not moved.
    fleet.agentDisconnected('agent-a', Date.now());
    expect(planWrite(pts(body), fleet)).toEqual(expected);
    expect(fleet.get('G1')?.agentId).toBe('agent-a');
  });

  it('a push agent chip is live after a write, stale after 30 s without one, never offline', () => {
    const fleet = new FleetState();
    const plan = planWrite(pts('chip,host=a,chip=G1,vendor=nvidia,model=H100 util_pct=1'), fleet);
    if (!plan.ok) throw new Error(plan.message);
    fleet.pushAgentSeen(plan.hosts[0].registration);
    const t = 1_000_000;
    fleet.applySamples(plan.hosts[0].samples, t);
    const status = (now: number) => (fleet.refreshStatuses(now), fleet.get('G1')!.status);
    expect(status(t + 30_000)).toBe('live');
    expect(status(t + 30_001)).toBe('stale');
    expect(status(t + 3_600_000)).toBe('stale');
    fleet.applySamples(plan.hosts[0].samples, t + 3_600_000);
    expect(status(t + 3_600_001)).toBe('live');
    expect(fleet.listAgents()).toEqual([expect.objectContaining({ agentId: 'lp-a', connected: true, intervalMs: 10_000, version: 'line-protocol' })]);
  });
});
