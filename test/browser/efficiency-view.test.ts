/**
 * The efficiency view in headless Chromium against a real hub (auth on, with prices): 30 minutes of
 * samples of four H100s (two of them power-capped at 500 W) and two Trainium2s, written over the
 * line protocol, then work counters (`work,job=…,host=…,chip=… tokens=…i`) of two jobs. Before the
 * work arrives the view explains how to send it; then `#/efficiency` shows a row per model (the
 * Neuron one marked estimated, "—" for its cost: no chip-hour price), the side-by-side bars, and
 * a dot per chip in the power/throughput scatter (capped chips left, a little lower); grouping by
 * job, sorting and picking a unit change the URL and the rows; a hovered dot names its chip; the
 * hub's error answer is shown; chip tiles and the chip view name the job.
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { ensureClientBuilt } from '../../cli/client-build.ts';
import { silentLogger } from '../../common/logger.ts';
import { launchChromium, signIn } from '../helpers/browser.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';

const ARTIFACTS = 'test-artifacts';
const STEP_MS = 10_000;
const SPAN_MS = 30 * 60_000;
const WORK_STEP_MS = 60_000;

interface Chip {
  id: string;
  host: string;
  vendor: 'nvidia' | 'aws';
  model: string;
  powerW: number;
  /** tokens per second */
  rate: number;
  job: string;
}

const H100_HOST = 'h100-eff-1';
const TRN_HOST = 'trn2-eff-1';
const CHIPS: Chip[] = [
  { id: 'GPU-eff-0', host: H100_HOST, vendor: 'nvidia', model: 'H100', powerW: 650, rate: 2500, job: 'llama-pretrain' },
  { id: 'GPU-eff-1', host: H100_HOST, vendor: 'nvidia', model: 'H100', powerW: 660, rate: 2520, job: 'llama-pretrain' },
  // power-capped: much less power, a little less throughput
  { id: 'GPU-eff-2', host: H100_HOST, vendor: 'nvidia', model: 'H100', powerW: 500, rate: 2350, job: 'llama-pretrain' },
  { id: 'GPU-eff-3', host: H100_HOST, vendor: 'nvidia', model: 'H100', powerW: 505, rate: 2340, job: 'llama-pretrain' },
  { id: 'i-0eff-neuron0', host: TRN_HOST, vendor: 'aws', model: 'Trainium2', powerW: 420, rate: 1800, job: 'trn-serve' },
  { id: 'i-0eff-neuron1', host: TRN_HOST, vendor: 'aws', model: 'Trainium2', powerW: 410, rate: 1750, job: 'trn-serve' },
];

let hub: TestHub;
let browser: BrowserContext;
let page: Page;
const errors: string[] = [];
const now = Date.now();
const start = Math.floor((now - SPAN_MS) / STEP_MS) * STEP_MS;

const base = () => hub.url.replace('localhost', '127.0.0.1');
const view = (): Locator => page.locator('[data-testid="efficiency-view"]');
const rows = (): Locator => page.locator('[data-testid="efficiency-row"]');
const rowLabels = () => rows().evaluateAll((els) => els.map((e) => e.getAttribute('data-label')));
const hash = () => page.evaluate(() => location.hash);

function samples(): string[] {
  const lines: string[] = [];
  for (const c of CHIPS) {
    let energy = 5_000_000;
    for (let ts = start; ts <= now - 1000; ts += STEP_MS) {
      energy += c.powerW * (STEP_MS / 1000);
      const util = c.powerW > 600 ? 97 : 88;
      lines.push(
        `chip,host=${c.host},chip=${c.id},vendor=${c.vendor},model=${c.model} util_pct=${util},power_w=${c.powerW},temp_c=55,energy_j=${Math.round(energy)}i ${ts}`,
      );
    }
  }
  return lines;
}

/** Each chip's job's counters every minute: tokens at its rate, and (llama only) steps at 1/s. */
function work(): string[] {
  const lines: string[] = [];
  for (const c of CHIPS) {
    for (let ts = start; ts <= now - 1000; ts += WORK_STEP_MS) {
      const s = (ts - start) / 1000;
      const fields = [`tokens=${Math.round(1_000_000 + c.rate * s)}i`];
      if (c.job === 'llama-pretrain') fields.push(`steps=${Math.round(100 + s)}i`);
      lines.push(`work,job=${c.job},host=${c.host},chip=${c.id} ${fields.join(',')} ${ts}`);
    }
  }
  return lines;
}

