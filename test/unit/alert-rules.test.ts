/**
 * schema/alert-rules.ts: a rule gets its defaults; every bad rule is refused with the path of the
 * field at fault; the rules file refuses duplicate ids and custom rules named like a built-in.
 */
import { describe, expect, it } from 'vitest';
import { alertRuleSchema, formatIssuePath, formatIssues, rulesFileSchema, type AlertRuleInput } from '../../schema/alert-rules.ts';

const base: AlertRuleInput = { id: 'hot', name: 'Hot', field: 'tempC', op: '>=', threshold: 85 };
const errorsOf = (schema: typeof alertRuleSchema | typeof rulesFileSchema, input: unknown): string[] => {
  const r = schema.safeParse(input);
  return r.success ? [] : formatIssues(r.error);
};

describe('alertRuleSchema', () => {
  it('fills in the defaults: enabled, matches every chip, at once, clears at the threshold, warning', () => {
    expect(alertRuleSchema.parse(base)).toEqual({
      ...base,
      enabled: true,
      selector: {},
      and: [],
      for: '0s',
      clear: {},
      severity: 'warning',
      labels: {},
    });
  });

  const refusals: [string, Partial<Record<string, unknown>>, string][] = [
    ['a duration that is not one', { for: '1 minute' }, 'for: invalid duration "1 minute": use e.g. 30s, 1m, 15m, 1h'],
    ['a clear duration that is not one', { clear: { for: 'soon' } }, 'clear.for: invalid duration "soon"'],
    ['a duration over 7 days', { for: '8d' }, 'for: duration "8d" is longer than 7d'],
    ['an unknown field', { field: 'temp' }, 'field: Invalid option: expected one of "utilPct"'],
    ['an unknown op', { op: '=>' }, 'op: Invalid option'],
    ['an unknown severity', { severity: 'page' }, 'severity: Invalid option'],
    ['an id with upper case', { id: 'Hot' }, 'id: rule id must be'],
    ['a clear threshold above a ">=" threshold', { clear: { threshold: 90 } }, 'clear.threshold: must be at most threshold (85) for op >='],
    ['a clear threshold below a "<" threshold', { op: '<', threshold: 5, clear: { threshold: 2 } }, 'clear.threshold: must be at least threshold (5) for op <'],
    ['a clear threshold with "=="', { op: '==', clear: { threshold: 1 } }, 'clear.threshold: a clear threshold needs op >, >=, < or <=, not =='],
    ['an unknown vendor', { selector: { vendor: ['amd'] } }, 'selector.vendor[0]: Invalid option'],
    ['an empty selector list', { selector: { host: [] } }, 'selector.host: list at least one value'],
    ['a reserved label', { labels: { chip: 'x' } }, 'labels.chip: label "chip" is set by fleetscope itself'],
    ['a label name with a dash', { labels: { 'on-call': 'x' } }, 'labels.on-call: label names are letters, digits and _'],
    ['a label name starting with __', { labels: { __x: 'x' } }, 'labels.__x: label names starting with __ are reserved'],
    ['a misspelt key', { thresold: 80 }, 'thresold: unknown field'],
    ['a liveness field in "and"', { and: [{ field: 'missedIntervals', op: '>', threshold: 1 }] }, 'and[0].field: missedIntervals can only be a rule\'s own field'],
    ['"and" on a liveness rule', { field: 'agentDisconnected', op: '==', threshold: 1, and: [{ field: 'tempC', op: '>', threshold: 1 }] }, 'and: a rule on agentDisconnected cannot have extra conditions'],
    ['missedIntervals with "<"', { field: 'missedIntervals', op: '<', threshold: 3 }, 'op: missedIntervals can only be tested with > or >='],
    ['a threshold that is no number', { threshold: '85' }, 'threshold: Invalid input: expected number'],
  ];
  it.each(refusals)('refuses %s, naming the field', (_name, change, message) => {
    const errors = errorsOf(alertRuleSchema, { ...base, ...change });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(message);
  });

  it('accepts a clear threshold on the safe side, and the same value as the threshold', () => {
    for (const clear of [{ threshold: 80 }, { threshold: 85 }]) expect(alertRuleSchema.safeParse({ ...base, clear }).success).toBe(true);
  });
});

describe('rulesFileSchema', () => {
  it('names the rule of the file at fault', () => {
    const file = { rules: [base, { ...base, id: 'b', for: '1 minute' }], builtins: { thermal: { for: 'x' } } };
    expect(errorsOf(rulesFileSchema, file)).toEqual([
      'builtins.thermal.for: invalid duration "x": use e.g. 30s, 1m, 15m, 1h',
      'rules[1].for: invalid duration "1 minute": use e.g. 30s, 1m, 15m, 1h',
    ]);
  });

  const refusals: [string, unknown, string[]][] = [
    ['a duplicate id', { rules: [base, base] }, ['rules[1].id: duplicate rule id "hot"']],
    ['a custom rule named like a built-in', { rules: [{ ...base, id: 'thermal' }] }, ['rules[0].id: "thermal" is a built-in rule: adjust it under builtins.thermal']],
    ['an unknown built-in', { builtins: { hot: { enabled: false } } }, ['builtins.hot: unknown field']],
    ['an id in a built-in override', { builtins: { stale: { id: 'x' } } }, ['builtins.stale.id: unknown field']],
  ];
  it.each(refusals)('refuses %s', (_name, file, errors) => {
    expect(errorsOf(rulesFileSchema, file)).toEqual(errors);
  });

  it('an override carries only what it names (no defaults to overwrite the built-in with)', () => {
    expect(rulesFileSchema.parse({ builtins: { thermal: { threshold: 90 } } })).toEqual({ builtins: { thermal: { threshold: 90 } }, rules: [] });
  });
});

describe('formatIssuePath', () => {
  const cases: [PropertyKey[], string][] = [
    [[], '(root)'],
    [['for'], 'for'],
    [['rules', 2, 'clear', 'for'], 'rules[2].clear.for'],
    [['builtins', 'agent-offline', 'for'], 'builtins.agent-offline.for'],
    [['labels', 'a b'], 'labels["a b"]'],
  ];
  it.each(cases)('%j -> %s', (path, text) => {
    expect(formatIssuePath(path)).toBe(text);
  });
});
