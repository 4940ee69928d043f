/**
 * What each dashboard view subscribes to on /ws/live, read from the subscribe and unsubscribe
 * frames the page sends (Playwright's WebSocket events, CDP underneath): the chip view does not
 * subscribe to the whole fleet, yet its header shows the fleet's counts (the `summary` topic).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { runAgent, type RunningAgent } from '../../agents/agent-runtime.ts';
import { createSource } from '../../agents/sources/source-registry.ts';
import { ensureClientBuilt } from '../../cli/client-build.ts';
import { silentLogger } from '../../common/logger.ts';
import { launchChromium, signIn } from '../helpers/browser.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';

let hub: TestHub;
let agents: RunningAgent[];
let browser: BrowserContext;
const base = () => hub.url.replace('localhost', '127.0.0.1');

beforeAll(async () => {
  await ensureClientBuilt(silentLogger);
  hub = await startTestHub();
  const hubs = [`ws://127.0.0.1:${hub.port}`];
  agents = [
    await runAgent({ hubs, token: hub.token.agent, sources: [createSource('sim-nvml', { seed: 1, intervalMs: 500, hostname: 'p5-sub-1', log: silentLogger })], intervalMs: 500, log: silentLogger }),
    await runAgent({ hubs, token: hub.token.agent, sources: [createSource('sim-neuron', { seed: 1, intervalMs: 500, hostname: 'trn2-sub-1', log: silentLogger })], intervalMs: 500, log: silentLogger }),
  ];
  browser = await launchChromium();
  await signIn(browser, base(), hub.token.viewer);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all((agents ?? []).map((a) => a.stop(500)));
  await hub?.stop();
});

interface Sub {
  topic: string;
  filter?: Record<string, unknown>;
  chipId?: string;
  compact?: boolean;
}

/** A page whose /ws/live frames are recorded: what it sent (parsed) and how many bytes and frames of each type it received. */
async function recordedPage(): Promise<{ page: Page; sent: { type: string; sub: Sub }[]; received: Map<string, { frames: number; bytes: number; last: any }>; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  const sent: { type: string; sub: Sub }[] = [];
  const received = new Map<string, { frames: number; bytes: number; last: any }>();
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('websocket', (ws) => {
    if (!ws.url().endsWith('/ws/live')) return;
    ws.on('framesent', (f) => sent.push(JSON.parse(String(f.payload))));
    ws.on('framereceived', (f) => {
      const text = String(f.payload);
      const msg = JSON.parse(text);
      const r = received.get(msg.type) ?? { frames: 0, bytes: 0, last: null };
      r.frames++;
      r.bytes += Buffer.byteLength(text);
      r.last = msg;
      received.set(msg.type, r);
    });
  });
  return { page, sent, received, errors };
}

/** The subscriptions in force after the frames sent so far (one socket: the page's). */
function active(sent: readonly { type: string; sub: Sub }[]): Map<string, Sub> {
  const subs = new Map<string, Sub>();
  for (const m of sent) {
    const key = m.sub.topic === 'chip' ? `chip:${m.sub.chipId}` : m.sub.topic;
    if (m.type === 'subscribe') subs.set(key, m.sub);
    else subs.delete(key);
  }
  return subs;
}

