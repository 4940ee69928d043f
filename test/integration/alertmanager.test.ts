/**
 * Against a REAL Prometheus Alertmanager (Debian's prometheus-alertmanager, started on loopback
 * with a temporary config and storage): an `alertmanager` receiver's POSTs to /api/v2/alerts show
 * up in its GET /api/v2/alerts (labels, annotations, generatorURL, startsAt, and the same
 * fingerprint), are re-sent while the alert fires (its endsAt moves ahead), and the resolution
 * ends it. Alertmanager's own webhook notification (version 4) of that alert is compared with the
 * hub's `webhook` receiver body for the same alert: the same fields, fingerprint and groupKey.
 *
 * Without the binary the tests are skipped, except under CI (`CI` set), where that is a failure:
 * .ci/run installs it (apt-get install -y prometheus-alertmanager).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../bench/support/free-port.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';
import type { AlertEvent } from '../../server/alerts/alert-events.ts';
import { fingerprint } from '../../server/alerts/webhook-payload.ts';
import { startHttpReceiver, type HttpReceiver } from '../helpers/http-receiver.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';

const ALERTMANAGER = process.env.FLEETSCOPE_ALERTMANAGER_BIN ?? '/usr/bin/prometheus-alertmanager';
const INSTALL = 'apt-get install -y prometheus-alertmanager';
const present = existsSync(ALERTMANAGER);

if (!present && process.env.CI) {
  describe('Alertmanager', () => {
    it('is installed (CI runs these tests against a real one)', () => {
      expect.fail(`${ALERTMANAGER} is missing: install it with \`${INSTALL}\` (see .ci/run)`);
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!present)('a real Alertmanager', () => {
  let am: ChildProcess;
  let amLog = '';
  let amUrl: string;
  let hook: HttpReceiver;
  let hub: TestHub;
  let tmp: ReturnType<typeof tempDir>;

  beforeAll(async () => {
    tmp = tempDir();
    hook = await startHttpReceiver();
    const port = await freePort();
    amUrl = `http://127.0.0.1:${port}`;
    const config = join(tmp.dir, 'alertmanager.yml');
    writeFileSync(
      config,
      [
        'route:',
        '  receiver: hook',
        "  group_by: ['alertname']",
        '  group_wait: 1s',
        '  group_interval: 1s',
        '  repeat_interval: 1h',
        'receivers:',
        '  - name: hook',
        '    webhook_configs:',
        `      - url: ${hook.url}/am-hook`,
        '        send_resolved: true',
        '',
      ].join('\n'),
    );
    am = spawn(ALERTMANAGER, [`--config.file=${config}`, `--storage.path=${join(tmp.dir, 'am-data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='], { stdio: ['ignore', 'pipe', 'pipe'] });
    am.stdout!.on('data', (d) => (amLog += d));
    am.stderr!.on('data', (d) => (amLog += d));
    const until = Date.now() + 15_000;
    for (;;) {
      if (am.exitCode !== null) throw new Error(`alertmanager exited ${am.exitCode}: ${amLog}`);
      const ready = await fetch(`${amUrl}/-/ready`).then((r) => r.ok, () => false);
      if (ready) break;
      if (Date.now() > until) throw new Error(`alertmanager not ready after 15 s: ${amLog}`);
      await sleep(100);
    }
    hub = await startTestHub({ notify: { delivery: { timeoutMs: 2000, pollMs: 50 }, tickMs: 50 } });
  }, 30_000);

  afterAll(async () => {
    await hub?.stop();
    if (am && am.exitCode === null) {
      const exited = new Promise((r) => am.once('exit', r));
      am.kill('SIGTERM');
      await exited;
    }
    await hook?.close();
    tmp?.cleanup();
  });

  async function amAlerts(): Promise<any[]> {
    const res = await fetch(`${amUrl}/api/v2/alerts`);
    expect(res.status).toBe(200);
    return (await res.json()) as any[];
  }

  async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v !== undefined) return v;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}; alertmanager log: ${amLog.slice(-2000)}`);
      await sleep(100);
    }
  }

  const labels = { alertname: 'thermal', chip: 'GPU-am', host: 'gpu-a1', rule: 'thermal', severity: 'critical' };
  const startsAt = Date.now() - 60_000;
  const event = (to: 'firing' | 'resolved'): AlertEvent => ({
    ruleId: 'thermal',
    chipId: 'GPU-am',
    from: to === 'firing' ? 'pending' : 'firing',
    to,
    at: Date.now(),
    value: 91,
    severity: 'critical',
    labels,
    annotations: { summary: 'GPU-am at 91 °C' },
    fingerprint: fingerprint(labels),
    startsAt,
    endsAt: to === 'resolved' ? Date.now() : null,
  });

  it('takes the alerts the hub POSTs to /api/v2/alerts, gets them again while they fire, and ends them on resolve; its webhook body is ours', async () => {
    const add = async (body: object) => {
      const res = await fetch(`${hub.url}/api/v1/alerts/receivers`, { method: 'POST', headers: { ...hub.auth(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status, await res.clone().text()).toBe(201);
    };
    await add({ name: 'am', kind: 'alertmanager', url: `${amUrl}/api/v2/alerts`, groupWait: '0s', repeatInterval: '1s' });
    await add({ name: 'ours', kind: 'webhook', url: `${hook.url}/ours`, groupWait: '0s' });

    hub.notifier.publish([event('firing')]);
    const alert = await waitFor('the alert in Alertmanager', async () => (await amAlerts()).find((a) => a.labels.chip === 'GPU-am'));
    expect(alert).toMatchObject({
      labels,
      annotations: { summary: 'GPU-am at 91 °C', value: '91' },
      generatorURL: `${hub.url}/#/chip/GPU-am`,
      fingerprint: fingerprint(labels),
      status: { state: 'active' },
    });
    expect(Date.parse(alert.startsAt)).toBe(startsAt);
    const firstEnd = Date.parse(alert.endsAt);
    expect(firstEnd).toBeGreaterThan(Date.now());

    // Re-sent every repeatInterval (1 s): Alertmanager sees its endsAt move ahead.
    const later = await waitFor('a re-send', async () => {
      const a = (await amAlerts()).find((x) => x.labels.chip === 'GPU-am');
      return a && Date.parse(a.endsAt) > firstEnd + 500 ? a : undefined;
    });
    expect(later.status.state).toBe('active');

    // Alertmanager's own webhook notification of the alert against the hub's webhook body.
    await hook.waitFor((reqs) => reqs.some((r) => r.path === '/am-hook') && reqs.some((r) => r.path === '/ours'), 10_000, 'both webhook bodies');
    const theirs = JSON.parse(hook.requests.find((r) => r.path === '/am-hook')!.body);
    const ours = JSON.parse(hook.requests.find((r) => r.path === '/ours')!.body);
    expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
    expect(Object.keys(ours.alerts[0]).sort()).toEqual(Object.keys(theirs.alerts[0]).sort());
    expect(ours.version).toBe(theirs.version);
    expect(ours.groupKey).toBe(theirs.groupKey);
    expect(ours.groupLabels).toEqual(theirs.groupLabels);
    expect(ours.status).toBe(theirs.status);
    expect(ours.commonLabels).toEqual(theirs.commonLabels);
    expect(ours.alerts[0].fingerprint).toBe(theirs.alerts[0].fingerprint);
    expect(ours.alerts[0].labels).toEqual(theirs.alerts[0].labels);
    expect(ours.alerts[0].annotations).toEqual(theirs.alerts[0].annotations);
    expect(ours.alerts[0].generatorURL).toBe(theirs.alerts[0].generatorURL);
    expect(Date.parse(ours.alerts[0].startsAt)).toBe(Date.parse(theirs.alerts[0].startsAt));
    for (const [k, v] of Object.entries(theirs)) expect(typeof ours[k], k).toBe(typeof v);

    // Resolved: sent once with its endsAt; Alertmanager no longer lists it and notifies it resolved.
    hub.notifier.publish([event('resolved')]);
    await waitFor('the alert to end in Alertmanager', async () => ((await amAlerts()).some((a) => a.labels.chip === 'GPU-am') ? undefined : true));
    await hook.waitFor((reqs) => reqs.some((r) => r.path === '/am-hook' && JSON.parse(r.body).status === 'resolved'), 10_000, "Alertmanager's resolved notification");
    const resolved = JSON.parse(hook.requests.find((r) => r.path === '/am-hook' && JSON.parse(r.body).status === 'resolved')!.body);
    expect(resolved.alerts[0]).toMatchObject({ status: 'resolved', fingerprint: fingerprint(labels) });
    const oursResolved = await waitFor('our resolved body', async () => hook.requests.find((r) => r.path === '/ours' && JSON.parse(r.body).status === 'resolved'));
    expect(Object.keys(JSON.parse(oursResolved.body)).sort()).toEqual(Object.keys(resolved).sort());

    // No more re-sends once resolved: nothing pending for it, and no dead letters.
    await sleep(1500);
    expect((await amAlerts()).some((a) => a.labels.chip === 'GPU-am')).toBe(false);
    expect(hub.notifier.deadLetters()).toEqual([]);
  }, 60_000);
});
