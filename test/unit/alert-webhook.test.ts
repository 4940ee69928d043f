/**
 * server/alerts/webhook-payload.ts: Alertmanager's fingerprints (Prometheus' own test vectors), the
 * version 4 body, the signature round trip and every way a tampered or stale delivery is refused,
 * and idempotency keys that stay the same across retries and differ across transitions.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildWebhookPayload,
  fingerprint,
  idempotencyKey,
  signatureHeader,
  verifySignature,
  ZERO_TIME,
  type NotifiedTransition,
  type WebhookAlertInput,
} from '../../server/alerts/webhook-payload.ts';

describe('fingerprint', () => {
  // prometheus/common model/signature_test.go (decimal there)
  const cases: [Record<string, string>, bigint][] = [
    [{}, 14695981039346656037n],
    [{ name: 'garland, briggs', fear: 'love is not enough' }, 5799056148416392346n],
    [{ 'first-label': 'first-label-value' }, 5146282821936882169n],
    [{ 'first-label': 'first-label-value', 'second-label': 'second-label-value' }, 3195800080984914717n],
  ];
  it.each(cases)('%j', (labels, expected) => {
    expect(fingerprint(labels)).toBe(expected.toString(16).padStart(16, '0'));
  });

  it('does not depend on the order of the labels, and does on every name and value', () => {
    expect(fingerprint({ a: '1', b: '2' })).toBe(fingerprint({ b: '2', a: '1' }));
    expect(new Set([fingerprint({ a: '1', b: '2' }), fingerprint({ a: '1', b: '3' }), fingerprint({ a: '1', c: '2' }), fingerprint({ a: '12' })]).size).toBe(4);
  });
});

describe('buildWebhookPayload', () => {
  const T = Date.UTC(2025, 0, 2, 3, 4, 5);
  const hot = (chip: string, over: Partial<WebhookAlertInput> = {}): WebhookAlertInput => ({
    status: 'firing',
    labels: { alertname: 'ChipHot', chip, host: 'p5-a', severity: 'critical' },
    annotations: { summary: `${chip} hot` },
    startsAt: T,
    endsAt: null,
    generatorURL: `https://hub.example/chips/${chip}`,
    ...over,
  });

  it('is the Alertmanager version 4 body', () => {
    const body = buildWebhookPayload({
      receiver: 'ops',
      groupBy: ['alertname', 'host'],
      externalURL: 'https://hub.example',
      alerts: [hot('GPU-1'), hot('GPU-2', { status: 'resolved', endsAt: T + 60_000, annotations: { summary: 'GPU-2 hot' } })],
    });
    expect(body).toEqual({
      version: '4',
      groupKey: '{}:{alertname="ChipHot",host="p5-a"}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'ops',
      groupLabels: { alertname: 'ChipHot', host: 'p5-a' },
      commonLabels: { alertname: 'ChipHot', host: 'p5-a', severity: 'critical' },
      commonAnnotations: {},
      externalURL: 'https://hub.example',
      alerts: [
        { ...hot('GPU-1'), startsAt: '2025-01-02T03:04:05.000Z', endsAt: ZERO_TIME, fingerprint: fingerprint(hot('GPU-1').labels) },
        { ...hot('GPU-2'), status: 'resolved', startsAt: '2025-01-02T03:04:05.000Z', endsAt: '2025-01-02T03:05:05.000Z', fingerprint: fingerprint(hot('GPU-2').labels) },
      ],
    });
  });

  it('is resolved when every alert is, and counts the alerts left out', () => {
    const alerts = ['a', 'b', 'c'].map((c) => hot(c, { status: 'resolved', endsAt: T }));
    const body = buildWebhookPayload({ receiver: 'ops', groupBy: [], externalURL: '', alerts, maxAlerts: 2 });
    expect([body.status, body.alerts.length, body.truncatedAlerts, body.groupKey]).toEqual(['resolved', 2, 1, '{}:{}']);
  });
});

describe('signature', () => {
  const body = JSON.stringify({ version: '4', status: 'firing' });
  const secret = 'whsec_test';
  const t = 1_735_787_045;
  const header = signatureHeader(body, secret, t);

  it('is t=<unix>,v1=<hex HMAC-SHA256 of "t.body">', () => {
    expect(header).toBe(`t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`);
  });

  it('verifies: round trip, within the tolerance, with a rotated secret, with several v1', () => {
    expect(verifySignature(header, body, secret, t)).toEqual({ ok: true, t });
    expect(verifySignature(header, body, secret, t + 300).ok).toBe(true);
    expect(verifySignature(header, body, ['whsec_new', secret], t).ok).toBe(true);
    expect(verifySignature(`${header},v1=${'0'.repeat(64)}`, body, secret, t).ok).toBe(true);
  });

  const v1 = header.split('v1=')[1]!;
  const refused: [string, string | null, string, string, number, string][] = [
    ['a changed body', header, body.replace('firing', 'resolved'), secret, t, 'mismatch'],
    ['a changed timestamp', header.replace(`t=${t}`, `t=${t + 1}`), body, secret, t, 'mismatch'],
    ['a changed signature', header.replace(/v1=./, (m) => (m.endsWith('0') ? 'v1=1' : 'v1=0')), body, secret, t, 'mismatch'],
    ['another secret', header, body, 'whsec_other', t, 'mismatch'],
    ['too old (a replay)', header, body, secret, t + 301, 'expired'],
    ['too far ahead', header, body, secret, t - 301, 'expired'],
    ['no header', null, body, secret, t, 'malformed'],
    ['no timestamp', `v1=${v1}`, body, secret, t, 'malformed'],
    ['no v1', `t=${t}`, body, secret, t, 'malformed'],
    ['a v1 that is not 64 hex digits', `t=${t},v1=${v1.slice(2)}`, body, secret, t, 'malformed'],
    ['another scheme only', `t=${t},v0=${v1}`, body, secret, t, 'malformed'],
  ];
  it.each(refused)('refuses %s', (_name, h, b, s, now, reason) => {
    expect(verifySignature(h, b, s, now)).toEqual({ ok: false, reason });
  });
});

describe('idempotencyKey', () => {
  const fired: NotifiedTransition = { fingerprint: 'f1', status: 'firing', at: 1000 };
  const other: NotifiedTransition = { fingerprint: 'f2', status: 'firing', at: 1000 };
  const key = idempotencyKey('ops', [fired, other]);

  it('is the same for the same transitions, in any order (every retry of a delivery)', () => {
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(idempotencyKey('ops', [other, fired])).toBe(key);
  });

  it.each([
    ['another receiver', idempotencyKey('pager', [fired, other])],
    ['the resolution of the same alert', idempotencyKey('ops', [{ ...fired, status: 'resolved' }, other])],
    ['a later firing of the same alert', idempotencyKey('ops', [{ ...fired, at: 2000 }, other])],
    ['fewer transitions', idempotencyKey('ops', [fired])],
  ])('differs for %s', (_name, k) => {
    expect(k).not.toBe(key);
  });
});
