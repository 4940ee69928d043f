/**
 * What each receiver kind is sent (server/alerts/senders.ts): the Slack message, the body of
 * Alertmanager's /api/v2/alerts, the webhook body's chip links, and a delivery request whose
 * signature verifies.
 */
import { describe, expect, it } from 'vitest';
import { alertmanagerAlerts, chipUrl, deliveryRequest, groupTitle, notificationBody, SLACK_MAX_ALERTS, slackEscape, slackMessage, type NotificationGroup } from '../../server/alerts/senders.ts';
import { fingerprint, verifySignature, type WebhookAlertInput } from '../../server/alerts/webhook-payload.ts';

const T = Date.UTC(2025, 4, 6, 7, 8, 9);
const alert = (chip: string, over: Partial<WebhookAlertInput> = {}): WebhookAlertInput => ({
  status: 'firing',
  labels: { alertname: 'thermal', chip, host: 'gpu-a1', severity: 'critical' },
  annotations: { summary: `${chip} at 91 °C`, value: '91' },
  startsAt: T,
  endsAt: null,
  generatorURL: chipUrl('https://fleet.example.com/', chip),
  ...over,
});
const group = (alerts: WebhookAlertInput[], groupBy: string[] = ['alertname']): NotificationGroup => ({ receiver: 'ops', groupBy, externalURL: 'https://fleet.example.com', alerts });

describe('chipUrl', () => {
  it("links to the dashboard's chip view (#/chip/<id>), the id escaped", () => {
    expect(chipUrl('https://fleet.example.com/', 'GPU-0')).toBe('https://fleet.example.com/#/chip/GPU-0');
    expect(chipUrl('http://h:8080', 'a b/c')).toBe('http://h:8080/#/chip/a%20b%2Fc');
  });
});

describe('slack', () => {
  it('titles the group as Alertmanager does, and lists each alert with its link, host, summary and time', () => {
    const m = slackMessage(group([alert('GPU-0'), alert('GPU-1')]));
    expect(m.text).toBe('[FIRING:2] thermal');
    expect(m.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: '[FIRING:2] thermal' } });
    expect(m.blocks).toHaveLength(3);
    const first = (m.blocks[1] as { text: { type: string; text: string } }).text;
    expect(first.type).toBe('mrkdwn');
    expect(first.text).toContain('<https://fleet.example.com/#/chip/GPU-0|GPU-0>');
    expect(first.text).toContain('on gpu-a1');
    expect(first.text).toContain('GPU-0 at 91 °C');
    expect(first.text).toContain(`firing since ${new Date(T).toISOString()}`);
    expect(first.text).toContain(':red_circle:');
  });

  it('says one alert\'s summary in the text; a resolved group is RESOLVED', () => {
    const m = slackMessage(group([alert('GPU-0', { status: 'resolved', endsAt: T + 60_000 })]));
    expect(m.text).toBe('[RESOLVED] thermal: GPU-0 at 91 °C');
    expect(JSON.stringify(m.blocks)).toContain(`resolved at ${new Date(T + 60_000).toISOString()}`);
    expect(JSON.stringify(m.blocks)).toContain(':large_green_circle:');
  });

  it('names the other group labels in the title', () => {
    expect(groupTitle({ alerts: [alert('GPU-0')], groupBy: ['alertname', 'host'] })).toBe('[FIRING:1] thermal (gpu-a1)');
  });

  it('escapes &, < and > (Slack markup) in what alerts carry', () => {
    expect(slackEscape('a<b>&c')).toBe('a&lt;b&gt;&amp;c');
    const m = slackMessage(group([alert('GPU-0', { annotations: { summary: '<!channel> & <http://evil|x>' } })]));
    const text = (m.blocks[1] as { text: { text: string } }).text.text;
    expect(text).toContain('&lt;!channel&gt; &amp; &lt;http://evil|x&gt;');
    expect(text).not.toContain('<!channel>');
  });

  it(`lists at most ${SLACK_MAX_ALERTS} alerts and counts the rest`, () => {
    const alerts = Array.from({ length: SLACK_MAX_ALERTS + 3 }, (_, i) => alert(`GPU-${i}`));
    const m = slackMessage(group(alerts));
    expect(m.blocks).toHaveLength(1 + SLACK_MAX_ALERTS + 1);
    expect(m.blocks.at(-1)).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: 'and 3 more' }] });
  });
});

describe('alertmanager', () => {
  it("sends Prometheus' postable alerts: a firing one valid for a while ahead, a resolved one ended", () => {
    const now = T + 5000;
    const body = alertmanagerAlerts([alert('GPU-0'), alert('GPU-1', { status: 'resolved', endsAt: T + 3000 })], now, 240_000);
    expect(body).toEqual([
      {
        labels: { alertname: 'thermal', chip: 'GPU-0', host: 'gpu-a1', severity: 'critical' },
        annotations: { summary: 'GPU-0 at 91 °C', value: '91' },
        startsAt: new Date(T).toISOString(),
        endsAt: new Date(now + 240_000).toISOString(),
        generatorURL: 'https://fleet.example.com/#/chip/GPU-0',
      },
      expect.objectContaining({ endsAt: new Date(T + 3000).toISOString() }),
    ]);
    for (const a of body) expect(Object.keys(a).sort()).toEqual(['annotations', 'endsAt', 'generatorURL', 'labels', 'startsAt']);
  });

  it('is a JSON array as the body', () => {
    const text = notificationBody('alertmanager', group([alert('GPU-0')]), { now: T, validForMs: 1000 });
    expect(Array.isArray(JSON.parse(text))).toBe(true);
  });
});

describe('webhook', () => {
  it('is the Alertmanager v4 body with the chip link as generatorURL and the values in the annotations', () => {
    const body = JSON.parse(notificationBody('webhook', group([alert('GPU-0')]), { now: T, validForMs: 1000 }));
    expect(body).toMatchObject({ version: '4', status: 'firing', receiver: 'ops', groupKey: '{}:{alertname="thermal"}', groupLabels: { alertname: 'thermal' } });
    expect(body.alerts[0]).toMatchObject({
      generatorURL: 'https://fleet.example.com/#/chip/GPU-0',
      annotations: { value: '91' },
      fingerprint: fingerprint(alert('GPU-0').labels),
      endsAt: '0001-01-01T00:00:00Z',
    });
  });
});

describe('deliveryRequest', () => {
  it('carries the Idempotency-Key, and a signature of the body that verifies with the secret', () => {
    const req = deliveryRequest({ url: 'http://x/hook', secret: 's3cret-value' }, { body: '{"a":1}', idempotencyKey: 'k1' }, T);
    expect(req.headers['Idempotency-Key']).toBe('k1');
    expect(req.headers['content-type']).toBe('application/json');
    const check = verifySignature(req.headers['X-Fleetscope-Signature'], req.body, 's3cret-value', Math.floor(T / 1000));
    expect(check).toEqual({ ok: true, t: Math.floor(T / 1000) });
    expect(verifySignature(req.headers['X-Fleetscope-Signature'], '{"a":2}', 's3cret-value', Math.floor(T / 1000)).ok).toBe(false);
  });

  it('is not signed without a secret', () => {
    const req = deliveryRequest({ url: 'http://x/hook' }, { body: '{}', idempotencyKey: 'k' }, T);
    expect(req.headers['X-Fleetscope-Signature']).toBeUndefined();
  });
});
