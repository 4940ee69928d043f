/**
 * Alert message templates: `{{chip}} on {{host}} at {{value}} W`. Placeholders are looked up by
 * name, never evaluated: `chip`, `host`, `vendor`, `model`, `rule` (its name), `ruleId`, `field`,
 * `severity`, `value`, `threshold`, and `labels.<name>`. One pass: a substituted text is not read
 * again. An unknown placeholder stays as written, so a typo shows in the message.
 */
import type { AlertRule } from '../../schema/alert-rules.ts';
import type { AlertChip } from './rule-eval.ts';

/** What a template may refer to. */
export interface TemplateContext {
  rule: Pick<AlertRule, 'id' | 'name' | 'field' | 'severity' | 'threshold'>;
  chip: AlertChip;
  value: number | null;
  /** The alert's labels (alert-labels.ts). */
  labels: Readonly<Record<string, string>>;
}

/** Summary of a rule that has none. */
export const DEFAULT_SUMMARY = '{{rule}}: {{chip}} on {{host}} at {{value}}';

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?\s*\}\}/g;

/** A value as messages show it: integers as they are, others to 2 decimals; `unknown` for null. */
export function formatValue(v: number | null): string {
  if (v === null) return 'unknown';
  return Number.isInteger(v) ? String(v) : String(+v.toFixed(2));
}

function lookup(name: string, ctx: TemplateContext): string | undefined {
  switch (name) {
    case 'chip':
      return ctx.chip.chipId;
    case 'host':
      return ctx.chip.host;
    case 'vendor':
      return ctx.chip.vendor;
    case 'model':
      return ctx.chip.model;
    case 'rule':
      return ctx.rule.name;
    case 'ruleId':
      return ctx.rule.id;
    case 'field':
      return ctx.rule.field;
    case 'severity':
      return ctx.rule.severity;
    case 'value':
      return formatValue(ctx.value);
    case 'threshold':
      return formatValue(ctx.rule.threshold);
    default:
      return undefined;
  }
}

/** The template with its known placeholders filled in. */
export function renderTemplate(template: string, ctx: TemplateContext): string {
  return template.replace(PLACEHOLDER, (whole: string, name: string, sub: string | undefined) => {
    if (sub === undefined) return lookup(name, ctx) ?? whole;
    return name === 'labels' && Object.hasOwn(ctx.labels, sub) ? ctx.labels[sub]! : whole;
  });
}

/** An alert's annotations: its rule's summary (or the default one) and description, rendered. */
export function alertAnnotations(ctx: TemplateContext & { rule: Pick<AlertRule, 'summary' | 'description'> }): Record<string, string> {
  const out: Record<string, string> = { summary: renderTemplate(ctx.rule.summary ?? DEFAULT_SUMMARY, ctx) };
  if (ctx.rule.description) out.description = renderTemplate(ctx.rule.description, ctx);
  return out;
}