async function write(lines: string[]): Promise<void> {
  const res = await fetch(`${base()}/api/v1/write?precision=ms`, { method: 'POST', body: lines.join('\n'), headers: hub.auth('agent') });
  expect(res.status, await res.text()).toBe(204);
  await hub.store.flush();
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await ensureClientBuilt(silentLogger);
  hub = await startTestHub({ prices: { kwh: 0.15, chipHour: { H100: 2.5 } } });
  await write(samples());
  browser = await launchChromium();
  await signIn(browser, base(), hub.token.viewer);
  page = await browser.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await hub?.stop();
});

describe('the efficiency view', () => {
  it('explains how to send work counters while there are none', async () => {
    await page.goto(`${base()}/#/efficiency`);
    await expect.poll(() => view().getAttribute('data-state'), { timeout: 10_000 }).toBe('empty');
    const empty = page.locator('[data-testid="efficiency-empty"]');
    await expect(empty.textContent()).resolves.toMatch(/--work-port[\s\S]*POST \/v1\/work[\s\S]*work,job=/);
    await page.screenshot({ path: `${ARTIFACTS}/efficiency-empty.png` });
    expect(await page.locator('[data-testid="nav-efficiency"]').getAttribute('aria-current')).toBe('page');
    expect(await page.locator('[data-testid="nav-fleet"]').getAttribute('aria-current')).toBe('false');
  }, 30_000);

  it('shows a row per model, the bars and a dot per chip once work arrives', async () => {
    await write(work());
    await page.reload();
    await expect.poll(() => view().getAttribute('data-state'), { timeout: 10_000 }).toBe('ok');
    expect(await view().getAttribute('data-group-by')).toBe('model');
    expect(await view().getAttribute('data-unit')).toBe('tokens'); // 6 chips report tokens, 4 steps
    // sorted by J per token, lowest first
    await expect.poll(rowLabels, { timeout: 10_000 }).toEqual(expect.arrayContaining(['H100', 'Trainium2']));
    expect(await rows().count()).toBe(2);

    const h100 = page.locator('[data-testid="efficiency-row"][data-label="H100"]');
    const trn = page.locator('[data-testid="efficiency-row"][data-label="Trainium2"]');
    expect(await h100.getAttribute('data-estimated')).toBe('false');
    expect(await trn.getAttribute('data-estimated')).toBe('true');
    expect(await trn.locator('[data-testid="estimated"]').getAttribute('title')).toMatch(/Neuron/);
    const cells = async (l: Locator) => (await l.locator('td').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
    const [, chipsH, , jH, costH, , powerH] = await cells(h100);
    expect(chipsH).toBe('4');
    expect(jH).toMatch(/^\d\.\d\d\d? J\/token$/); // about 0.24 J/token
    expect(Number.parseFloat(jH!)).toBeGreaterThan(0.15);
    expect(Number.parseFloat(jH!)).toBeLessThan(0.35);
    expect(costH).not.toBe('—');
    expect(powerH).toMatch(/^5\d\d W$/);
    const [, chipsT, , jT, costT, , powerT] = await cells(trn);
    expect(chipsT).toBe('2');
    expect(jT).toMatch(/^~0\.2\d+ J\/token$/); // about 0.23 J/token, estimated
    expect(costT).toBe('—'); // no chip-hour price for Trainium2
    expect(powerT).toMatch(/^~4\d\d W$/);

    // side by side: two bars per figure, the cost one empty for Trainium2
    expect(await page.locator('[data-testid="bar-jPerUnit"]').count()).toBe(2);
    expect(await page.locator('[data-testid="bar-costPerMillionUnits"][data-label="Trainium2"]').getAttribute('data-fraction')).toBe('');
    expect(await page.locator('[data-testid="bar-costPerMillionUnits"][data-label="H100"]').getAttribute('data-fraction')).toBe('1.0000');

    // the scatter: six chips, two models; the capped H100s sit left of the others, a little lower
    const scatter = page.locator('[data-testid="efficiency-scatter"]');
    await expect.poll(() => scatter.getAttribute('data-points')).toBe('6');
    expect(await page.locator('[data-testid="scatter-legend"] [data-model]').evaluateAll((els) => els.map((e) => e.getAttribute('data-model')))).toEqual(['H100', 'Trainium2']);
    const at = (id: string) => scatter.evaluate((el, chip) => (el as any).pointAt(chip) as { x: number; y: number } | null, id);
    const free = (await at('GPU-eff-0'))!;
    const capped = (await at('GPU-eff-2'))!;
    expect(capped.x).toBeLessThan(free.x - 50);
    expect(capped.y).toBeGreaterThan(free.y); // lower throughput: further down
    await page.waitForTimeout(300); // the canvas draws on the next frame
    await page.screenshot({ path: `${ARTIFACTS}/efficiency-view.png`, fullPage: true });
  }, 30_000);

  it('names a chip, its host, model and job when its dot is hovered', async () => {
    const scatter = page.locator('[data-testid="efficiency-scatter"]');
    const p = (await scatter.evaluate((el) => (el as any).pointAt('GPU-eff-2')))!;
    await page.mouse.move(p.x, p.y);
    const tip = page.locator('[data-testid="scatter-tooltip"]');
    await tip.waitFor({ timeout: 5000 });
    expect(await tip.getAttribute('data-chip-id')).toBe('GPU-eff-2');
    const text = (await tip.textContent())!.replace(/\s+/g, ' ');
    expect(text).toContain(H100_HOST);
    expect(text).toContain('llama-pretrain');
    expect(text).toMatch(/Power\s*5\d\d W/);
    expect(text).toMatch(/Throughput\s*2\.3\dk tokens\/s/);
    await page.screenshot({ path: `${ARTIFACTS}/efficiency-scatter-hover.png` });
    await page.mouse.move(5, 5);
  }, 30_000);

  it('groups by job, sorts and picks a unit through the URL', async () => {
    await page.locator('[data-testid="group-job"]').click();
    await expect.poll(hash).toBe('#/efficiency?groupBy=job');
    await expect.poll(() => view().getAttribute('data-group-by')).toBe('job');
    await expect.poll(async () => [...(await rowLabels())].sort(), { timeout: 10_000 }).toEqual(['llama-pretrain', 'trn-serve']);

    await page.locator('[data-testid="sort-label"]').click();
    await expect.poll(hash).toBe('#/efficiency?groupBy=job&sort=label');
    await expect.poll(rowLabels).toEqual(['llama-pretrain', 'trn-serve']);
    await page.locator('[data-testid="sort-label"]').click();
    await expect.poll(hash).toBe('#/efficiency?groupBy=job&sort=-label');
    await expect.poll(rowLabels).toEqual(['trn-serve', 'llama-pretrain']);

    await page.locator('[data-testid="unit-select"]').selectOption('steps');
    await expect.poll(hash).toBe('#/efficiency?groupBy=job&unit=steps&sort=-label');
    await expect.poll(rowLabels).toEqual(['llama-pretrain']);
    await expect.poll(() => page.locator('[data-testid="efficiency-scatter"]').getAttribute('data-points')).toBe('4');
    expect(await page.locator('[data-testid="sort-jPerUnit"]').textContent()).toMatch(/J \/ step/);

    // Back undoes each change; a link with the state shows the same view
    await page.goBack();
    await expect.poll(hash).toBe('#/efficiency?groupBy=job&sort=-label');
    await expect.poll(() => view().getAttribute('data-unit')).toBe('tokens');
    await page.goto(`${base()}/#/efficiency?groupBy=vendor&range=6h`);
    await expect.poll(async () => [...(await rowLabels())].sort(), { timeout: 10_000 }).toEqual(['aws', 'nvidia']);
    expect(await page.locator('[data-testid="eff-range-6h"]').getAttribute('aria-current')).toBe('true');
  }, 30_000);

  it("shows the hub's error answer", async () => {
    // the request reaches the real hub with a range it cannot read: 400 {code, message}
    await page.route('**/api/v1/efficiency?*', (route) => route.continue({ url: route.request().url().replace(/from=[^&]*/, 'from=not-a-time') }));
    await page.goto(`${base()}/#/efficiency?range=1h`);
    const error = page.locator('[data-testid="efficiency-error"]');
    await error.waitFor({ timeout: 10_000 });
    expect(await error.getAttribute('data-code')).toBe('bad_request');
    await expect(error.textContent()).resolves.toMatch(/Could not load the efficiency figures: .*from/);
    expect(await view().getAttribute('data-state')).toBe('error');
    await page.unroute('**/api/v1/efficiency?*');
  }, 30_000);

  it('names the job on the chip tiles and in the chip view', async () => {
    await page.goto(`${base()}/#/`);
    const tile = page.locator(`[data-testid="chip-tile"][data-chip-id="GPU-eff-0"]`);
    await tile.waitFor({ timeout: 10_000 });
    const job = tile.locator('[data-testid="tile-job"]');
    await expect.poll(() => job.count(), { timeout: 10_000 }).toBe(1);
    expect(await job.textContent()).toBe('llama-pretrain');
    expect(await job.getAttribute('title')).toBe('Job: llama-pretrain');
    await page.screenshot({ path: `${ARTIFACTS}/efficiency-tiles-job.png` });

    await tile.click();
    const detailJob = page.locator('[data-testid="detail-job"]');
    await detailJob.waitFor({ timeout: 10_000 });
    expect((await detailJob.textContent())!.replace(/\s+/g, ' ').trim()).toBe('job llama-pretrain');
    await page.screenshot({ path: `${ARTIFACTS}/efficiency-chip-job.png` });
    expect(errors).toEqual([]);
  }, 30_000);
});
