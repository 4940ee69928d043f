/**
 * Light and dark themes, following the system (`prefers-color-scheme`). The colours shared by the
 * components are CSS custom properties (`--fs-*`), declared on `<fleet-app>` (they inherit into
 * every shadow root below it): a dark set, and a light one under `@media (prefers-color-scheme: light)`.
 * Canvas and uPlot colours cannot use `var()`: `cssColor` reads a property's computed value, and
 * `ThemeController` re-renders its host (and says which theme) when the system switches.
 */
import { css, type ReactiveController, type ReactiveControllerHost } from 'lit';

export type Theme = 'dark' | 'light';

const DARK = css`
  --fs-bg: #0b0e13;
  --fs-surface: #121720;
  --fs-panel: #141922;
  --fs-raised: #1a2130;
  --fs-selected: #1f2a3b;
  --fs-divider: #222a36;
  --fs-border: #2f3a4a;
  --fs-border-hover: #4a5a70;
  --fs-input-bg: #121720;
  --fs-text: #e8edf3;
  --fs-text-strong: #f2f5f9;
  --fs-text-soft: #cfd6df;
  --fs-muted: #aeb7c4;
  --fs-faint: #9aa4b2;
  --fs-dim: #7d8794;
  --fs-link: #8ab4ff;
  --fs-hairline: rgba(255, 255, 255, 0.08);
  --fs-axis: #9aa4b2;
  --fs-grid: rgba(255, 255, 255, 0.07);
  --fs-tick: rgba(255, 255, 255, 0.15);
  --fs-warn-text: #e8b949;
  --fs-bad-text: #ff8a8f;
  --fs-hover-bg: #222b3c;
  --fs-code-bg: #1f2633;
  --fs-code-text: #cfe0ff;
  --fs-error-bg: #3a1a1f;
  --fs-error-border: #7a2a33;
  --fs-error-text: #ffd2d5;
  --fs-ok-bg: #15301f;
  --fs-ok-border: #2c6b41;
  --fs-ok-text: #c9f7d8;
  color-scheme: dark;
`;

const LIGHT = css`
  --fs-bg: #f4f6f9;
  --fs-surface: #ffffff;
  --fs-panel: #ffffff;
  --fs-raised: #e9edf3;
  --fs-selected: #dde6f3;
  --fs-divider: #dde2e9;
  --fs-border: #c3cbd6;
  --fs-border-hover: #8e9aab;
  --fs-input-bg: #ffffff;
  --fs-text: #1b222c;
  --fs-text-strong: #0d1218;
  --fs-text-soft: #2c3440;
  --fs-muted: #4d5766;
  --fs-faint: #5d6673;
  --fs-dim: #6b7380;
  --fs-link: #1f5fc4;
  --fs-hairline: rgba(0, 0, 0, 0.12);
  --fs-axis: #4d5766;
  --fs-grid: rgba(0, 0, 0, 0.08);
  --fs-tick: rgba(0, 0, 0, 0.2);
  --fs-warn-text: #9a6a00;
  --fs-bad-text: #c62f36;
  --fs-hover-bg: #e1e8f2;
  --fs-code-bg: #e9edf3;
  --fs-code-text: #1f4f9c;
  --fs-error-bg: #fde8ea;
  --fs-error-border: #e3a4aa;
  --fs-error-text: #7a1c24;
  --fs-ok-bg: #e3f5e9;
  --fs-ok-border: #9fd3b0;
  --fs-ok-text: #1d5a33;
  color-scheme: light;
`;

/** The `--fs-*` properties on `:host`: dark, light when the system prefers it. */
export const themeVars = css`
  :host {
    ${DARK}
  }
  @media (prefers-color-scheme: light) {
    :host {
      ${LIGHT}
    }
  }
`;

const QUERY = '(prefers-color-scheme: light)';

/** The system's theme now. */
export function systemTheme(): Theme {
  return typeof matchMedia === 'function' && matchMedia(QUERY).matches ? 'light' : 'dark';
}

/** A colour property's computed value on `el` (e.g. `--fs-axis`), or `fallback` when unset. */
export function cssColor(el: Element | null | undefined, name: string, fallback: string): string {
  if (!el) return fallback;
  const v = getComputedStyle(el).getPropertyValue(name).trim();
  return v || fallback;
}

/** Follows the system's theme (`matchMedia` `change`), re-rendering its host on a switch. */
export class ThemeController implements ReactiveController {
  theme: Theme = systemTheme();
  private mq: MediaQueryList | null = null;
  private readonly onChange = () => {
    this.theme = systemTheme();
    this.host.requestUpdate();
  };

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  hostConnected(): void {
    if (typeof matchMedia !== 'function') return;
    this.mq = matchMedia(QUERY);
    this.mq.addEventListener('change', this.onChange);
    this.onChange();
  }

  hostDisconnected(): void {
    this.mq?.removeEventListener('change', this.onChange);
    this.mq = null;
  }
}
