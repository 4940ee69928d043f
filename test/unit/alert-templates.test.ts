/**
 * server/alerts/templates.ts and alert-labels.ts: placeholders filled by name, values formatted,
 * unknown placeholders left visible, nothing evaluated or expanded twice; an alert's labels.
 */
import { describe, expect, it } from 'vitest';
import { alertRuleSchema } from '../../schema/alert-rules.ts';
import { alertLabels } from '../../server/alerts/alert-labels.ts';
import type { AlertChip } from '../../server/alerts/rule-eval.ts';
import { alertAnnotations, formatValue, renderTemplate, type TemplateContext } from '../../server/alerts/templates.ts';

const chip: AlertChip = { chipId: 'GPU-1', vendor: 'nvidia', model: 'H100', host: 'p5-a' };
const rule = alertRuleSchema.parse({ id: 'power', name: 'PowerHigh', field: 'powerW', op: '>', threshold: 650, severity: 'critical', labels: { team: 'ml-infra' } });
const ctx: TemplateContext = { rule, chip, value: 689.456, labels: { team: 'ml-infra', note: '{{chip}}' } };

describe('renderTemplate', () => {
  const cases: [string, string, string][] = [
    ['the issue example', '{{chip}} on {{host}} at {{value}} W', 'GPU-1 on p5-a at 689.46 W'],
    ['rule, model, vendor, threshold, severity, field, ruleId', '{{rule}} {{model}} {{vendor}} > {{threshold}} {{severity}} {{field}} {{ruleId}}', 'PowerHigh H100 nvidia > 650 critical powerW power'],
    ['a label', 'team {{labels.team}}', 'team ml-infra'],
    ['spaces inside the braces', '{{ chip }}', 'GPU-1'],
    ['an unknown placeholder stays visible', '{{chips}} {{labels.owner}} {{chip.id}}', '{{chips}} {{labels.owner}} {{chip.id}}'],
    ['object internals are not reachable', '{{constructor}} {{labels.constructor}} {{__proto__}} {{labels.__proto__}}', '{{constructor}} {{labels.constructor}} {{__proto__}} {{labels.__proto__}}'],
    ['no code is run', '{{chip + 1}} {{process.exit()}} ${chip}', '{{chip + 1}} {{process.exit()}} ${chip}'],
    ['a substituted text is not expanded again', '{{labels.note}}', '{{chip}}'],
    ['single braces and unclosed ones are text', '{chip} {{chip', '{chip} {{chip'],
  ];
  it.each(cases)('%s', (_name, template, expected) => {
    expect(renderTemplate(template, ctx)).toBe(expected);
  });

  it('takes `$` sequences in values literally', () => {
    expect(renderTemplate('{{host}}', { ...ctx, chip: { ...chip, host: "$& $' $1" } })).toBe("$& $' $1");
  });
});

describe('formatValue', () => {
  it.each([
    [null, 'unknown'],
    [0, '0'],
    [85, '85'],
    [3.14159, '3.14'],
    [98.5, '98.5'],
    [-0.004, '0'],
    [85_899_345_920, '85899345920'],
  ])('%s -> %s', (v, expected) => {
    expect(formatValue(v)).toBe(expected);
  });
});

describe('alertAnnotations', () => {
  it('renders the summary (the default when the rule has none) and the description when there is one', () => {
    expect(alertAnnotations(ctx)).toEqual({ summary: 'PowerHigh: GPU-1 on p5-a at 689.46' });
    const described = { ...rule, summary: '{{chip}} hot', description: 'see {{labels.team}}' };
    expect(alertAnnotations({ ...ctx, rule: described })).toEqual({ summary: 'GPU-1 hot', description: 'see ml-infra' });
  });
});

describe('alertLabels', () => {
  it('names the rule and the chip, adds the rule labels, sorted', () => {
    const labels = alertLabels(rule, chip, { powerEstimated: false });
    expect(labels).toEqual({ alertname: 'PowerHigh', chip: 'GPU-1', host: 'p5-a', model: 'H100', rule: 'power', severity: 'critical', team: 'ml-infra', vendor: 'nvidia' });
    expect(Object.keys(labels)).toEqual(Object.keys(labels).sort());
  });

  it('says when the power is an estimate', () => {
    expect(alertLabels(rule, chip, { powerEstimated: true }).powerEstimated).toBe('true');
  });
});
