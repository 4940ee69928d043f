import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { runAgent, type RunningAgent } from '../../agents/agent-runtime.ts';
import { createSource } from '../../agents/sources/source-registry.ts';
import { ensureClientBuilt } from '../../cli/client-build.ts';
import { silentLogger } from '../../common/logger.ts';
import { launchChromium, signIn } from '../helpers/browser.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';

const ARTIFACTS = 'test-artifacts';
let hub: TestHub;
let agents: RunningAgent[];
let browser: BrowserContext;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await ensureClientBuilt(silentLogger);
  hub = await startTestHub();
  const hubs = [`ws://127.0.0.1:${hub.port}`];
  agents = [
    await runAgent({ hubs, token: hub.token.agent, sources: [createSource('sim-nvml', { seed: 1, intervalMs: 500, hostname: 'p5-ui-1', log: silentLogger })], intervalMs: 500, log: silentLogger }),
    await runAgent({ hubs, token: hub.token.agent, sources: [createSource('sim-neuron', { seed: 1, intervalMs: 500, hostname: 'trn2-ui-1', log: silentLogger })], intervalMs: 500, log: silentLogger }),
  ];
  browser = await launchChromium();
  await signIn(browser, hub.url.replace('localhost', '127.0.0.1'), hub.token.viewer);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all((agents ?? []).map((a) => a.stop(500)));
  await hub?.stop();
});

describe('dashboard in headless Chromium', () => {
  it('shows one tile per simulated chip, opens a chip and its chart updates, marks an offline host', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(hub.url.replace('localhost', '127.0.0.1'));

    const tiles = page.locator('[data-testid="chip-tile"]');
    await expect.poll(() => tiles.count(), { timeout: 15_000 }).toBe(8 + 16);
    await expect.poll(() => page.locator('[data-testid="chip-tile"][data-status="live"]').count(), { timeout: 10_000 }).toBe(24);
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-fleet.png` });

    const chips = (await hub.get('/api/v1/chips')).body.chips as { chipId: string; vendor: string }[];
    const gpu = chips.find((c) => c.vendor === 'nvidia')!;
    await page.locator(`[data-testid="chip-tile"][data-chip-id="${gpu.chipId}"]`).click();
    const detail = page.locator('[data-testid="chip-detail"]');
    await detail.waitFor({ timeout: 10_000 });
    const power = page.locator('[data-testid="chart-power"]');
    const points = async () => Number((await power.getAttribute('data-points')) ?? 0);
    await expect.poll(points, { timeout: 10_000 }).toBeGreaterThan(0);
    const before = await points();
    await expect.poll(points, { timeout: 10_000 }).toBeGreaterThan(before);
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-chip.png` });

    // Stop the Trainium host's agent: its 16 tiles turn offline (not zeros), the GPUs stay live.
    await page.goto(`${hub.url.replace('localhost', '127.0.0.1')}/#/`);
    await agents[1].stop(500);
    await expect.poll(() => page.locator('[data-testid="chip-tile"][data-status="offline"]').count(), { timeout: 10_000 }).toBe(16);
    expect(await page.locator('[data-testid="chip-tile"][data-status="live"]').count()).toBe(8);
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-offline.png` });
    expect(errors).toEqual([]);
  }, 60_000);
});
