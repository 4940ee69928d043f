/**
 * Component tests, alerting: `<alert-list>`, `<alert-history>`, `<silence-list>`, `<silence-form>`,
 * `<dead-letters>` and `<alerts-view>`, each mounted on its own in Chromium
 * (test/helpers/component-page.ts) with the answers of test/fixtures/components/alerts.ts from the
 * page's fake hub API. One screenshot: test-artifacts/components-alerts.png (the alerts view).
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SilenceAnswer } from '../../schema/api-answers.ts';
import { activeAlerts, alertHistory, alertRules, deadLetters, receivers, silences } from '../fixtures/components/alerts.ts';
import { asMap, openComponentPage, type ComponentPage } from '../helpers/component-page.ts';

const ARTIFACTS = 'test-artifacts';
let cp: ComponentPage;
const rulesMap = () => asMap(alertRules().rules.map((r) => [r.rule.id, r.rule] as const));
const forbidden = { status: 403, body: { code: 'forbidden', message: 'This needs an admin token', requestId: 'req-9' } };

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  cp = await openComponentPage(['alert-list.ts', 'alert-history.ts', 'silence-list.ts', 'silence-form.ts', 'dead-letters.ts', 'alerts-view.ts']);
}, 60_000);

afterAll(async () => {
  await cp?.close();
});

describe('<alert-list>', () => {
  it('groups the firing and pending alerts by rule, worst first, marks the silenced ones and leaves resolved ones out', async () => {
    await cp.reset();
    await cp.mount('alert-list', { alerts: activeAlerts(), rules: rulesMap(), silences: silences().silences, loaded: true }, { style: 'display:block;width:1300px' });
    expect(await cp.text('alert-list [data-testid="alerts-counts"]')).toBe('3 firing · 1 pending');
    const groups = cp.page.locator('alert-list [data-testid="alert-group"]');
    expect(await groups.evaluateAll((els) => els.map((e) => [e.getAttribute('data-rule'), e.getAttribute('data-count'), e.getAttribute('data-severity'), e.getAttribute('data-open')]))).toEqual([
      ['thermal', '1', 'critical', 'true'],
      ['power-at-limit', '2', 'info', 'true'],
      ['idle-powered', '1', 'info', 'true'],
    ]);
    const rows = cp.page.locator('alert-list [data-testid="active-alert"]');
    expect(await rows.evaluateAll((els) => els.map((e) => [e.getAttribute('data-chip'), e.getAttribute('data-phase'), e.getAttribute('data-silenced')]))).toEqual([
      ['GPU-p5-ui-10-0', 'firing', null],
      ['GPU-p5-ui-10-0', 'firing', 'true'],
      ['GPU-p5-ui-2-0', 'firing', 'true'],
      ['trn2-ui-1-neuron1', 'pending', null],
    ]);
    expect(await cp.count('alert-list [data-chip="GPU-p5-ui-2-3"]')).toBe(0); // resolved
    const hot = 'alert-list [data-testid="active-alert"][data-rule="thermal"]';
    expect(await cp.text(`${hot} .name`)).toBe('ChipHot');
    expect(await cp.text(`${hot} .summary`)).toBe('GPU-p5-ui-10-0 on p5-ui-10 at 84 °C');
    expect(await cp.text(`${hot} td.num`)).toBe('84 °C');
    expect(await cp.attr(`${hot} [data-testid="alert-chip-link"]`, 'href')).toBe('#/chip/GPU-p5-ui-10-0');
    expect(await cp.attr(`${hot} [data-testid="alert-host-link"]`, 'href')).toBe('#/host/p5-ui-10');
    expect(await cp.text(`${hot} td:nth-child(8)`)).toMatch(/^11m ago$/);
    expect(await cp.attr('alert-list [data-chip="GPU-p5-ui-2-0"] [data-testid="alert-silenced"]', 'title')).toContain('by admin-ops: Power-cap experiment on the p5 hosts');
    expect(await cp.text('alert-list [data-testid="alert-group"][data-rule="power-at-limit"] td:nth-child(3)')).toBe('2 firing 2 silenced');
    expect(cp.errors).toEqual([]);
  });

  it('emits silence-alert with an alert’s or a rule’s matchers, open-change on folding, and narrows to a search', async () => {
    await cp.reset();
    await cp.capture('silence-alert', 'open-change');
    await cp.mount('alert-list', { alerts: activeAlerts(), rules: rulesMap(), loaded: true });
    await cp.page.locator('alert-list [data-testid="active-alert"][data-rule="thermal"] [data-testid="silence-alert"]').click();
    await cp.page.locator('alert-list [data-testid="alert-group"][data-rule="power-at-limit"] [data-testid="silence-group"]').click();
    expect((await cp.events('silence-alert')).map((e) => e.detail.matchers)).toEqual([['alertname="ChipHot"', 'chip="GPU-p5-ui-10-0"'], ['alertname="ChipPowerAtLimit"']]);
    expect((await cp.events('silence-alert'))[0]!.detail.alert).toMatchObject({ ruleId: 'thermal', chipId: 'GPU-p5-ui-10-0' });

    await cp.page.locator('alert-list [data-rule="power-at-limit"] [data-testid="alert-group-toggle"]').click();
    expect((await cp.events('open-change')).map((e) => e.detail)).toEqual([{ open: [] }]);
    expect(await cp.attr('alert-list [data-testid="alert-group"][data-rule="power-at-limit"]', 'data-open')).toBe('false');
    expect(await cp.count('alert-list [data-testid="active-alert"][data-rule="power-at-limit"]')).toBe(0);

    await cp.set('alert-list', { query: 'p5-ui-2' });
    expect(await cp.attr('alert-list [data-testid="alerts-shown"]', 'data-count')).toBe('1');
    expect(await cp.text('alert-list [data-testid="alerts-counts"]')).toBe('3 firing · 1 pending');
    await cp.set('alert-list', { query: 'nope' });
    expect(await cp.text('alert-list [data-testid="alerts-no-match"]')).toBe('No alert’s chip, host or rule matches “nope”.');
  });

  it('says loading until the snapshot came, then that none fire', async () => {
    await cp.reset();
    await cp.mount('alert-list');
    expect(await cp.text('alert-list [data-testid="alerts-empty"]')).toBe('Loading alerts…');
    await cp.set('alert-list', { loaded: true, alerts: activeAlerts().filter((a) => a.phase === 'resolved') });
    expect(await cp.text('alert-list [data-testid="alerts-empty"]')).toBe('No alerts are firing or pending.');
  });
});

describe('<alert-history>', () => {
  it('renders the transitions newest first with their details, re-reads another range and narrows to a search', async () => {
    await cp.reset();
    cp.api.on('GET /api/v1/alerts/history', (req) => ({ body: alertHistory(Date.now(), { truncated: req.query.from === 'now-7d' }) }));
    await cp.mount('alert-history', { rules: rulesMap() }, { style: 'display:block;width:1300px' });
    const rows = cp.page.locator('alert-history [data-testid="history-event"]');
    await expect.poll(() => rows.count()).toBe(4);
    expect(await rows.evaluateAll((els) => els.map((e) => [e.getAttribute('data-rule'), e.getAttribute('data-chip'), e.getAttribute('data-from'), e.getAttribute('data-to')]))).toEqual([
      ['thermal', 'GPU-p5-ui-10-0', 'pending', 'firing'],
      ['thermal', 'GPU-p5-ui-10-0', 'inactive', 'pending'],
      ['power-at-limit', 'GPU-p5-ui-2-0', 'pending', 'firing'],
      ['thermal', 'GPU-p5-ui-2-1', 'firing', 'resolved'],
    ]);
    const first = await cp.texts('alert-history [data-testid="history-event"]:first-child td');
    expect(first.slice(1)).toEqual(['pending→firing', 'critical', 'ChipHot', 'GPU-p5-ui-10-0', 'p5-ui-10', '84 °C']);
    expect(await cp.texts('alert-history [data-testid="history-event"]:nth-child(2) td.num')).toEqual(['83.2 °C']);
    expect(await cp.attr('alert-history [data-testid="history-event"]:first-child a.mono', 'href')).toBe('#/chip/GPU-p5-ui-10-0');
    expect(await cp.text('alert-history h3 .count')).toBe('4 transitions');
    expect(cp.api.requests('GET /api/v1/alerts/history')[0]!.query).toEqual({ from: 'now-24h', limit: '200' });
    expect(await cp.attr('alert-history', 'range')).toBe('24h');

    // another range: read again, the host attribute follows; a truncated answer says so
    await cp.page.locator('alert-history [data-testid="range-7d"]').click();
    await expect.poll(() => cp.api.requests('GET /api/v1/alerts/history').map((r) => r.query.from)).toEqual(['now-24h', 'now-7d']);
    expect(await cp.attr('alert-history', 'range')).toBe('7d');
    await expect.poll(() => cp.text('alert-history [data-testid="alert-history-truncated"]')).toBe('The newest 200 are shown; more happened in the last 7 d.');

    await cp.set('alert-history', { query: 'p5-ui-2' });
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-chip')))).toEqual(['GPU-p5-ui-2-0', 'GPU-p5-ui-2-1']);
    expect(await cp.text('alert-history h3 .count')).toBe('4+ transitions · 2 match “p5-ui-2”');

    // live transitions seen: read again soon
    const n = cp.api.requests('GET /api/v1/alerts/history').length;
    await cp.set('alert-history', { trigger: 1 });
    await expect.poll(() => cp.api.requests('GET /api/v1/alerts/history').length).toBe(n + 1);
    expect(cp.errors).toEqual([]);
  });

  it('says when there were no transitions, and shows the hub’s error', async () => {
    await cp.reset();
    cp.api.on('GET /api/v1/alerts/history', { body: { ...alertHistory(), events: [] } });
    await cp.mount('alert-history');
    await expect.poll(() => cp.text('alert-history [data-testid="alert-history-empty"]')).toBe('No alert transitions in the last 24 h.');
    await cp.reset();
    cp.api.on('GET /api/v1/alerts/history', { status: 500, body: { code: 'internal', message: 'database is locked', requestId: null } });
    await cp.mount('alert-history');
    await expect.poll(() => cp.attr('alert-history [data-testid="alert-history-error"]', 'data-code')).toBe('internal');
    expect(await cp.text('alert-history [data-testid="alert-history-error"]')).toContain('database is locked');
  });
});

describe('<silence-list>', () => {
  it('lists the current silences newest first with matchers and expiry, folds the expired ones, and emits silences-change', async () => {
    await cp.reset();
    await cp.capture('silences-change');
    cp.api.on('GET /api/v1/alerts/silences', { body: silences() });
    await cp.mount('silence-list', {}, { style: 'display:block;width:1200px' });
    const rows = cp.page.locator('silence-list [data-testid="silence"]');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.evaluateAll((els) => els.map((e) => [e.getAttribute('data-id'), e.getAttribute('data-state')]))).toEqual([
      ['sil-pending-2', 'pending'],
      ['sil-active-1', 'active'],
    ]);
    const active = 'silence-list [data-testid="silence"][data-id="sil-active-1"]';
    expect(await cp.texts(`${active} code`)).toEqual(['alertname="ChipPowerAtLimit"', 'host=~"p5-ui-.*"']);
    expect(await cp.text(`${active} [data-testid="silence-comment-text"]`)).toBe('Power-cap experiment on the p5 hosts');
    expect(await cp.text(`${active} td:nth-child(4)`)).toBe('admin-ops');
    expect(await cp.text(`${active} td:nth-child(5) .sub`)).toMatch(/^\(in (2h 00m|1h 59m)\)$/);
    expect(await cp.attr(`${active} td:nth-child(5)`, 'title')).toMatch(/ – /);
    expect(await cp.text('silence-list h3 .count')).toBe('2 active or pending');
    expect(await cp.attr('silence-list [data-testid="silences-expired"]', 'data-count')).toBe('2');
    expect(await cp.page.locator('silence-list [data-testid="silence-expired"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')))).toEqual(['sil-expired-3', 'sil-expired-4']);
    expect(await cp.count('silence-list [data-testid="silence-expired"] [data-testid="silence-expire"]')).toBe(0);
    const told = await cp.events('silences-change');
    expect(told).toHaveLength(1);
    expect((told[0]!.detail.silences as SilenceAnswer[]).map((s) => s.id)).toEqual(silences().silences.map((s) => s.id));
    expect(cp.errors).toEqual([]);
  });

  it('expires a silence through the hub (DELETE), re-reads the list, and shows a refusal', async () => {
    await cp.reset();
    await cp.capture('silences-change');
    let list = silences();
    cp.api.on('GET /api/v1/alerts/silences', () => ({ body: list }));
    cp.api.on('DELETE /api/v1/alerts/silences/sil-active-1', () => {
      list = { silences: list.silences.map((s) => (s.id === 'sil-active-1' ? { ...s, state: 'expired' as const, endsAt: Date.now() } : s)) };
      return { body: list.silences.find((s) => s.id === 'sil-active-1') };
    });
    await cp.mount('silence-list');
    const expire = cp.page.locator('silence-list [data-id="sil-active-1"] [data-testid="silence-expire"]');
    await expire.click();
    await expect.poll(() => cp.count('silence-list [data-testid="silence"]')).toBe(1);
    expect(cp.api.requests('DELETE /api/v1/alerts/silences/sil-active-1')).toHaveLength(1);
    expect(await cp.attr('silence-list [data-testid="silences-expired"]', 'data-count')).toBe('3');
    await expect.poll(async () => (await cp.events('silences-change')).length).toBe(2);

    // refused (a viewer token): the hub's message, the list unchanged
    cp.api.on('DELETE /api/v1/alerts/silences/sil-pending-2', forbidden);
    await cp.page.locator('silence-list [data-id="sil-pending-2"] [data-testid="silence-expire"]').click();
    await expect.poll(() => cp.attr('silence-list [data-testid="silence-expire-error"]', 'data-code')).toBe('forbidden');
    expect(await cp.text('silence-list [data-testid="silence-expire-error"]')).toBe('Could not expire the silence: This needs an admin token 403 forbidden');
    expect(await cp.count('silence-list [data-testid="silence"]')).toBe(1);
  });

  it('says when no silence is active, and when the list cannot be read', async () => {
    await cp.reset();
    cp.api.on('GET /api/v1/alerts/silences', { body: { silences: [] } });
    await cp.mount('silence-list');
    await expect.poll(() => cp.text('silence-list [data-testid="silences-empty"]')).toBe('No active silences: every alert is notified.');
    await cp.reset();
    await cp.mount('silence-list'); // no answer set: the hub's 404
    await expect.poll(() => cp.attr('silence-list [data-testid="silences-error"]', 'data-code')).toBe('not_found');
  });
});

describe('<silence-form>', () => {
  it('is filled with an alert’s matchers, posts the silence, and emits silence-created', async () => {
    await cp.reset();
    await cp.capture('silence-created');
    const now = Date.now();
    cp.api.on('POST /api/v1/alerts/silences', (req) => {
      const b = req.body as { matchers: string[]; duration: string; comment: string };
      return { status: 201, body: { id: 'sil-new-9', matchers: [{ name: 'alertname', op: '=', value: 'ChipHot' }, { name: 'chip', op: '=', value: 'GPU-p5-ui-10-0' }], comment: b.comment, createdBy: 'admin-ops', startsAt: now, endsAt: now + 4 * 3_600_000, state: 'active' } };
    });
    await cp.mount('silence-form');
    expect(await cp.text('silence-form .hint')).toBe('Matched alerts still show here; their notifications are held back.');
    await cp.call('silence-form', 'fill', ['alertname="ChipHot"', 'chip="GPU-p5-ui-10-0"']);
    expect(await cp.page.locator('silence-form [data-testid="silence-matchers"]').inputValue()).toBe('alertname="ChipHot"\nchip="GPU-p5-ui-10-0"');
    await expect.poll(() => cp.page.locator('silence-form [data-testid="silence-comment"]').evaluate((el) => el.getRootNode() instanceof ShadowRoot && (el.getRootNode() as ShadowRoot).activeElement === el)).toBe(true);
    await cp.page.locator('silence-form [data-testid="silence-comment"]').fill('Fan replacement on p5-ui-10');
    await cp.page.locator('silence-form [data-testid="silence-duration"]').fill('4h');
    await cp.page.locator('silence-form [data-testid="silence-submit"]').click();
    await expect.poll(() => cp.attr('silence-form [data-testid="silence-created"]', 'data-id')).toBe('sil-new-9');
    expect(cp.api.requests('POST /api/v1/alerts/silences').map((r) => r.body)).toEqual([{ matchers: ['alertname="ChipHot"', 'chip="GPU-p5-ui-10-0"'], duration: '4h', comment: 'Fan replacement on p5-ui-10' }]);
    expect((await cp.events('silence-created')).map((e) => e.detail.silence.id)).toEqual(['sil-new-9']);
    expect(await cp.page.locator('silence-form [data-testid="silence-comment"]').inputValue()).toBe('');
    expect(cp.errors).toEqual([]);
  });

  it('says a viewer token will be refused, and shows the hub’s refusal as it comes', async () => {
    await cp.reset();
    await cp.capture('silence-created');
    cp.api.on('POST /api/v1/alerts/silences', forbidden);
    await cp.mount('silence-form', { viewer: true });
    expect(await cp.text('silence-form .hint')).toBe('Signed in with a viewer token: the hub takes silences from admin tokens only.');
    await cp.page.locator('silence-form [data-testid="silence-matchers"]').fill('host=~"p5-.*"\n\n');
    await cp.page.locator('silence-form [data-testid="silence-comment"]').fill('x');
    await cp.page.locator('silence-form [data-testid="silence-submit"]').click();
    await expect.poll(() => cp.attr('silence-form [data-testid="silence-error"]', 'data-status')).toBe('403');
    expect(await cp.attr('silence-form [data-testid="silence-error"]', 'data-code')).toBe('forbidden');
    expect(await cp.text('silence-form [data-testid="silence-error"]')).toBe('This needs an admin token 403 forbidden');
    expect((cp.api.requests('POST /api/v1/alerts/silences')[0]!.body as { matchers: string[] }).matchers).toEqual(['host=~"p5-.*"']);
    expect(await cp.events('silence-created')).toEqual([]);
  });
});

describe('<dead-letters>', () => {
  it('lists the notifications given up on with receiver, what they were about, attempts and error; names the receivers', async () => {
    await cp.reset();
    await cp.capture('dead-letters-change');
    cp.api.on('GET /api/v1/alerts/dead-letters', { body: deadLetters() });
    cp.api.on('GET /api/v1/alerts/receivers', { body: receivers() });
    await cp.mount('dead-letters', {}, { style: 'display:block;width:1200px' });
    const rows = cp.page.locator('dead-letters [data-testid="dead-letter"]');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.evaluateAll((els) => els.map((e) => [e.getAttribute('data-id'), e.getAttribute('data-receiver')]))).toEqual([
      ['17', 'ops-webhook'],
      ['18', 'team-slack'],
    ]);
    const cells = await cp.texts('dead-letters [data-testid="dead-letter"][data-id="17"] td');
    expect(cells.slice(0, 5)).toEqual(['17', 'ops-webhook', 'ChipHot (firing) GPU-p5-ui-10-0, GPU-p5-ui-10-1', '8', 'HTTP 503 Service Unavailable']);
    expect((await cp.texts('dead-letters [data-testid="dead-letter"][data-id="18"] td'))[2]).toBe('ChipPowerAtLimit GPU-p5-ui-2-0');
    expect(await cp.text('dead-letters [data-testid="receivers"]')).toBe('Receivers: ops-webhook (webhook), team-slack (slack)');
    expect((await cp.events('dead-letters-change')).map((e) => e.detail)).toEqual([{ count: 2 }]);
    expect(cp.errors).toEqual([]);
  });

  it('retries one through the hub (POST …/retry), says so, and re-reads; a refusal shows the hub’s message', async () => {
    await cp.reset();
    await cp.capture('dead-letters-change');
    let list = deadLetters();
    cp.api.on('GET /api/v1/alerts/dead-letters', () => ({ body: list }));
    cp.api.on('GET /api/v1/alerts/receivers', forbidden); // a viewer may not list them: no receivers line
    cp.api.on('POST /api/v1/alerts/dead-letters/17/retry', () => {
      const d = list.deadLetters.find((x) => x.id === 17)!;
      list = { deadLetters: list.deadLetters.filter((x) => x.id !== 17) };
      return { body: { ...d, status: 'pending', attempts: 0 } };
    });
    cp.api.on('POST /api/v1/alerts/dead-letters/18/retry', forbidden);
    await cp.mount('dead-letters');
    await expect.poll(() => cp.count('dead-letters [data-testid="dead-letter"]')).toBe(2);
    expect(await cp.count('dead-letters [data-testid="receivers"]')).toBe(0);

    await cp.page.locator('dead-letters [data-id="17"] [data-testid="dead-letter-retry"]').click();
    await expect.poll(() => cp.attr('dead-letters [data-testid="dead-letters-message"]', 'data-state')).toBe('ok');
    expect(await cp.text('dead-letters [data-testid="dead-letters-message"]')).toBe('Notification #17 is queued again; its attempts start from zero.');
    await expect.poll(() => cp.count('dead-letters [data-testid="dead-letter"]')).toBe(1);
    expect(cp.api.requests('POST /api/v1/alerts/dead-letters/17/retry')).toHaveLength(1);
    await expect.poll(async () => (await cp.events('dead-letters-change')).map((e) => e.detail.count)).toEqual([2, 1]);

    await cp.page.locator('dead-letters [data-id="18"] [data-testid="dead-letter-retry"]').click();
    await expect.poll(() => cp.attr('dead-letters [data-testid="dead-letters-message"]', 'data-state')).toBe('error');
    expect(await cp.text('dead-letters [data-testid="dead-letters-message"]')).toBe('Could not retry notification #18: This needs an admin token 403 forbidden');
  });

  it('says when there are none', async () => {
    await cp.reset();
    cp.api.on('GET /api/v1/alerts/dead-letters', { body: { deadLetters: [] } });
    cp.api.on('GET /api/v1/alerts/receivers', { body: { receivers: [] } });
    await cp.mount('dead-letters');
    await expect.poll(() => cp.text('dead-letters [data-testid="dead-letters-empty"]')).toBe('No dead letters: every notification was delivered or is still being retried.');
    expect(await cp.text('dead-letters [data-testid="receivers"]')).toBe('No receivers are configured: alerts show here but are not sent anywhere.');
  });
});

describe('<alerts-view>', () => {
  it('puts the parts together: section counts, silenced alerts, rules, a search in the URL, and “Silence…” filling the form', async () => {
    await cp.reset();
    await cp.page.evaluate(() => history.replaceState(null, '', '#/alerts'));
    cp.api.on('GET /api/v1/alerts/rules', { body: alertRules() });
    cp.api.on('GET /api/v1/alerts/history', { body: alertHistory() });
    cp.api.on('GET /api/v1/alerts/silences', { body: silences() });
    cp.api.on('GET /api/v1/alerts/dead-letters', { body: deadLetters() });
    cp.api.on('GET /api/v1/alerts/receivers', { body: receivers() });
    await cp.mount('alerts-view', { alerts: activeAlerts(), loaded: true, viewer: true }, { style: 'display:block;width:1300px' });

    const n = (s: string) => cp.text(`alerts-view [data-testid="section-${s}"] .n`);
    expect(await n('firing')).toBe('4');
    expect(await cp.attr('alerts-view [data-testid="section-firing"]', 'aria-current')).toBe('true');
    await expect.poll(() => n('silences')).toBe('1');
    await expect.poll(() => n('dead-letters')).toBe('2');
    await expect.poll(() => n('rules')).toBe('6');
    expect(await cp.attr('alerts-view [data-testid="rules"]', 'data-count')).toBe('6');
    expect(await cp.text('alerts-view [data-testid="rules"] tr[data-rule="ecc-uncorrected"] td:last-child')).toBe('no');
    expect(await cp.text('alerts-view .top .sub')).toBe('Signed in with a viewer token: silences and retries need an admin token.');
    // the silences read by <silence-list> mark the alerts they cover in <alert-list>
    await expect.poll(() => cp.count('alerts-view alert-list [data-silenced="true"]')).toBe(2);
    await expect.poll(() => cp.count('alerts-view alert-history [data-testid="history-event"]')).toBe(4);
    await cp.screenshot(`${ARTIFACTS}/components-alerts.png`);

    // the search narrows the alerts and the history, and is in the URL
    await cp.page.locator('alerts-view [data-testid="alerts-search"]').fill('p5-ui-2');
    await expect.poll(() => cp.page.evaluate(() => location.hash)).toBe('#/alerts?q=p5-ui-2');
    expect(await cp.attr('alerts-view alert-list [data-testid="alerts-shown"]', 'data-count')).toBe('1');
    expect(await cp.count('alerts-view alert-history [data-testid="history-event"]')).toBe(2);

    // "Silence…" on an alert: the form gets its matchers, the URL the silences section
    await cp.page.locator('alerts-view [data-testid="active-alert"] [data-testid="silence-alert"]').first().click();
    expect(await cp.page.locator('alerts-view [data-testid="silence-matchers"]').inputValue()).toBe('alertname="ChipPowerAtLimit"\nchip="GPU-p5-ui-2-0"');
    await expect.poll(() => cp.page.evaluate(() => location.hash)).toBe('#/alerts?section=silences&q=p5-ui-2');
    expect(await cp.attr('alerts-view [data-testid="section-silences"]', 'aria-current')).toBe('true');
    expect(cp.errors).toEqual([]);
    await cp.page.evaluate(() => history.replaceState(null, '', '#/'));
  });
});
