/**
 * Component tests, the rest: `<sign-in-form>`, `<efficiency-scatter>`, `<efficiency-view>` and the
 * shell `<fleet-app>` (its sign-in flow and routing against the page's fake hub API; the live
 * socket is not served, so it stays "connecting"), each mounted on its own in Chromium
 * (test/helpers/component-page.ts). Also checks that the fixtures of test/fixtures/components/
 * are answers the hub could send (its zod schemas). One screenshot:
 * test-artifacts/components-misc.png (the efficiency view).
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEFAULT_EFFICIENCY, efficiencyHash } from '../../client/src/efficiency-state.ts';
import {
  agentsAnswerSchema,
  alertHistoryAnswerSchema,
  alertRulesAnswerSchema,
  alertsAnswerSchema,
  chipSamplesAnswerSchema,
  chipViewSchema,
  deadLettersAnswerSchema,
  efficiencyAnswerSchema,
  energyAnswerSchema,
  receiversAnswerSchema,
  seriesAnswerSchema,
  silencesAnswerSchema,
} from '../../schema/api-answers.ts';
import { activeAlerts, alertHistory, alertRules, deadLetters, receivers, silences } from '../fixtures/components/alerts.ts';
import { smallFleet } from '../fixtures/components/fleet.ts';
import { agents, chipSamples, efficiencyByChip, efficiencyByModel, energyByVendor, seriesAnswer } from '../fixtures/components/hub.ts';
import { asFn, openComponentPage, type ComponentPage } from '../helpers/component-page.ts';

const ARTIFACTS = 'test-artifacts';
let cp: ComponentPage;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  cp = await openComponentPage(['sign-in-form.ts', 'efficiency-scatter.ts', 'efficiency-view.ts', 'fleet-app.ts']);
}, 60_000);

afterAll(async () => {
  await cp?.close();
});

describe('component fixtures', () => {
  it('are answers the hub could send', () => {
    const checks: [z.ZodType, unknown][] = [
      [z.array(chipViewSchema), smallFleet()],
      [alertsAnswerSchema, { alerts: activeAlerts() }],
      [alertHistoryAnswerSchema, alertHistory()],
      [alertRulesAnswerSchema, alertRules()],
      [silencesAnswerSchema, silences()],
      [deadLettersAnswerSchema, deadLetters()],
      [receiversAnswerSchema, receivers()],
      [energyAnswerSchema, energyByVendor()],
      [efficiencyAnswerSchema, efficiencyByModel()],
      [efficiencyAnswerSchema, efficiencyByChip()],
      [agentsAnswerSchema, agents()],
      [seriesAnswerSchema, seriesAnswer({ chipIds: ['GPU-p5-ui-2-0'], host: 'p5-ui-2', gap: [3, 5] })],
      [chipSamplesAnswerSchema, chipSamples('GPU-p5-ui-2-0')],
    ];
    for (const [schema, value] of checks) expect(schema.safeParse(value).error?.issues ?? []).toEqual([]);
  });
});

describe('the component page', () => {
  it('declares the theme’s custom properties as <fleet-app> does, so an element alone looks as in the app', async () => {
    await cp.reset();
    await cp.mount('sign-in-form');
    const vars = await cp.page.locator('sign-in-form').evaluate((el) => ['--fs-text', '--fs-border', '--fs-link'].map((v) => getComputedStyle(el).getPropertyValue(v).trim()));
    expect(vars).toEqual(['#e8edf3', '#2f3a4a', '#8ab4ff']);
  });
});

describe('<sign-in-form>', () => {
  it('emits sign-in with the trimmed token (none while empty), shows the hub’s refusal and disables while busy', async () => {
    await cp.reset();
    await cp.capture('sign-in');
    await cp.mount('sign-in-form');
    const input = cp.page.locator('sign-in-form [data-testid="token-input"]');
    expect(await input.getAttribute('type')).toBe('password');
    await cp.page.locator('sign-in-form [data-testid="sign-in-button"]').click();
    expect(await cp.events('sign-in')).toEqual([]);
    expect(await input.evaluate((el) => (el.getRootNode() as ShadowRoot).activeElement === el)).toBe(true);

    await input.fill('  fst_viewer_7f3a  ');
    await input.press('Enter');
    expect(await cp.events('sign-in')).toEqual([{ type: 'sign-in', target: 'sign-in-form', detail: { token: 'fst_viewer_7f3a' } }]);

    await cp.set('sign-in-form', { error: 'unknown or revoked token', busy: true });
    expect(await cp.text('sign-in-form [data-testid="sign-in-error"]')).toBe('unknown or revoked token');
    expect(await cp.attr('sign-in-form [data-testid="sign-in-error"]', 'role')).toBe('alert');
    expect(await input.getAttribute('aria-describedby')).toBe('error');
    expect(await cp.page.locator('sign-in-form [data-testid="sign-in-button"]').isDisabled()).toBe(true);
    expect(cp.errors).toEqual([]);
  });
});

describe('<efficiency-scatter>', () => {
  it('draws a dot per chip coloured by model, rings for estimated power, a hover card and a click to the chip', async () => {
    await cp.reset();
    await cp.page.evaluate(() => history.replaceState(null, '', '#/efficiency'));
    // the trn2 chip's row names no job: the card asks jobOf (the live fleet's)
    const rows = efficiencyByChip().rows.map((r) => (r.chipId === 'trn2-ui-1-neuron0' ? { ...r, job: undefined } : r));
    await cp.mount('efficiency-scatter', { rows, unit: 'tokens', jobOf: asFn(`(id) => id === 'trn2-ui-1-neuron0' ? 'llama-ft-7' : undefined`) }, { style: 'display:block;width:900px' });
    const sc = cp.page.locator('efficiency-scatter');
    expect(await sc.getAttribute('data-testid')).toBe('efficiency-scatter');
    expect(await sc.getAttribute('data-points')).toBe('4');
    expect(await cp.page.locator('efficiency-scatter [data-testid="scatter-legend"] [data-model]').evaluateAll((els) => els.map((e) => e.getAttribute('data-model')))).toEqual(['H100', 'Trainium2']);
    expect(await cp.text('efficiency-scatter [data-testid="scatter-legend"]')).toContain('power estimated');
    expect(await cp.attr('efficiency-scatter canvas', 'aria-label')).toBe('Average power against tokens per second per chip, 4 chips');

    const at = (await sc.evaluate((el: any) => el.pointAt('trn2-ui-1-neuron0'))) as { x: number; y: number };
    await cp.page.mouse.move(at.x, at.y);
    const tip = cp.page.locator('efficiency-scatter [data-testid="scatter-tooltip"]');
    await expect.poll(() => tip.getAttribute('data-chip-id')).toBe('trn2-ui-1-neuron0');
    const card = await cp.texts('efficiency-scatter [data-testid="scatter-tooltip"] dd');
    expect(card.slice(0, 4)).toEqual(['trn2-ui-1', 'Trainium2', 'llama-ft-7', '~338 W (estimated)']);
    await cp.page.mouse.click(at.x, at.y);
    expect(await cp.page.evaluate(() => location.hash)).toBe('#/chip/trn2-ui-1-neuron0');

    await cp.set('efficiency-scatter', { rows: [] });
    expect(await cp.text('efficiency-scatter .empty')).toBe('No chip has both power and tokens counters in this range.');
    expect(cp.errors).toEqual([]);
    await cp.page.evaluate(() => history.replaceState(null, '', '#/'));
  });
});

describe('<efficiency-view>', () => {
  it('tables, bars and the scatter of the unit most chips report, sorted as the state says; unit and sort changes are events', async () => {
    await cp.reset();
    await cp.capture('efficiency-change');
    cp.api.on('GET /api/v1/efficiency', (req) => ({ body: req.query.groupBy === 'chip' ? efficiencyByChip() : efficiencyByModel() }));
    await cp.mount('efficiency-view', { state: { ...DEFAULT_EFFICIENCY } }, { style: 'display:block;width:1300px' });
    const view = cp.page.locator('efficiency-view');
    await expect.poll(() => view.getAttribute('data-state')).toBe('ok');
    expect(await view.getAttribute('data-group-by')).toBe('model');
    expect(await view.getAttribute('data-unit')).toBe('tokens');
    expect(cp.api.requests('GET /api/v1/efficiency').map((r) => r.query).sort((a, b) => a.groupBy!.localeCompare(b.groupBy!))).toEqual([
      { groupBy: 'chip', from: 'now-24h' },
      { groupBy: 'model', from: 'now-24h' },
    ]);
    // J per token, lowest first; the Trainium2 row's power is estimated
    const rows = cp.page.locator('efficiency-view [data-testid="efficiency-row"]');
    expect(await rows.evaluateAll((els) => els.map((e) => [e.getAttribute('data-label'), e.getAttribute('data-estimated')]))).toEqual([
      ['Trainium2', 'true'],
      ['H100', 'false'],
    ]);
    expect(await cp.texts('efficiency-view [data-testid="efficiency-row"][data-label="H100"] td')).toEqual(['H100nvidia · 2 jobs', '4', '9.10G', '0.0242 J/token', '0.0341', '94.8M', '636 W', '88%']);
    expect(await cp.text('efficiency-view [data-testid="efficiency-row"][data-label="Trainium2"] [data-testid="estimated"]')).toBe('estimated');
    expect(await cp.attr('efficiency-view th:has([data-testid="sort-jPerUnit"])', 'aria-sort')).toBe('ascending');
    expect(await cp.page.locator('efficiency-view [data-testid="bar-jPerUnit"]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-label'), e.getAttribute('data-fraction')]))).toEqual([
      ['Trainium2', (0.0174 / 0.0242).toFixed(4)],
      ['H100', '1.0000'],
    ]);
    expect(await cp.page.locator('efficiency-view [data-testid="unit-select"] option').allTextContents()).toEqual(['tokens', 'steps']);
    expect(await cp.attr('efficiency-view [data-testid="group-job"]', 'href')).toBe(efficiencyHash({ ...DEFAULT_EFFICIENCY, groupBy: 'job' }));
    expect(await cp.attr('efficiency-view [data-testid="eff-range-24h"]', 'aria-current')).toBe('true');
    await expect.poll(() => cp.attr('efficiency-view efficiency-scatter', 'data-points')).toBe('4');
    expect(await cp.text('efficiency-view .meta')).toBe('1m tier · prices: 0.12/kWh, chip-hours of 2 models · re-read every 15 s');
    await cp.screenshot(`${ARTIFACTS}/components-misc.png`, 'efficiency-view');

    await cp.page.locator('efficiency-view [data-testid="sort-jPerUnit"]').click();
    await cp.page.locator('efficiency-view [data-testid="sort-units"]').click();
    await cp.page.locator('efficiency-view [data-testid="unit-select"]').selectOption('steps');
    expect((await cp.events('efficiency-change')).map((e) => e.detail)).toEqual([
      { ...DEFAULT_EFFICIENCY, sort: { key: 'jPerUnit', desc: true } },
      { ...DEFAULT_EFFICIENCY, sort: { key: 'units', desc: true } },
      { ...DEFAULT_EFFICIENCY, unit: 'steps' },
    ]);
    // the owner applies a state: the steps table
    await cp.set('efficiency-view', { state: { ...DEFAULT_EFFICIENCY, unit: 'steps' } });
    expect(await view.getAttribute('data-unit')).toBe('steps');
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-label')))).toEqual(['H100']);
    expect(cp.errors).toEqual([]);
  });

  it('explains how to send work counters when there are none, and shows the hub’s error', async () => {
    await cp.reset();
    cp.api.on('GET /api/v1/efficiency', (req) => ({ body: { ...efficiencyByModel(), groupBy: req.query.groupBy, rows: [] } }));
    await cp.mount('efficiency-view', { state: { ...DEFAULT_EFFICIENCY, range: '7d' } });
    await expect.poll(() => cp.attr('efficiency-view', 'data-state')).toBe('empty');
    expect(await cp.text('efficiency-view [data-testid="efficiency-empty"] h3')).toBe('No work counters in the last 7 d');
    await cp.reset();
    await cp.mount('efficiency-view', { state: { ...DEFAULT_EFFICIENCY } }); // no answer: the hub's 404
    await expect.poll(() => cp.attr('efficiency-view', 'data-state')).toBe('error');
    expect(await cp.attr('efficiency-view [data-testid="efficiency-error"]', 'data-code')).toBe('not_found');
    expect(await cp.text('efficiency-view [data-testid="efficiency-error"]')).toContain('(is this hub older than the efficiency API?)');
  });
});

describe('<fleet-app>', () => {
  it('asks for a token when the hub needs one, signs in through /api/v1/session, then shows the fleet page and routes', async () => {
    await cp.reset();
    await cp.page.evaluate(() => history.replaceState(null, '', '#/'));
    // the hub's session (its cookie): none until a sign-in with the right token
    const who = { open: false, name: 'wall-screen', role: 'viewer' };
    let signedIn = false;
    cp.api.on('GET /api/v1/session', () => (signedIn ? { body: who } : { status: 401, body: { code: 'unauthorized', message: 'Sign in first', requestId: null } }));
    cp.api.on('POST /api/v1/session', (req) => {
      signedIn = (req.body as { token: string }).token === 'fst_viewer_ok';
      return signedIn ? { body: who } : { status: 401, body: { code: 'unauthorized', message: 'unknown or revoked token', requestId: null } };
    });
    cp.api.on('GET /api/v1/energy', { body: energyByVendor() });
    const app = await cp.mount('fleet-app');
    await expect.poll(() => app.getAttribute('data-session')).toBe('signed-out');
    const input = cp.page.locator('fleet-app [data-testid="token-input"]');
    await input.fill('fst_wrong');
    await input.press('Enter');
    await expect.poll(() => cp.text('fleet-app [data-testid="sign-in-error"]')).toBe('unknown or revoked token');
    expect(await app.getAttribute('data-session')).toBe('signed-out');

    await input.fill('fst_viewer_ok');
    await input.press('Enter');
    await expect.poll(() => app.getAttribute('data-session')).toBe('signed-in');
    expect(cp.api.requests('POST /api/v1/session').map((r) => r.body)).toEqual([{ token: 'fst_wrong' }, { token: 'fst_viewer_ok' }]);
    expect(await cp.count('fleet-app sign-in-form')).toBe(0);
    // no live socket here: connecting, no chips yet; the energy line read over HTTP
    expect(await cp.attr('fleet-app [data-testid="connection"]', 'data-state')).not.toBe('open');
    expect(await cp.text('fleet-app [data-testid="count-total"]')).toBe('0');
    expect(await cp.count('fleet-app [data-testid="sign-out"]')).toBe(1);
    expect(await cp.attr('fleet-app [data-testid="nav-fleet"]', 'aria-current')).toBe('page');
    await expect.poll(() => cp.text('fleet-app fleet-energy [data-testid="energy-kwh"]')).toBe('83.3 kWh');
    expect(await cp.text('fleet-app fleet-grid [data-testid="fleet-empty"]')).toBe('Loading fleet…');

    // the hash picks the view
    await cp.page.evaluate(() => (location.hash = '#/efficiency'));
    await expect.poll(() => cp.count('fleet-app efficiency-view')).toBe(1);
    expect(await cp.attr('fleet-app [data-testid="nav-efficiency"]', 'aria-current')).toBe('page');
    await cp.page.evaluate(() => (location.hash = '#/alerts'));
    await expect.poll(() => cp.count('fleet-app alerts-view')).toBe(1);
    expect(await cp.attr('fleet-app [data-testid="nav-alerts"]', 'aria-current')).toBe('page');
    await cp.page.evaluate(() => history.replaceState(null, '', '#/'));
    await cp.reset(); // unmount: stops its polling and reconnects
  });
});
