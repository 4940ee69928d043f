/**
 * Alert rules as users write them (REST bodies and the rules file, YAML or JSON): a selector of
 * chips, a condition on one field of the canonical sample (or a derived or liveness one), how long
 * it must hold (`for`), when it clears (hysteresis), a severity, labels and message templates.
 * Durations stay the strings the user wrote (`"1m"`); the server turns them into ms. Every refusal
 * names the field: `formatIssues` writes zod's issues as `rules[2].for: invalid duration …`.
 */
import { z } from 'zod';
import { durationMs } from './duration.ts';
import { SAMPLE_FIELDS, vendorSchema } from './sample.ts';

/** Fields computed from a sample (and the chip): % of the power limit, % of memory used, new uncorrected ECC errors since the previous sample, power as % of the model's idle floor. */
export const DERIVED_FIELDS = ['powerPctOfLimit', 'memUsedPct', 'eccUncorrectedDelta', 'powerPctOfIdleFloor'] as const;
/**
 * Fields about the chip's link rather than its sample: `missedIntervals`, sampling intervals since
 * the chip's last sample (0 when one arrives); `agentDisconnected`, 1 while the chip's agent has no
 * connection, else 0. The hub's timers and connection events observe them, not samples alone.
 */
export const LIVENESS_FIELDS = ['missedIntervals', 'agentDisconnected'] as const;
/** Every field a rule may test. */
export const RULE_FIELDS = [...SAMPLE_FIELDS, ...DERIVED_FIELDS, ...LIVENESS_FIELDS] as const;
export type RuleField = (typeof RULE_FIELDS)[number];
export type LivenessField = (typeof LIVENESS_FIELDS)[number];

export const COMPARISON_OPS = ['>', '>=', '<', '<=', '==', '!='] as const;
export type ComparisonOp = (typeof COMPARISON_OPS)[number];

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** The rules fleetscope ships, on by default; each can be adjusted or turned off under `builtins`. */
export const BUILTIN_RULE_IDS = ['stale', 'agent-offline', 'idle-powered', 'thermal', 'power-at-limit', 'ecc-uncorrected'] as const;
export type BuiltinRuleId = (typeof BUILTIN_RULE_IDS)[number];

/** Labels every alert gets from its rule and chip; a rule's own labels may not use these names. */
export const RESERVED_ALERT_LABELS = ['alertname', 'rule', 'severity', 'chip', 'host', 'vendor', 'model', 'powerEstimated'] as const;

/** Bounds of one rule and of a rules file. */
export const MAX_RULES = 500;
export const MAX_SELECTOR_VALUES = 256;
export const MAX_LABELS = 32;
export const MAX_LABEL_VALUE_LENGTH = 256;
export const MAX_EXTRA_CONDITIONS = 4;
export const MAX_SUMMARY_LENGTH = 512;
export const MAX_DESCRIPTION_LENGTH = 4096;
/** Longest `for` / `clear.for`. */
export const MAX_RULE_DURATION_MS = 7 * 86_400_000;

const isLiveness = (f: RuleField): f is LivenessField => (LIVENESS_FIELDS as readonly string[]).includes(f);

/** A duration string (`30s`, `1m`, `15m`; a bare number is seconds) of at most 7 days. */
export const ruleDurationSchema = z
  .string()
  .max(32)
  .superRefine((text, ctx) => {
    const ms = durationMs(text);
    if (ms === null) ctx.addIssue({ code: 'custom', message: `invalid duration ${JSON.stringify(text)}: use e.g. 30s, 1m, 15m, 1h` });
    else if (ms > MAX_RULE_DURATION_MS) ctx.addIssue({ code: 'custom', message: `duration ${JSON.stringify(text)} is longer than 7d` });
  });

/** Rule id: lower-case letters, digits, `.`, `_`, `-`; used in URLs and as the `rule` label. */
export const ruleIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'rule id must be 1–64 characters: a-z, 0-9, . _ - (starting with a letter or digit)');

const selectorValues = z.array(z.string().min(1).max(253)).min(1, 'list at least one value, or leave the key out to match all').max(MAX_SELECTOR_VALUES);

/** Which chips a rule watches: each key present must match (any of its values); an absent key matches all. */
export const selectorSchema = z
  .object({ vendor: z.array(vendorSchema).min(1).max(8).optional(), model: selectorValues.optional(), host: selectorValues.optional(), chip: selectorValues.optional() })
  .strict();

/** One more condition that must hold together with the rule's own (`and`). */
export const ruleConditionSchema = z
  .object({ field: z.enum(RULE_FIELDS), op: z.enum(COMPARISON_OPS), threshold: z.number() })
  .strict();

const labelName = z
  .string()
  .max(64)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'label names are letters, digits and _ (not starting with a digit)')
  .superRefine((n, ctx) => {
    if (n.startsWith('__')) ctx.addIssue({ code: 'custom', message: 'label names starting with __ are reserved' });
    else if ((RESERVED_ALERT_LABELS as readonly string[]).includes(n)) ctx.addIssue({ code: 'custom', message: `label ${JSON.stringify(n)} is set by fleetscope itself` });
  });

export const ruleLabelsSchema = z
  .record(labelName, z.string().max(MAX_LABEL_VALUE_LENGTH))
  .refine((l) => Object.keys(l).length <= MAX_LABELS, `at most ${MAX_LABELS} labels`);

