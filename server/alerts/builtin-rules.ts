/**
 * The rules fleetscope ships, on by default, and how a rules file adjusts them:
 * - stale: no sample for 3 sampling intervals (the hub's own `stale` status); silence is never read as 0;
 * - agent-offline: the chip's agent has had no connection for 60 s;
 * - idle-powered: under 5 % busy while drawing over 1.5 × the model's idle power (idle-floors.ts), for 15 min;
 * - thermal: ≥ 85 °C for 1 min, clears below 80 °C (sources without temperature, such as Neuron, never fire it);
 * - power-at-limit: ≥ 98 % of the power limit for 30 s, clears below 95 % (labelled `powerEstimated` on Neuron);
 * - ecc-uncorrected: any new uncorrected ECC error, at once; it stays firing until an hour passes without one.
 */
import { alertRuleSchema, BUILTIN_RULE_IDS, formatIssues, type AlertRule, type AlertRuleInput, type BuiltinOverride, type BuiltinRuleId, type RulesFile } from '../../schema/alert-rules.ts';

const define = (rule: AlertRuleInput & { id: BuiltinRuleId }): AlertRule => alertRuleSchema.parse(rule);

/** The built-in rules, as they are when nothing adjusts them. */
export const BUILTIN_RULES: Readonly<Record<BuiltinRuleId, AlertRule>> = {
  stale: define({
    id: 'stale',
    name: 'ChipStale',
    field: 'missedIntervals',
    op: '>',
    threshold: 3,
    severity: 'warning',
    summary: '{{chip}} on {{host}} sent no sample for {{value}} sampling intervals',
  }),
  'agent-offline': define({
    id: 'agent-offline',
    name: 'AgentOffline',
    field: 'agentDisconnected',
    op: '==',
    threshold: 1,
    for: '60s',
    severity: 'critical',
    summary: "{{chip}} on {{host}}: the host's agent has been disconnected for over a minute",
  }),
  'idle-powered': define({
    id: 'idle-powered',
    name: 'ChipIdleButPowered',
    field: 'utilPct',
    op: '<',
    threshold: 5,
    and: [{ field: 'powerPctOfIdleFloor', op: '>', threshold: 150 }],
    for: '15m',
    severity: 'info',
    summary: '{{chip}} on {{host}} is {{value}} % busy but draws well above the idle power of a {{model}}',
    description: 'A process holds the chip (clocks up, power well above idle) without using it: a finished job that did not exit, or a stuck one.',
  }),
  thermal: define({
    id: 'thermal',
    name: 'ChipHot',
    field: 'tempC',
    op: '>=',
    threshold: 85,
    for: '1m',
    clear: { threshold: 80 },
    severity: 'critical',
    summary: '{{chip}} on {{host}} at {{value}} °C',
  }),
  'power-at-limit': define({
    id: 'power-at-limit',
    name: 'ChipPowerAtLimit',
    field: 'powerPctOfLimit',
    op: '>=',
    threshold: 98,
    for: '30s',
    clear: { threshold: 95 },
    severity: 'info',
    summary: '{{chip}} on {{host}} at {{value}} % of its power limit',
    description: 'The chip is held at its power limit (clocks are lowered to stay under it).',
  }),
  'ecc-uncorrected': define({
    id: 'ecc-uncorrected',
    name: 'ChipUncorrectedEcc',
    field: 'eccUncorrectedDelta',
    op: '>',
    threshold: 0,
    clear: { for: '1h' },
    severity: 'critical',
    summary: '{{chip}} on {{host}}: {{value}} new uncorrected ECC errors',
  }),
};

export type ResolvedRules = { ok: true; rules: AlertRule[] } | { ok: false; errors: string[] };

/**
 * A built-in rule with an override applied: each field the override names replaces the built-in's
 * whole (a `clear` given replaces the built-in's `clear`); the result is checked as one rule, and
 * its errors are named under `builtins.<id>`.
 */
export function applyOverride(id: BuiltinRuleId, override: BuiltinOverride | undefined): ResolvedRules {
  if (!override) return { ok: true, rules: [BUILTIN_RULES[id]] };
  const r = alertRuleSchema.safeParse({ ...BUILTIN_RULES[id], ...override, id });
  return r.success ? { ok: true, rules: [r.data] } : { ok: false, errors: formatIssues(r.error, ['builtins', id]) };
}

/** Every rule of a (parsed) rules file: the built-ins, adjusted, then the file's own; disabled ones included. */
export function resolveRules(file: RulesFile): ResolvedRules {
  const rules: AlertRule[] = [];
  const errors: string[] = [];
  for (const id of BUILTIN_RULE_IDS) {
    const r = applyOverride(id, file.builtins[id]);
    if (r.ok) rules.push(...r.rules);
    else errors.push(...r.errors);
  }
  return errors.length ? { ok: false, errors } : { ok: true, rules: [...rules, ...file.rules] };
}
