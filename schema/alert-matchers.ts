/**
 * Label matchers as Alertmanager evaluates them (pure, no dependencies: the hub's notifier and the
 * dashboard share them): `=` and `!=` compare the value, `=~` and `!~` test a regex anchored at
 * both ends; a label an alert does not have reads as the empty value, so `team!="db"` matches an
 * alert without `team` and `team=""` matches only those. A list matches when every matcher does
 * (an empty list matches every alert). Parsing is in schema/alert-notify.ts.
 */
export const MATCH_OPS = ['=', '!=', '=~', '!~'] as const;
export type MatchOp = (typeof MATCH_OPS)[number];

/** One label matcher. */
export interface Matcher {
  name: string;
  op: MatchOp;
  value: string;
}

/** The anchored regex of a `=~` / `!~` matcher (Alertmanager anchors at both ends), or an error. */
export function matcherRegex(value: string): RegExp | string {
  try {
    return new RegExp(`^(?:${value})$`);
  } catch (err) {
    return `invalid regex ${JSON.stringify(value)}: ${(err as Error).message}`;
  }
}

export type LabelSet = Readonly<Record<string, string>>;

/** A matcher made ready to test many label sets (its regex compiled once). */
export type CompiledMatcher = (labels: LabelSet) => boolean;

export function compileMatcher(m: Matcher): CompiledMatcher {
  const read = (labels: LabelSet) => (Object.hasOwn(labels, m.name) ? labels[m.name]! : '');
  switch (m.op) {
    case '=':
      return (l) => read(l) === m.value;
    case '!=':
      return (l) => read(l) !== m.value;
    case '=~':
    case '!~': {
      const re = matcherRegex(m.value);
      if (typeof re === 'string') throw new Error(re);
      return m.op === '=~' ? (l) => re.test(read(l)) : (l) => !re.test(read(l));
    }
  }
}

/** All of them (none: everything). */
export function compileMatchers(ms: readonly Matcher[]): CompiledMatcher {
  const each = ms.map(compileMatcher);
  return (labels) => each.every((f) => f(labels));
}

/** Whether every matcher matches the labels. */
export function matchesAll(ms: readonly Matcher[], labels: LabelSet): boolean {
  return compileMatchers(ms)(labels);
}

/** The matcher as Alertmanager writes it: `name=~"value"`. */
export function formatMatcher(m: Matcher): string {
  return `${m.name}${m.op}${JSON.stringify(m.value)}`;
}
