/**
 * Which alert rules are in force, and where each comes from: the built-ins (adjusted by the rules
 * file's and the API's overrides), rules of the API (stored) and rules of the file. Every change
 * is checked by resolving the whole set first (rule-set.ts): a change that would not resolve
 * changes nothing. Changes answer the new set for the engine to put in force.
 */
import type { AlertRule, BuiltinOverride, BuiltinRuleId, RulesFile } from '../../schema/alert-rules.ts';
import type { Logger } from '../../common/logger.ts';
import type { AlertStore } from './alert-store.ts';
import { effectiveBuiltin, isBuiltinId, parseApiRule, parseOverride, resolveRuleSet, type ResolvedRule } from './rule-set.ts';
import { RulesFileError } from './rules-file.ts';

/** Outcome of a rule change through the API. */
export type RuleChange = { ok: true; rule: ResolvedRule; created: boolean } | { ok: false; reason: 'invalid' | 'not_found' | 'conflict'; message: string };

export type RulesFileChange = { ok: true; rules: number } | { ok: false; errors: string[] };

/** A change made: the outcome, and the rule set now in force (null when nothing changed). */
export interface CatalogChange<C> {
  change: C;
  inForce: ResolvedRule[] | null;
}

export class RuleCatalog {
  private apiRules = new Map<string, AlertRule>();
  private apiOverrides = new Map<BuiltinRuleId, BuiltinOverride>();
  private resolved: ResolvedRule[] = [];

  constructor(
    private readonly store: AlertStore,
    private file: RulesFile | null,
    private readonly now: () => number,
  ) {}

  /** Load the API's stored rules and overrides; the set in force (throws when it clashes with the rules file). */
  load(log: Logger): ResolvedRule[] {
    for (const row of this.store.loadRules()) {
      if (row.source === 'api') {
        const r = parseApiRule(row.body);
        if (r.ok && r.value.id === row.id && !isBuiltinId(row.id)) this.apiRules.set(row.id, r.value);
        else log.warn('stored alert rule skipped', { id: row.id, errors: r.ok ? ['id mismatch'] : r.errors });
      } else if (row.source === 'builtin' && isBuiltinId(row.id)) {
        const r = parseOverride(row.body);
        if (r.ok) this.apiOverrides.set(row.id, r.value);
        else log.warn('stored override of a built-in alert rule skipped', { id: row.id, errors: r.errors });
      }
    }
    const r = resolveRuleSet(this.apiRules, this.apiOverrides, this.file);
    if (!r.ok) throw new RulesFileError(`--rules: ${r.errors.join('; ')}`);
    return (this.resolved = r.value);
  }

  /** The rules in force (built-ins, API, file), disabled ones included. */
  rules(): ResolvedRule[] {
    return this.resolved;
  }

  rule(id: string): ResolvedRule | undefined {
    return this.resolved.find((r) => r.rule.id === id);
  }

  /** POST: a new rule of the API. */
  create(body: unknown): CatalogChange<RuleChange> {
    const r = parseApiRule(body);
    if (!r.ok) return refused('invalid', r.errors.join('; '));
    const id = r.value.id;
    if (isBuiltinId(id)) return refused('conflict', `id: "${id}" is a built-in rule: adjust it with PUT /api/v1/alerts/rules/${id}`);
    const existing = this.rule(id);
    if (existing) return refused('conflict', `id: rule "${id}" exists already (${existing.source === 'file' ? 'in the rules file' : `change it with PUT /api/v1/alerts/rules/${id}`})`);
    return this.commitApiRule(r.value, true);
  }

  /**
   * PUT: replace (or create) a rule of the API; for a built-in id the body is an override (any of
   * the rule's fields but id), which replaces the API's earlier override of it.
   */
  put(id: string, body: unknown): CatalogChange<RuleChange> {
    if (isBuiltinId(id)) {
      const o = parseOverride(body);
      if (!o.ok) return refused('invalid', o.errors.join('; '));
      const check = effectiveBuiltin(id, this.file?.builtins[id], o.value);
      if (!check.ok) return refused('invalid', check.errors.join('; '));
      return this.commit(this.apiRules, new Map(this.apiOverrides).set(id, o.value), () => this.store.saveRule(id, 'builtin', o.value, this.now()), () => ({ ok: true, rule: this.rule(id)!, created: false }));
    }
    if (this.rule(id)?.source === 'file') return refused('conflict', `rule "${id}" is defined in the rules file: change it there and reload (SIGHUP)`);
    const r = parseApiRule(body, id);
    if (!r.ok) return refused('invalid', r.errors.join('; '));
    return this.commitApiRule(r.value, !this.apiRules.has(id));
  }

  /** DELETE: a rule of the API; for a built-in, the API's override (the built-in stays, as the file sets it). */
  delete(id: string): CatalogChange<RuleChange> {
    const existing = this.rule(id);
    if (!existing) return refused('not_found', `no alert rule ${JSON.stringify(id)}`);
    if (existing.source === 'file') return refused('conflict', `rule "${id}" is defined in the rules file: remove it there and reload (SIGHUP)`);
    const save = () => this.store.deleteRule(id);
    if (existing.source === 'builtin') {
      const overrides = new Map(this.apiOverrides);
      overrides.delete(id as BuiltinRuleId);
      return this.commit(this.apiRules, overrides, save, () => ({ ok: true, rule: this.rule(id)!, created: false }));
    }
    const rules = new Map(this.apiRules);
    rules.delete(id);
    return this.commit(rules, this.apiOverrides, save, () => ({ ok: true, rule: existing, created: false }));
  }

  /** Whether a rules file content would resolve with the API's rules (nothing changes). */
  checkFile(file: RulesFile | null): RulesFileChange {
    const resolved = resolveRuleSet(this.apiRules, this.apiOverrides, file);
    return resolved.ok ? { ok: true, rules: resolved.value.length } : { ok: false, errors: resolved.errors };
  }

  /** A new rules file content (reload): in force when it resolves with the API's rules; else nothing changes. */
  setFile(file: RulesFile | null): CatalogChange<RulesFileChange> {
    const resolved = resolveRuleSet(this.apiRules, this.apiOverrides, file);
    if (!resolved.ok) return { change: { ok: false, errors: resolved.errors }, inForce: null };
    this.file = file;
    this.resolved = resolved.value;
    return { change: { ok: true, rules: resolved.value.length }, inForce: resolved.value };
  }

  private commitApiRule(rule: AlertRule, created: boolean): CatalogChange<RuleChange> {
    return this.commit(new Map(this.apiRules).set(rule.id, rule), this.apiOverrides, () => this.store.saveRule(rule.id, 'api', rule, this.now()), () => ({ ok: true, rule: this.rule(rule.id)!, created }));
  }

  /** Resolve the set with these API rules and overrides; if it resolves, store (`save`) and keep them. */
  private commit(rules: Map<string, AlertRule>, overrides: Map<BuiltinRuleId, BuiltinOverride>, save: () => void, answer: () => RuleChange): CatalogChange<RuleChange> {
    const resolved = resolveRuleSet(rules, overrides, this.file);
    if (!resolved.ok) return refused('invalid', resolved.errors.join('; '));
    save();
    this.apiRules = rules;
    this.apiOverrides = overrides;
    this.resolved = resolved.value;
    return { change: answer(), inForce: resolved.value };
  }
}

function refused(reason: 'invalid' | 'not_found' | 'conflict', message: string): CatalogChange<RuleChange> {
  return { change: { ok: false, reason, message }, inForce: null };
}