/** Hysteresis: the alert resolves once `field` is no longer `op threshold` (the clear threshold when given) for `for`. */
export const ruleClearSchema = z.object({ threshold: z.number().optional(), for: ruleDurationSchema.optional() }).strict();

/** The fields a rule has besides its id, none defaulted (the shape a built-in override takes). */
const ruleFields = {
  name: z.string().trim().min(1).max(128),
  enabled: z.boolean(),
  selector: selectorSchema,
  field: z.enum(RULE_FIELDS),
  op: z.enum(COMPARISON_OPS),
  threshold: z.number(),
  and: z.array(ruleConditionSchema).max(MAX_EXTRA_CONDITIONS),
  for: ruleDurationSchema,
  clear: ruleClearSchema,
  severity: z.enum(SEVERITIES),
  labels: ruleLabelsSchema,
  /** Templates: `{{chip}} on {{host}} at {{value}} W` (server/alerts/templates.ts). */
  summary: z.string().max(MAX_SUMMARY_LENGTH),
  description: z.string().max(MAX_DESCRIPTION_LENGTH),
};

/** Cross-field checks of a whole rule; issues carry the path of the field at fault. */
function checkRule(rule: z.infer<typeof ruleObjectSchema>, ctx: z.RefinementCtx): void {
  const t = rule.clear.threshold;
  if (t !== undefined) {
    const up = rule.op === '>' || rule.op === '>=';
    const down = rule.op === '<' || rule.op === '<=';
    if (!up && !down) ctx.addIssue({ code: 'custom', path: ['clear', 'threshold'], message: `a clear threshold needs op >, >=, < or <=, not ${rule.op}` });
    else if (up && t > rule.threshold) ctx.addIssue({ code: 'custom', path: ['clear', 'threshold'], message: `must be at most threshold (${rule.threshold}) for op ${rule.op}` });
    else if (down && t < rule.threshold) ctx.addIssue({ code: 'custom', path: ['clear', 'threshold'], message: `must be at least threshold (${rule.threshold}) for op ${rule.op}` });
  }
  if (rule.field === 'missedIntervals' && rule.op !== '>' && rule.op !== '>=') {
    ctx.addIssue({ code: 'custom', path: ['op'], message: 'missedIntervals can only be tested with > or >=' });
  }
  if (isLiveness(rule.field) && rule.and.length > 0) {
    ctx.addIssue({ code: 'custom', path: ['and'], message: `a rule on ${rule.field} cannot have extra conditions` });
  }
  rule.and.forEach((c, i) => {
    if (isLiveness(c.field)) ctx.addIssue({ code: 'custom', path: ['and', i, 'field'], message: `${c.field} can only be a rule's own field` });
  });
}

const ruleObjectSchema = z
  .object({
    id: ruleIdSchema,
    ...ruleFields,
    enabled: ruleFields.enabled.default(true),
    selector: ruleFields.selector.default({}),
    and: ruleFields.and.default([]),
    for: ruleFields.for.default('0s'),
    clear: ruleFields.clear.default({}),
    severity: ruleFields.severity.default('warning'),
    labels: ruleFields.labels.default({}),
    summary: ruleFields.summary.optional(),
    description: ruleFields.description.optional(),
  })
  .strict();

/** One alert rule. */
export const alertRuleSchema = ruleObjectSchema.superRefine(checkRule);
export type AlertRule = z.output<typeof alertRuleSchema>;
/** A rule as written (defaults not yet applied). */
export type AlertRuleInput = z.input<typeof alertRuleSchema>;
export type RuleSelector = z.output<typeof selectorSchema>;
export type RuleCondition = z.output<typeof ruleConditionSchema>;

/** Changes to a built-in rule: any of its fields but the id; the merged rule is checked again as a whole. */
export const builtinOverrideSchema = z.object(ruleFields).partial().strict();
export type BuiltinOverride = z.output<typeof builtinOverrideSchema>;

/** The rules file: adjustments of the built-ins, and the user's own rules. */
export const rulesFileSchema = z
  .object({
    builtins: z.partialRecord(z.enum(BUILTIN_RULE_IDS), builtinOverrideSchema).default({}),
    rules: z.array(alertRuleSchema).max(MAX_RULES).default([]),
  })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.rules.forEach((r, i) => {
      if ((BUILTIN_RULE_IDS as readonly string[]).includes(r.id)) {
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `"${r.id}" is a built-in rule: adjust it under builtins.${r.id}` });
      } else if (seen.has(r.id)) {
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `duplicate rule id "${r.id}"` });
      }
      seen.add(r.id);
    });
  });
export type RulesFile = z.output<typeof rulesFileSchema>;

/** A path as people read it: `rules[2].clear.for`, `labels["a-b"]`; `(root)` when empty. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out || '(root)';
}

/**
 * Each issue of a zod error as `path: message`, the path under `prefix` (e.g. `['rules', 2]` for
 * one rule of a file). An unknown key is named itself (`rules[0].thresold: unknown field`), and a
 * bad record key says why (`labels.chip: label "chip" is set by fleetscope itself`).
 */
export function formatIssues(error: z.ZodError, prefix: readonly PropertyKey[] = []): string[] {
  return error.issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => `${formatIssuePath([...path, k])}: unknown field`);
    const message = issue.code === 'invalid_key' && issue.issues.length > 0 ? issue.issues.map((i) => i.message).join('; ') : issue.message;
    return [`${formatIssuePath(path)}: ${message}`];
  });
}
