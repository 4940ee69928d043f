/**
 * What the chip view's browser tests start from: a real hub (built dashboard), one chip fed by hand
 * over /ws/agent by a test client playing its agent (history first, then a live sample every
 * interval), and a Chromium signed in with a viewer token.
 */
import { mkdirSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { ensureClientBuilt } from '../../cli/client-build.ts';
import { silentLogger } from '../../common/logger.ts';
import type { Sample } from '../../schema/sample.ts';
import { launchChromium, signIn } from './browser.ts';
import { batch, chipInfo, hello, sample } from './frames.ts';
import { startTestHub, type TestHub } from './test-hub.ts';
import type { TestSocket } from './ws-client.ts';

export const ARTIFACTS = 'test-artifacts';

export interface ChipPageOptions {
  agentId: string;
  chipId: string;
  hostname: string;
  intervalMs: number;
  /** Samples sent before the live ones (in batches of 500, each acknowledged). */
  history?: Sample[];
  /** The live sample's values, by its number (default utilization 40 %). */
  live?: (n: number) => Partial<Sample>;
}

export interface ChipPage {
  hub: TestHub;
  browser: BrowserContext;
  /** The hub's URL as the browser opens it. */
  base: string;
  /** The hand-fed agent's socket (null while it is away: see `disconnect`). */
  hand: TestSocket | null;
  /** Close the agent's socket (the live samples pause) and wait until it is closed. */
  disconnect(): Promise<void>;
  /** Connect the agent again (hello, welcome); the live samples go on. */
  connect(): Promise<void>;
  stop(): Promise<void>;
}

export async function openChipPage(o: ChipPageOptions): Promise<ChipPage> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await ensureClientBuilt(silentLogger);
  const hub = await startTestHub();
  let seq = 0;
  let n = 0;
  const page: ChipPage = {
    hub,
    browser: undefined as unknown as BrowserContext,
    base: hub.url.replace('localhost', '127.0.0.1'),
    hand: null,
    async disconnect() {
      const old = page.hand;
      page.hand = null;
      if (!old) return;
      old.close();
      await old.waitClosed();
    },
    async connect() {
      const ws = await hub.ws('/ws/agent');
      ws.send(hello(o.agentId, [chipInfo(0, { chipId: o.chipId })], { intervalMs: o.intervalMs, host: { hostname: o.hostname, instanceId: null, instanceType: 'p5.48xlarge' } }));
      await ws.waitFor((f) => f.type === 'welcome');
      page.hand = ws;
    },
    async stop() {
      clearInterval(timer);
      page.hand?.close();
      await page.browser?.close();
      await hub.stop();
    },
  };
  await page.connect();
  const history = o.history ?? [];
  for (let i = 0; i < history.length; i += 500) {
    const s = seq++;
    page.hand!.send(batch(s, history.slice(i, i + 500)));
    await page.hand!.waitFor((f) => (f.type === 'ack' || f.type === 'error') && f.seq === s);
  }
  const live = o.live ?? (() => ({ utilPct: 40 }));
  const send = () => page.hand?.send(batch(seq++, [sample(o.chipId, Date.now(), live(n++))]));
  send();
  const timer = setInterval(send, o.intervalMs);
  page.browser = await launchChromium();
  await signIn(page.browser, page.base, hub.token.viewer);
  return page;
}

/** The /api/v1/series requests (decoded) the page makes for averages. */
export function watchSeries(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (r) => {
    const u = decodeURIComponent(r.url());
    if (u.includes('/api/v1/series') && u.includes('agg=avg')) seen.push(u);
  });
  return seen;
}
