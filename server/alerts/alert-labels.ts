/**
 * The labels of an alert: who raised it (alertname, rule, severity), about which chip (chip, host,
 * vendor, model), the rule's own labels, and `powerEstimated: "true"` when the value rests on an
 * estimated power reading (Neuron). They are the alert's identity: its fingerprint is their hash.
 */
import type { AlertRule } from '../../schema/alert-rules.ts';
import type { AlertChip } from './rule-eval.ts';

/** The labels, sorted by name. */
export function alertLabels(rule: Pick<AlertRule, 'id' | 'name' | 'severity' | 'labels'>, chip: AlertChip, opts: { powerEstimated: boolean }): Record<string, string> {
  const labels: Record<string, string> = {
    ...rule.labels,
    alertname: rule.name,
    rule: rule.id,
    severity: rule.severity,
    chip: chip.chipId,
    host: chip.host,
    vendor: chip.vendor,
    model: chip.model,
  };
  if (opts.powerEstimated) labels.powerEstimated = 'true';
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
