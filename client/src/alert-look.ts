/**
 * How alerts look across the dashboard: a colour per severity (badges, pills, chart bands), the
 * order of severities, and the shared CSS of a severity pill. Pure: no DOM beyond Lit's `css`.
 */
import { css } from 'lit';
import type { Severity } from '../../schema/alert-rules.ts';

export type { Severity };

/** Most severe first. */
export const SEVERITY_ORDER: readonly Severity[] = ['critical', 'warning', 'info'];

/** Higher is more severe; unknown severities rank lowest. */
export function severityRank(s: string): number {
  const i = SEVERITY_ORDER.indexOf(s as Severity);
  return i < 0 ? 0 : SEVERITY_ORDER.length - i;
}

/** The more severe of the two. */
export function worse(a: Severity, b: Severity): Severity {
  return severityRank(a) >= severityRank(b) ? a : b;
}

/** RGB of each severity (badges are solid, chart bands translucent; `severityPillStyles` repeats them). */
export const SEVERITY_RGB: Readonly<Record<Severity, string>> = {
  critical: '239, 83, 80',
  warning: '232, 170, 50',
  info: '95, 179, 255',
};

export function severityColor(s: string, alpha = 1): string {
  const rgb = SEVERITY_RGB[s as Severity] ?? SEVERITY_RGB.info;
  return alpha === 1 ? `rgb(${rgb})` : `rgba(${rgb}, ${alpha})`;
}

/**
 * `.sev` pills: `<span class="sev" data-severity="critical">critical</span>`; `.sev.soft` is the
 * translucent variant for tables.
 */
export const severityPillStyles = css`
  .sev {
    display: inline-block;
    flex-shrink: 0;
    font-size: 11px;
    line-height: 16px;
    padding: 0 7px;
    border-radius: 8px;
    font-weight: 700;
    letter-spacing: 0.4px;
    text-transform: uppercase;
    text-shadow: none;
    white-space: nowrap;
    background: var(--fs-raised, #3a4352);
    color: var(--fs-text, #e8edf3);
  }
  .sev[data-severity='critical'] {
    /* a little darker than the band colour, so white text keeps 4.5:1 */
    background: rgb(201, 48, 44);
    color: #fff;
  }
  .sev[data-severity='warning'] {
    background: rgb(232, 170, 50);
    color: #1a1a1a;
  }
  .sev[data-severity='info'] {
    background: rgb(95, 179, 255);
    color: #0b0e13;
  }
`;
