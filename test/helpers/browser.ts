/** Headless Debian Chromium through playwright-core, launched as this machine needs it. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export async function launchChromium(): Promise<BrowserContext> {
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'fleetscope-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    // the dashboard follows the system's theme; these pages are dark (Playwright's default is light)
    colorScheme: 'dark',
    args: ARGS,
  });
}

/** The same Chromium as a browser, for contexts of their own (`browser.newContext({ colorScheme })`). */
export async function launchChromiumBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}

/**
 * Signs the browser context in to a hub as the dashboard does: POST /api/v1/session with `token`
 * (the context's request API shares its cookie jar), so pages get the HttpOnly session cookie.
 */
export async function signIn(context: BrowserContext, hubUrl: string, token: string): Promise<void> {
  const res = await context.request.post(`${hubUrl}/api/v1/session`, { data: { token } });
  if (!res.ok()) throw new Error(`sign-in failed: ${res.status()} ${await res.text()}`);
}

/**
 * Runs `fn` in the page on the first element matching `selector` anywhere in it, shadow roots
 * included (Playwright's CSS selectors pierce open shadow roots); null when there is none.
 */
export async function evalDeep<A, R>(page: Page, selector: string, fn: (el: any, arg: A) => R, arg: A): Promise<R | null> {
  const el = await page.$(selector);
  if (!el) return null;
  try {
    return (await el.evaluate(fn as any, arg)) as R;
  } finally {
    await el.dispose();
  }
}
