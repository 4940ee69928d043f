/**
 * Label matchers (server/alerts/matchers.ts, parsing in schema/alert-notify.ts) as Alertmanager
 * reads them: the four operators, anchored regexes, absent labels as "", the text forms and what
 * they refuse, and the silence rule that one matcher must not match the empty value.
 */
import { describe, expect, it } from 'vitest';
import { matchesEmpty, matcherSchema, parseMatcher, silenceBodySchema, type Matcher } from '../../schema/alert-notify.ts';
import { compileMatchers, formatMatcher, matchesAll } from '../../schema/alert-matchers.ts';

const labels = { alertname: 'thermal', severity: 'critical', host: 'gpu-a1', chip: 'GPU-0', team: '' };

describe('matching', () => {
  const cases: [string, Matcher, boolean][] = [
    ['= equal', { name: 'severity', op: '=', value: 'critical' }, true],
    ['= different', { name: 'severity', op: '=', value: 'warning' }, false],
    ['= is case-sensitive', { name: 'severity', op: '=', value: 'Critical' }, false],
    ['= "" on an absent label', { name: 'env', op: '=', value: '' }, true],
    ['= "" on an empty label', { name: 'team', op: '=', value: '' }, true],
    ['= "" on a present label', { name: 'host', op: '=', value: '' }, false],
    ['!= different', { name: 'severity', op: '!=', value: 'warning' }, true],
    ['!= equal', { name: 'severity', op: '!=', value: 'critical' }, false],
    ['!= on an absent label', { name: 'env', op: '!=', value: 'prod' }, true],
    ['=~ whole value', { name: 'host', op: '=~', value: 'gpu-.*' }, true],
    ['=~ is anchored at the start', { name: 'host', op: '=~', value: 'a1' }, false],
    ['=~ is anchored at the end', { name: 'host', op: '=~', value: 'gpu' }, false],
    ['=~ alternation stays anchored', { name: 'severity', op: '=~', value: 'warning|critical' }, true],
    ['=~ alternation does not match a part', { name: 'severity', op: '=~', value: 'crit|warn' }, false],
    ['=~ on an absent label reads ""', { name: 'env', op: '=~', value: '.*' }, true],
    ['=~ .+ on an absent label', { name: 'env', op: '=~', value: '.+' }, false],
    ['!~ matching', { name: 'host', op: '!~', value: 'gpu-.*' }, false],
    ['!~ not matching', { name: 'host', op: '!~', value: 'trn-.*' }, true],
    ['!~ on an absent label', { name: 'env', op: '!~', value: '.+' }, true],
    ['=~ with a character class', { name: 'chip', op: '=~', value: 'GPU-[0-3]' }, true],
  ];
  it.each(cases)('%s', (_name, m, expected) => {
    expect(matchesAll([m], labels)).toBe(expected);
  });

  it('a list matches when every matcher does; an empty list matches everything', () => {
    const a: Matcher = { name: 'severity', op: '=', value: 'critical' };
    const b: Matcher = { name: 'host', op: '=~', value: 'gpu-.*' };
    const c: Matcher = { name: 'chip', op: '=', value: 'GPU-1' };
    expect(matchesAll([a, b], labels)).toBe(true);
    expect(matchesAll([a, b, c], labels)).toBe(false);
    expect(matchesAll([], labels)).toBe(true);
    expect(compileMatchers([])({})).toBe(true);
  });
});

describe('parseMatcher', () => {
  const ok: [string, Matcher][] = [
    ['severity="critical"', { name: 'severity', op: '=', value: 'critical' }],
    ['severity=critical', { name: 'severity', op: '=', value: 'critical' }],
    ['  host != "gpu-a1" ', { name: 'host', op: '!=', value: 'gpu-a1' }],
    ['host=~"gpu-.*"', { name: 'host', op: '=~', value: 'gpu-.*' }],
    ['host!~gpu-.*', { name: 'host', op: '!~', value: 'gpu-.*' }],
    ['team=""', { name: 'team', op: '=', value: '' }],
    ['summary="say \\"hi\\" \\\\ there"', { name: 'summary', op: '=', value: 'say "hi" \\ there' }],
    ['x="a=b"', { name: 'x', op: '=', value: 'a=b' }],
    ['_x1=~"a|b"', { name: '_x1', op: '=~', value: 'a|b' }],
  ];
  it.each(ok)('%s', (text, expected) => {
    expect(parseMatcher(text)).toEqual(expected);
  });

  const bad: [string, RegExp][] = [
    ['severity', /invalid matcher/],
    ['1abc="x"', /invalid matcher/],
    ['sev-erity="x"', /invalid matcher/],
    ['host=~"("', /invalid regex/],
    ['host="unterminated', /unbalanced quotes/],
    ['host="a"b"', /unbalanced quotes/],
    ['=x', /invalid matcher/],
  ];
  it.each(bad)('refuses %s', (text, message) => {
    const res = parseMatcher(text);
    expect(typeof res).toBe('string');
    expect(res as string).toMatch(message);
  });

  it('round-trips through formatMatcher', () => {
    for (const [text] of ok) {
      const m = parseMatcher(text) as Matcher;
      expect(parseMatcher(formatMatcher(m))).toEqual(m);
    }
  });
});

describe('matcherSchema', () => {
  it('takes the text form and the object form, and gives the object', () => {
    expect(matcherSchema.parse('a=~"b.*"')).toEqual({ name: 'a', op: '=~', value: 'b.*' });
    expect(matcherSchema.parse({ name: 'a', op: '!=', value: 'b' })).toEqual({ name: 'a', op: '!=', value: 'b' });
  });

  it('refuses an unknown operator, a bad name or a bad regex', () => {
    expect(matcherSchema.safeParse({ name: 'a', op: '==', value: 'b' }).success).toBe(false);
    expect(matcherSchema.safeParse({ name: 'a-b', op: '=', value: 'b' }).success).toBe(false);
    const res = matcherSchema.safeParse({ name: 'a', op: '=~', value: '[' });
    expect(res.success).toBe(false);
    expect(res.error!.issues[0]!.message).toMatch(/invalid regex/);
  });
});

describe('silences need a matcher that does not match the empty value', () => {
  const cases: [string, boolean][] = [
    ['a=""', true],
    ['a="x"', false],
    ['a!="x"', true],
    ['a!=""', false],
    ['a=~".*"', true],
    ['a=~".+"', false],
    ['a!~".+"', true],
    ['a!~".*"', false],
  ];
  it.each(cases)('%s matches empty: %s', (text, expected) => {
    expect(matchesEmpty(parseMatcher(text) as Matcher)).toBe(expected);
  });

  it('refuses a silence of only such matchers, with the field named', () => {
    const res = silenceBodySchema.safeParse({ matchers: ['a=~".*"', 'b!="x"'], comment: 'all', duration: '1h' });
    expect(res.success).toBe(false);
    expect(res.error!.issues[0]!.path).toEqual(['matchers']);
    expect(silenceBodySchema.safeParse({ matchers: ['a=~".*"', 'alertname="thermal"'], comment: 'ok', duration: '1h' }).success).toBe(true);
  });
});