const count = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`).textContent();

describe('live subscriptions per view', () => {
  it('the chip view subscribes to its chip, the summary and its alerts, never to the whole fleet; the header still shows the fleet counts', async () => {
    const { page, sent, received, errors } = await recordedPage();
    const chips = (await hub.get('/api/v1/chips')).body.chips as { chipId: string; vendor: string; host: string }[];
    const gpu = chips.find((c) => c.vendor === 'nvidia')!;
    await page.goto(`${base()}/#/chip/${encodeURIComponent(gpu.chipId)}`);
    await page.locator('[data-testid="chip-detail"]').waitFor({ timeout: 15_000 });
    const power = page.locator('[data-testid="chart-power"]');
    await expect.poll(async () => Number((await power.getAttribute('data-points')) ?? 0), { timeout: 10_000 }).toBeGreaterThan(0);

    // The header: the whole fleet's counts and power, from the summary.
    await expect.poll(() => count(page, 'count-total'), { timeout: 10_000 }).toBe(String(chips.length));
    await expect.poll(() => count(page, 'count-live'), { timeout: 10_000 }).toBe(String(chips.length));
    expect(await count(page, 'count-offline')).toBe('0');
    expect(await count(page, 'total-power')).not.toMatch(/^0(\.0)? kW$/);

    // Every subscribe it sent: none to the fleet without a filter naming its chip.
    const subscribes = sent.filter((m) => m.type === 'subscribe').map((m) => m.sub);
    expect(subscribes.filter((s) => s.topic === 'fleet' && !(s.filter?.chipId as string[] | undefined)?.length)).toEqual([]);
    expect(subscribes.some((s) => s.topic === 'samples')).toBe(false);
    await expect.poll(() => [...active(sent).keys()].sort(), { timeout: 5_000 }).toEqual(['alerts', `chip:${gpu.chipId}`, 'fleet', 'summary']);
    const subs = active(sent);
    expect(subs.get('fleet')).toEqual({ topic: 'fleet', compact: true, filter: { chipId: [gpu.chipId] } });
    expect(subs.get('alerts')).toEqual({ topic: 'alerts', filter: { chipId: [gpu.chipId] } });
    // What came: one chip's snapshot, and summaries.
    expect(received.get('fleet-snapshot')?.last.chips.map((c: { chipId: string }) => c.chipId)).toEqual([gpu.chipId]);
    expect(received.get('summary')?.last.chips.total).toBe(chips.length);
    await page.waitForTimeout(1500);
    const cols = received.get('fleet-columns');
    expect(cols === undefined || cols.last.slot.length <= 1).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('the host view subscribes to its host’s chips; the alerts view to every alert and no chip; the fleet view to its filtered fleet and alerts', async () => {
    const { page, sent, errors } = await recordedPage();
    await page.goto(`${base()}/#/host/p5-sub-1`);
    await page.locator('host-view').waitFor({ timeout: 15_000 });
    await expect.poll(() => count(page, 'count-total'), { timeout: 10_000 }).toBe('24');
    // each view's subscriptions go out as its parts connect: wait for each, not only the first
    await expect.poll(() => active(sent).get('fleet'), { timeout: 5_000 }).toEqual({ topic: 'fleet', compact: true, filter: { hostExact: ['p5-sub-1'] } });
    await expect.poll(() => active(sent).get('alerts'), { timeout: 5_000 }).toEqual({ topic: 'alerts', filter: { hostExact: ['p5-sub-1'] } });
    expect(active(sent).has('summary')).toBe(true);
    // The host view's chips are that host's 8.
    await expect.poll(() => page.evaluate(() => (document.querySelector('fleet-app')?.shadowRoot?.querySelector('host-view') as any)?.chips?.length), { timeout: 10_000 }).toBe(8);

    await page.evaluate(() => (location.hash = '#/alerts'));
    await page.locator('[data-testid="alerts-view"]').waitFor({ timeout: 10_000 });
    await expect.poll(() => active(sent).has('fleet'), { timeout: 5_000 }).toBe(false);
    await expect.poll(() => active(sent).get('alerts'), { timeout: 5_000 }).toEqual({ topic: 'alerts' });
    expect(active(sent).has('summary')).toBe(true);
    expect(await count(page, 'count-total')).toBe('24');

    await page.evaluate(() => (location.hash = '#/?vendor=aws'));
    await expect.poll(() => active(sent).get('fleet')?.filter, { timeout: 5_000 }).toEqual({ vendor: ['aws'] });
    await expect.poll(() => active(sent).get('alerts'), { timeout: 5_000 }).toEqual({ topic: 'alerts', filter: { vendor: ['aws'] } });
    // The fleet view's header counts the chips it shows (its filter), as before.
    await expect.poll(() => count(page, 'count-total'), { timeout: 10_000 }).toBe('16');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
