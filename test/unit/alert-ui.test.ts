/** The alerts UI's pure parts: live alert state from transitions, badges per chip, bands on the time axis. */
import { describe, expect, it } from 'vitest';
import type { ActiveAlert, AlertEventAnswer } from '../../schema/api-answers.ts';
import { alertBands, bandsInView } from '../../client/src/alert-bands.ts';
import { fmtCondition, fmtRuleValue } from '../../client/src/alert-format.ts';
import { alertKey, applyAlertEvents, compareAlerts, firingByChip, mergeChipAlerts } from '../../client/src/alerts-controller.ts';
import { silenceMatchersFor } from '../../client/src/alert-list.ts';
import { payloadAlerts } from '../../client/src/dead-letters.ts';
import { matcherLines } from '../../client/src/silence-form.ts';
import { silencesCovering } from '../../client/src/silence-match.ts';
import type { SilenceAnswer } from '../../schema/api-answers.ts';
import { parseRoute } from '../../client/src/fleet-app.ts';

const CHIP = 'GPU-a';

function ev(over: Partial<AlertEventAnswer> & Pick<AlertEventAnswer, 'from' | 'to' | 'at'>): AlertEventAnswer {
  return {
    ruleId: 'hot',
    chipId: CHIP,
    value: 300,
    severity: 'critical',
    labels: { alertname: 'Hot', chip: CHIP, host: 'h1', severity: 'critical' },
    annotations: { summary: 'hot' },
    fingerprint: '0123456789abcdef',
    startsAt: over.at,
    endsAt: over.to === 'resolved' ? over.at : null,
    ...over,
  };
}

function active(over: Partial<ActiveAlert> = {}): ActiveAlert {
  return {
    ruleId: 'hot',
    chipId: CHIP,
    phase: 'firing',
    severity: 'critical',
    labels: { alertname: 'Hot', chip: CHIP, host: 'h1' },
    annotations: {},
    fingerprint: '0123456789abcdef',
    startsAt: 1000,
    firedAt: 1000,
    value: 1,
    ...over,
  };
}

describe('applyAlertEvents', () => {
  it('follows an alert from pending to firing to resolved and removes it when inactive', () => {
    const map = new Map<string, ActiveAlert>();
    applyAlertEvents(map, [ev({ from: 'inactive', to: 'pending', at: 1000 })]);
    expect(map.get(alertKey({ ruleId: 'hot', chipId: CHIP }))).toMatchObject({ phase: 'pending', firedAt: null, startsAt: 1000 });
    applyAlertEvents(map, [ev({ from: 'pending', to: 'firing', at: 2000, startsAt: 1000, value: 320 })]);
    expect([...map.values()][0]).toMatchObject({ phase: 'firing', firedAt: 2000, startsAt: 1000, value: 320 });
    applyAlertEvents(map, [ev({ from: 'firing', to: 'resolved', at: 5000, startsAt: 1000 })]);
    expect([...map.values()][0]).toMatchObject({ phase: 'resolved', firedAt: 2000 });
    expect(applyAlertEvents(map, [ev({ from: 'resolved', to: 'inactive', at: 6000, startsAt: 1000 })])).toBe(true);
    expect(map.size).toBe(0);
  });

  it('badges: the worst severity per chip and per host, firing alerts only', () => {
    const list = [
      active({ ruleId: 'a', severity: 'warning' }),
      active({ ruleId: 'b', severity: 'critical' }),
      active({ ruleId: 'c', severity: 'info', phase: 'pending' }),
      active({ ruleId: 'd', chipId: 'GPU-b', severity: 'info' }),
    ].sort(compareAlerts);
    expect(list.map((a) => a.ruleId)).toEqual(['b', 'a', 'd', 'c']);
    const by = firingByChip(list);
    expect(by.get(CHIP)).toMatchObject({ severity: 'critical', count: 2 });
    expect(by.get('GPU-b')).toMatchObject({ severity: 'info', count: 1 });
    expect(mergeChipAlerts([by.get('GPU-b'), undefined, by.get(CHIP)])).toMatchObject({ severity: 'critical', count: 3 });
    expect(mergeChipAlerts([undefined])).toBeNull();
  });
});

