/** Words and numbers of the alerts UI: a rule's value with its unit, its condition, spans of time. */
import type { AlertRule } from '../../schema/alert-rules.ts';
import { DASH } from './format.ts';

const GiB = 1024 ** 3;

/** The unit a rule field's values are in (as the dashboard shows them). */
export function fieldUnit(field: string | undefined): string {
  if (!field) return '';
  if (field === 'tempC') return ' °C';
  if (field === 'smClockMhz') return ' MHz';
  if (field === 'energyJ') return ' J';
  if (field.endsWith('Bytes')) return ' GiB';
  if (field.endsWith('Pct') || field.startsWith('powerPct')) return ' %';
  if (field.endsWith('W')) return ' W';
  if (field === 'missedIntervals') return ' intervals';
  return '';
}

/** `612 W`, `91 °C`, `71.2 GiB`, `3`; a missing value is "—". */
export function fmtRuleValue(field: string | undefined, value: number | null | undefined): string {
  if (value == null || !Number.isFinite(value)) return DASH;
  const unit = fieldUnit(field);
  if (unit === ' GiB') return `${(value / GiB).toFixed(1)} GiB`;
  if (field === 'agentDisconnected') return value ? 'disconnected' : 'connected';
  const digits = Math.abs(value) >= 100 || Number.isInteger(value) ? 0 : 1;
  return `${value.toFixed(digits)}${unit}`;
}

/** `powerW > 100 W for 0s`. */
export function fmtCondition(rule: Pick<AlertRule, 'field' | 'op' | 'threshold' | 'for'> | undefined): string {
  if (!rule) return '';
  return `${rule.field} ${rule.op} ${fmtRuleValue(rule.field, rule.threshold)}${rule.for && rule.for !== '0s' ? ` for ${rule.for}` : ''}`;
}

/** A span in words: `45s`, `12m`, `3h 05m`, `2d 4h`. */
export function fmtSpan(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Local date and time, short: `Jun 3, 14:05:09`. */
export function fmtWhen(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}
