/**
 * The notifier's routing before anything is sent (server/alerts/notifier.ts), on a clock the test
 * moves and with the delivery worker not started, so the outbox shows what would go out: grouping
 * windows, group labels, an alert's latest status within a window, send_resolved, matchers,
 * silences (and what happens when one ends), duplicates, Alertmanager re-sends, file receivers.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../bench/support/temp-dir.ts';
import type { AlertEvent } from '../../server/alerts/alert-events.ts';
import { Notifier } from '../../server/alerts/notifier.ts';
import { fingerprint, idempotencyKey } from '../../server/alerts/webhook-payload.ts';
import { receiverSpecSchema, silenceBodySchema, type ReceiverSpecInput } from '../../schema/alert-notify.ts';

const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);
let now = T0;
let tmp: ReturnType<typeof tempDir>;
let n: Notifier;

beforeEach(() => {
  now = T0;
  tmp = tempDir();
  n = new Notifier({ db: join(tmp.dir, 'hub.db'), externalUrl: () => 'https://fleet.example.com', now: () => now });
});
afterEach(async () => {
  await n.close();
  tmp.cleanup();
});

function event(chip: string, to: AlertEvent['to'], over: Partial<AlertEvent> & { host?: string; alertname?: string } = {}): AlertEvent {
  const { host = 'gpu-a1', alertname = 'thermal', ...rest } = over;
  const labels = { alertname, chip, host, rule: alertname, severity: 'critical' };
  const from: AlertEvent['from'] = to === 'firing' ? 'pending' : to === 'resolved' ? 'firing' : 'inactive';
  return {
    ruleId: alertname,
    chipId: chip,
    from,
    to,
    at: now,
    value: 91,
    severity: 'critical',
    labels,
    annotations: { summary: `${chip} hot` },
    fingerprint: fingerprint(labels),
    startsAt: T0 - 60_000,
    endsAt: to === 'resolved' ? now : null,
    ...rest,
  };
}

const receiver = (over: Partial<ReceiverSpecInput> = {}) => receiverSpecSchema.parse({ name: 'ops', kind: 'webhook', url: 'http://127.0.0.1:9/hook', ...over });
const rows = () => n.outbox.all();
const bodyOf = (i: number) => JSON.parse(rows()[i]!.body);

describe('grouping', () => {
  it('puts the transitions of a group within the window into one notification, due at its end', () => {
    n.createReceiver(receiver());
    n.publish([event('GPU-0', 'firing')]);
    now += 10_000;
    n.publish([event('GPU-1', 'firing')]);
    expect(rows()).toHaveLength(1);
    expect(rows()[0]).toMatchObject({ receiver: 'ops', status: 'pending', attempts: 0, nextAt: T0 + 30_000 });
    expect(bodyOf(0).alerts.map((a: any) => a.labels.chip)).toEqual(['GPU-0', 'GPU-1']);
    // The key is that of the group's first transition.
    expect(rows()[0]!.idempotencyKey).toBe(idempotencyKey('ops', [{ fingerprint: event('GPU-0', 'firing').fingerprint, status: 'firing', at: T0 }]));
    now = T0 + 30_000;
    n.publish([event('GPU-2', 'firing')]);
    expect(rows()).toHaveLength(2);
    expect(rows()[1]!.nextAt).toBe(T0 + 60_000);
  });

  it('makes one group per value of the groupBy labels', () => {
    n.createReceiver(receiver({ groupBy: ['alertname', 'host'] }));
    n.publish([event('GPU-0', 'firing'), event('GPU-1', 'firing'), event('GPU-9', 'firing', { host: 'gpu-b2' }), event('GPU-5', 'firing', { alertname: 'power' })]);
    expect(rows().map((r) => JSON.parse(r.body).groupKey)).toEqual(['{}:{alertname="thermal",host="gpu-a1"}', '{}:{alertname="thermal",host="gpu-b2"}', '{}:{alertname="power",host="gpu-a1"}']);
    expect(bodyOf(0).alerts).toHaveLength(2);
  });

  it('keeps an alert once per notification, with its latest status', () => {
    n.createReceiver(receiver());
    n.publish([event('GPU-0', 'firing')]);
    now += 5000;
    n.publish([event('GPU-0', 'resolved')]);
    expect(rows()).toHaveLength(1);
    expect(bodyOf(0).status).toBe('resolved');
    expect(bodyOf(0).alerts).toHaveLength(1);
    expect(bodyOf(0).alerts[0]).toMatchObject({ status: 'resolved', endsAt: new Date(T0 + 5000).toISOString() });
  });

  it('with groupWait 0s sends each transition on its own at once', () => {
    n.createReceiver(receiver({ groupWait: '0s' }));
    n.publish([event('GPU-0', 'firing'), event('GPU-1', 'firing')]);
    expect(rows().map((r) => r.nextAt)).toEqual([T0, T0]);
  });

  it('opens a new notification once the open one is being sent', () => {
    n.createReceiver(receiver());
    n.publish([event('GPU-0', 'firing')]);
    expect(n.outbox.claim(rows()[0]!, T0 + 60_000)).toBe(true);
    n.publish([event('GPU-1', 'firing')]);
    expect(rows()).toHaveLength(2);
    expect(bodyOf(0).alerts).toHaveLength(1);
  });

  it('queues a transition published twice once', () => {
    n.createReceiver(receiver({ groupWait: '0s' }));
    const e = event('GPU-0', 'firing');
    n.publish([e]);
    n.publish([e]);
    expect(rows()).toHaveLength(1);
  });

  it('links each alert to its chip and adds the triggering value to the annotations', () => {
    n.createReceiver(receiver());
    n.publish([event('GPU-0', 'firing', { value: 91.256 })]);
    expect(bodyOf(0).alerts[0]).toMatchObject({ generatorURL: 'https://fleet.example.com/#/chip/GPU-0', annotations: { summary: 'GPU-0 hot', value: '91.26' } });
  });
});

describe('routing', () => {
  it('sends transitions into firing, and out of it when sendResolved; never pending or inactive', () => {
    n.createReceiver(receiver({ name: 'all', groupWait: '0s' }));
    n.createReceiver(receiver({ name: 'firing-only', groupWait: '0s', sendResolved: false }));
    n.publish([event('GPU-0', 'pending'), event('GPU-0', 'firing')]);
    now += 1000;
    n.publish([event('GPU-0', 'resolved'), event('GPU-0', 'inactive', { from: 'resolved' })]);
    expect(rows().map((r) => [r.receiver, JSON.parse(r.body).status])).toEqual([
      ['all', 'firing'],
      ['firing-only', 'firing'],
      ['all', 'resolved'],
    ]);
  });

  it('sends each receiver the alerts its matchers match', () => {
    n.createReceiver(receiver({ name: 'crit-a', groupWait: '0s', matchers: ['severity="critical"', 'host=~"gpu-a.*"'] }));
    n.createReceiver(receiver({ name: 'not-a', groupWait: '0s', matchers: [{ name: 'host', op: '!~', value: 'gpu-a.*' }] }));
    n.publish([event('GPU-0', 'firing'), event('GPU-9', 'firing', { host: 'gpu-b2' })]);
    expect(rows().map((r) => [r.receiver, JSON.parse(r.body).alerts[0].labels.chip])).toEqual([
      ['crit-a', 'GPU-0'],
      ['not-a', 'GPU-9'],
    ]);
  });

  it('sends Slack its message and Alertmanager its array', () => {
    n.createReceiver(receiver({ name: 's', kind: 'slack', groupWait: '0s' }));
    n.createReceiver(receiver({ name: 'am', kind: 'alertmanager', groupWait: '0s' }));
    n.publish([event('GPU-0', 'firing')]);
    // Receivers take an alert in the order of their names.
    expect(rows().map((r) => r.receiver)).toEqual(['am', 's']);
    expect(bodyOf(1)).toMatchObject({ text: '[FIRING:1] thermal: GPU-0 hot' });
    expect(bodyOf(0)).toEqual([expect.objectContaining({ endsAt: new Date(T0 + 4 * 60_000).toISOString() })]);
  });
});

describe('silences', () => {
  const silence = (matchers: string[], duration = '1h') => n.addSilence(silenceBodySchema.parse({ matchers, comment: 'maintenance', duration }), 'tester');

  it('keeps silenced alerts from being sent, and their resolution too', () => {
    n.createReceiver(receiver({ groupWait: '0s' }));
    silence(['host="gpu-a1"']);
    expect(n.isSilenced(event('GPU-0', 'firing').labels)).toBe(true);
    n.publish([event('GPU-0', 'firing'), event('GPU-9', 'firing', { host: 'gpu-b2' })]);
    now += 1000;
    n.publish([event('GPU-0', 'resolved')]);
    expect(rows().map((r) => JSON.parse(r.body).alerts[0].labels.chip)).toEqual(['GPU-9']);
  });

  it('sends an alert that still fires once its silence is ended, then its resolution', () => {
    n.createReceiver(receiver({ groupWait: '0s' }));
    const s = silence(['chip="GPU-0"']);
    n.publish([event('GPU-0', 'firing')]);
    expect(rows()).toHaveLength(0);
    now += 60_000;
    expect(n.expireSilence(s.id).endsAt).toBe(now);
    expect(rows()).toHaveLength(1);
    expect(bodyOf(0).status).toBe('firing');
    now += 1000;
    n.publish([event('GPU-0', 'resolved')]);
    expect(rows().map((r) => JSON.parse(r.body).status)).toEqual(['firing', 'resolved']);
  });

  it('sends it when the silence runs out (the periodic check)', () => {
    n.createReceiver(receiver({ groupWait: '0s' }));
    silence(['chip="GPU-0"'], '10m');
    n.publish([event('GPU-0', 'firing')]);
    now += 10 * 60_000;
    (n as unknown as { tick(): void }).tick();
    expect(rows()).toHaveLength(1);
  });

  it('does not send an alert that resolved while silenced', () => {
    n.createReceiver(receiver({ groupWait: '0s' }));
    const s = silence(['chip="GPU-0"']);
    n.publish([event('GPU-0', 'firing')]);
    now += 1000;
    n.publish([event('GPU-0', 'resolved')]);
    n.expireSilence(s.id);
    expect(rows()).toHaveLength(0);
  });

  it('starts at startsAt', () => {
    n.createReceiver(receiver({ groupWait: '0s' }));
    n.addSilence(silenceBodySchema.parse({ matchers: ['chip="GPU-0"'], comment: 'later', startsAt: T0 + 60_000, duration: '1h' }), 'tester');
    n.publish([event('GPU-0', 'firing')]);
    expect(rows()).toHaveLength(1);
  });
});

describe('alertmanager receivers', () => {
  const tick = () => (n as unknown as { tick(): void }).tick();

  it('are sent the alerts still firing every repeatInterval, and no longer once resolved', () => {
    n.createReceiver(receiver({ name: 'am', kind: 'alertmanager', groupWait: '0s', repeatInterval: '1m' }));
    n.publish([event('GPU-0', 'firing'), event('GPU-1', 'firing')]);
    expect(rows()).toHaveLength(2);
    for (const r of rows()) n.outbox.markDone(r.id, now);
    now += 30_000;
    tick();
    expect(rows()).toHaveLength(2);
    now += 30_000;
    tick();
    expect(rows()).toHaveLength(3);
    expect(bodyOf(2).map((a: any) => [a.labels.chip, a.endsAt])).toEqual([
      ['GPU-0', new Date(now + 4 * 60_000).toISOString()],
      ['GPU-1', new Date(now + 4 * 60_000).toISOString()],
    ]);
    n.outbox.markDone(rows()[2]!.id, now);
    n.publish([event('GPU-1', 'resolved')]);
    n.outbox.markDone(rows()[3]!.id, now);
    now += 60_000;
    tick();
    expect(bodyOf(4).map((a: any) => a.labels.chip)).toEqual(['GPU-0']);
  });

  it('are not sent another round while earlier ones are still pending', () => {
    n.createReceiver(receiver({ name: 'am', kind: 'alertmanager', groupWait: '0s' }));
    n.publish([event('GPU-0', 'firing')]);
    now += 120_000;
    tick();
    expect(rows()).toHaveLength(1);
  });

  it('learn what fires after a restart (resume) and send it at once', () => {
    n.createReceiver(receiver({ name: 'am', kind: 'alertmanager' }));
    n.resume([event('GPU-0', 'firing')]);
    tick();
    expect(rows()).toHaveLength(1);
    expect(rows()[0]!.nextAt).toBe(now);
  });
});

describe('receivers of the rules file and the flag', () => {
  it('replaces the file receivers as a whole; refuses a bad one naming the field, and taken names', () => {
    n.setFileReceivers([{ name: 'f1', kind: 'webhook', url: 'http://127.0.0.1:9/a' }, { name: 'f2', kind: 'slack', url: 'https://hooks.slack.com/services/x' }]);
    expect(n.receivers().map((r) => [r.spec.name, r.source])).toEqual([
      ['f1', 'file'],
      ['f2', 'file'],
    ]);
    n.setFileReceivers([{ name: 'f2', kind: 'slack', url: 'https://hooks.slack.com/services/y' }]);
    expect(n.receivers().map((r) => r.spec.name)).toEqual(['f2']);
    expect(() => n.setFileReceivers([{ name: 'ok', kind: 'webhook', url: 'http://x/' }, { name: 'bad', kind: 'webhook', url: 'http://x/', matchers: ['a=~"("'] }])).toThrow(/^receivers\[1\]\.matchers\[0\]: invalid regex/);
    n.createReceiver(receiver({ name: 'api-one' }));
    expect(() => n.setFileReceivers([{ name: 'api-one', kind: 'webhook', url: 'http://x/' }])).toThrow(/receivers\[0\]\.name: "api-one" is taken by a receiver from the API/);
    expect(n.receivers().map((r) => r.spec.name)).toEqual(['api-one', 'f2']);
    expect(() => n.deleteReceiver('f2')).toThrow(/rules file/);
  });

  it('adds and removes the --webhook receiver', () => {
    n.setFlagReceiver({ url: 'http://127.0.0.1:9/hook', secret: 'abcdefgh' });
    expect(n.receivers().map((r) => [r.spec.name, r.source, r.spec.secret, r.spec.matchers, r.spec.groupWait, r.spec.sendResolved])).toEqual([['flag-webhook', 'flag', 'abcdefgh', [], '30s', true]]);
    n.setFlagReceiver(null);
    expect(n.receivers()).toEqual([]);
  });
});