describe('alertBands', () => {
  it('one band per fired alert, from its start to its end; pending-only runs are left out', () => {
    const events = [
      ev({ from: 'inactive', to: 'pending', at: 10_000 }),
      ev({ from: 'pending', to: 'firing', at: 12_000, startsAt: 10_000 }),
      ev({ from: 'firing', to: 'resolved', at: 20_000, startsAt: 10_000 }),
      ev({ from: 'resolved', to: 'pending', at: 25_000 }), // a new run
      ev({ from: 'pending', to: 'inactive', at: 26_000, startsAt: 25_000 }),
      ev({ from: 'inactive', to: 'pending', at: 30_000 }),
      ev({ from: 'pending', to: 'firing', at: 30_000, startsAt: 30_000 }),
      ev({ from: 'inactive', to: 'firing', at: 1, chipId: 'other' }),
    ];
    // newest first as the history answers, and a duplicate from the live feed
    const bands = alertBands(CHIP, [...events].reverse().concat(events[2]!), [], 40_000);
    expect(bands).toEqual([
      { from: 10, to: 20, ruleId: 'hot', name: 'Hot', severity: 'critical', open: false },
      { from: 30, to: 40, ruleId: 'hot', name: 'Hot', severity: 'critical', open: true },
    ]);
    expect(bandsInView(bands, 21, 29)).toEqual([]);
    expect(bandsInView(bands, 15, 35)).toHaveLength(2);
  });

  it('a resolved transition alone (the run began before the history asked) still makes its band', () => {
    const bands = alertBands(CHIP, [ev({ from: 'firing', to: 'resolved', at: 9000, startsAt: 1000 })], [], 10_000);
    expect(bands).toMatchObject([{ from: 1, to: 9, open: false }]);
  });

  it('a run that resolved before the events asked for is left out', () => {
    expect(alertBands(CHIP, [ev({ from: 'resolved', to: 'inactive', at: 9000, startsAt: 1000 })], [], 10_000)).toEqual([]);
  });

  it('an alert firing since before the history: a band from its start to now', () => {
    const bands = alertBands(CHIP, [], [active({ startsAt: 4000, firedAt: 5000 }), active({ ruleId: 'p', phase: 'pending' })], 10_000);
    expect(bands).toMatchObject([{ from: 4, to: 10, open: true, ruleId: 'hot' }]);
  });
});

describe('formats and helpers', () => {
  it('values with the rule field’s unit, and the condition', () => {
    expect(fmtRuleValue('powerW', 612.4)).toBe('612 W');
    expect(fmtRuleValue('tempC', 91)).toBe('91 °C');
    expect(fmtRuleValue('powerPctOfLimit', 97.25)).toBe('97.3 %');
    expect(fmtRuleValue('memUsedBytes', 2 * 1024 ** 3)).toBe('2.0 GiB');
    expect(fmtRuleValue(undefined, null)).toBe('—');
    expect(fmtCondition({ field: 'powerW', op: '>', threshold: 100, for: '0s' })).toBe('powerW > 100 W');
    expect(fmtCondition({ field: 'tempC', op: '>=', threshold: 90, for: '2m' })).toBe('tempC >= 90 °C for 2m');
  });

  it('silence matchers of an alert, and of the form’s lines', () => {
    expect(silenceMatchersFor(active({ labels: { alertname: 'Say "hi"' } }))).toEqual(['alertname="Say \\"hi\\""', `chip="${CHIP}"`]);
    expect(matcherLines(' a="1"\n\n  b=~"x.*" \n')).toEqual(['a="1"', 'b=~"x.*"']);
  });

  it('which active silences cover an alert (anchored regexes; an absent label reads as "")', () => {
    const sil = (id: string, matchers: SilenceAnswer['matchers'], state: SilenceAnswer['state'] = 'active'): SilenceAnswer => ({ id, matchers, comment: '', createdBy: 'x', startsAt: 0, endsAt: 1, state });
    const labels = { alertname: 'Hot', chip: 'GPU-a', host: 'p5-1' };
    const list = [
      sil('eq', [{ name: 'alertname', op: '=', value: 'Hot' }]),
      sil('re', [{ name: 'host', op: '=~', value: 'p5-.*' }]),
      sil('re-partial', [{ name: 'host', op: '=~', value: 'p5' }]),
      sil('ne', [{ name: 'alertname', op: '=', value: 'Hot' }, { name: 'chip', op: '!=', value: 'GPU-a' }]),
      sil('absent', [{ name: 'team', op: '=', value: '' }, { name: 'alertname', op: '!~', value: 'Cold|Warm' }]),
      sil('expired', [{ name: 'alertname', op: '=', value: 'Hot' }], 'expired'),
      sil('bad-re', [{ name: 'host', op: '=~', value: '(' }]),
    ];
    expect(silencesCovering(labels, list).map((s) => s.id)).toEqual(['eq', 're', 'absent']);
  });

  it('what a dead letter was about', () => {
    expect(payloadAlerts({ status: 'firing', alerts: [{ labels: { alertname: 'Hot', chip: 'c1' } }, { labels: { alertname: 'Hot', chip: 'c2' } }] })).toEqual({ names: ['Hot'], chips: ['c1', 'c2'], status: 'firing' });
    expect(payloadAlerts([{ labels: { alertname: 'X' } }])).toEqual({ names: ['X'], chips: [], status: null });
    expect(payloadAlerts('text')).toEqual({ names: [], chips: [], status: null });
  });

  it('routes', () => {
    expect(parseRoute('#/alerts')).toEqual({ view: 'alerts' });
    expect(parseRoute('#/alerts/')).toEqual({ view: 'alerts' });
    expect(parseRoute('#/alertsx').view).toBe('fleet');
    expect(parseRoute('#/chip/GPU%2F1')).toEqual({ view: 'chip', chipId: 'GPU/1' });
    expect(parseRoute('').view).toBe('fleet');
  });
});
