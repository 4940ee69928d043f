/**
 * The hub's rules from their three sources, resolved into one list:
 * - the built-ins (builtin-rules.ts), each adjusted by the rules file's `builtins.<id>` and then by
 *   the API's override (`PUT /api/v1/alerts/rules/<builtin id>`), field by field, the API's last;
 * - the rules of the API (stored in alert_rules);
 * - the rules of the rules file (`hub --rules`, reloaded on SIGHUP), which the API cannot change.
 * An id belongs to one source. Pure: the engine stores and applies what this decides.
 */
import {
  alertRuleSchema,
  BUILTIN_RULE_IDS,
  builtinOverrideSchema,
  formatIssues,
  MAX_RULES,
  type AlertRule,
  type BuiltinOverride,
  type BuiltinRuleId,
  type RulesFile,
} from '../../schema/alert-rules.ts';
import { BUILTIN_RULES } from './builtin-rules.ts';

export type RuleSource = 'builtin' | 'api' | 'file';

/** A rule as in force, with where it comes from; `override` is the API's override of a built-in (else null). */
export interface ResolvedRule {
  rule: AlertRule;
  source: RuleSource;
  override: BuiltinOverride | null;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; errors: string[] };

export const isBuiltinId = (id: string): id is BuiltinRuleId => (BUILTIN_RULE_IDS as readonly string[]).includes(id);

/** A built-in with the file's and then the API's override applied (each field given replaces the built-in's). */
export function effectiveBuiltin(id: BuiltinRuleId, fileOverride: BuiltinOverride | undefined, apiOverride: BuiltinOverride | undefined, prefix: readonly PropertyKey[] = []): Checked<AlertRule> {
  if (!fileOverride && !apiOverride) return { ok: true, value: BUILTIN_RULES[id] };
  const r = alertRuleSchema.safeParse({ ...BUILTIN_RULES[id], ...fileOverride, ...apiOverride, id });
  return r.success ? { ok: true, value: r.data } : { ok: false, errors: formatIssues(r.error, prefix) };
}

/** A rule body of the API: a whole rule; under PUT its id may be left out (the URL's is taken) but may not differ. */
export function parseApiRule(body: unknown, urlId?: string): Checked<AlertRule> {
  let input = body;
  if (urlId !== undefined && typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const given = (body as Record<string, unknown>).id;
    if (given === undefined) input = { ...body, id: urlId };
    else if (given !== urlId) return { ok: false, errors: [`id: must be ${JSON.stringify(urlId)} (the rule's URL), got ${JSON.stringify(given)}`] };
  }
  const r = alertRuleSchema.safeParse(input);
  return r.success ? { ok: true, value: r.data } : { ok: false, errors: formatIssues(r.error) };
}

/** An override body for a built-in (any of its fields but the id). */
export function parseOverride(body: unknown): Checked<BuiltinOverride> {
  const r = builtinOverrideSchema.safeParse(body);
  return r.success ? { ok: true, value: r.data } : { ok: false, errors: formatIssues(r.error) };
}

/** Every rule of the three sources; they are valid one by one (parsed), this checks them together. */
export function resolveRuleSet(apiRules: ReadonlyMap<string, AlertRule>, apiOverrides: ReadonlyMap<BuiltinRuleId, BuiltinOverride>, file: RulesFile | null): Checked<ResolvedRule[]> {
  const out: ResolvedRule[] = [];
  const errors: string[] = [];
  for (const id of BUILTIN_RULE_IDS) {
    const fileOverride = file?.builtins[id];
    const apiOverride = apiOverrides.get(id);
    const r = effectiveBuiltin(id, fileOverride, apiOverride, ['builtins', id]);
    if (r.ok) out.push({ rule: r.value, source: 'builtin', override: apiOverride ?? null });
    else errors.push(...r.errors);
  }
  for (const rule of apiRules.values()) out.push({ rule, source: 'api', override: null });
  file?.rules.forEach((rule, i) => {
    if (apiRules.has(rule.id)) errors.push(`rules[${i}].id: rule ${JSON.stringify(rule.id)} is already defined through the API (DELETE /api/v1/alerts/rules/${rule.id} first)`);
    else out.push({ rule, source: 'file', override: null });
  });
  if (apiRules.size + (file?.rules.length ?? 0) > MAX_RULES) errors.push(`rules: at most ${MAX_RULES} rules (API and file together)`);
  return errors.length ? { ok: false, errors } : { ok: true, value: out };
}
