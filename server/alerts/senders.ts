/**
 * What each kind of receiver is sent (pure):
 * - `webhook`: the Alertmanager webhook JSON, version 4 (webhook-payload.ts), one per group;
 * - `alertmanager`: what Prometheus POSTs to Alertmanager's /api/v2/alerts, a JSON array of
 *   {labels, annotations, startsAt, endsAt, generatorURL}; a firing alert's endsAt lies ahead
 *   (`validForMs` after sending, as Prometheus sets it) so Alertmanager resolves it by itself if
 *   the hub stops re-sending, a resolved one's is when it resolved;
 * - `slack`: an incoming-webhook message `{text, blocks}`.
 * And the request of a delivery: the stored body, `Idempotency-Key`, and the signature header
 * (`X-Fleetscope-Signature`) when the receiver has a secret, made afresh at each attempt.
 */
import type { ReceiverKind } from '../../schema/alert-notify.ts';
import { FLEETSCOPE_VERSION } from '../../schema/version.ts';
import { buildWebhookPayload, IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signatureHeader, type WebhookAlertInput } from './webhook-payload.ts';

/** A group of alerts to notify one receiver of. */
export interface NotificationGroup {
  receiver: string;
  /** Label names the group is made by. */
  groupBy: readonly string[];
  /** The hub's URL as users reach it. */
  externalURL: string;
  /** One entry per alert (its latest status), in the order they joined the group. */
  alerts: readonly WebhookAlertInput[];
}

/** The link to a chip in the dashboard (client/src/fleet-app.ts: `#/chip/<chipId>`). */
export function chipUrl(externalURL: string, chipId: string): string {
  return `${externalURL.replace(/\/+$/, '')}/#/chip/${encodeURIComponent(chipId)}`;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** One alert as Alertmanager's POST /api/v2/alerts takes it (postableAlert). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
}

/** The /api/v2/alerts body: firing alerts valid until `now + validForMs`, resolved ones ended. */
export function alertmanagerAlerts(alerts: readonly WebhookAlertInput[], now: number, validForMs: number): PostableAlert[] {
  return alerts.map((a) => ({
    labels: { ...a.labels },
    annotations: { ...a.annotations },
    startsAt: iso(a.startsAt),
    endsAt: iso(a.status === 'firing' ? Math.max(now + validForMs, a.startsAt + 1) : (a.endsAt ?? now)),
    generatorURL: a.generatorURL,
  }));
}

/** Slack's limits: a header's text, a section's text, blocks in a message. */
const SLACK_HEADER_MAX = 150;
const SLACK_SECTION_MAX = 3000;
/** Alerts listed one by one in a Slack message; the rest are counted. */
export const SLACK_MAX_ALERTS = 10;

/** Text for Slack's mrkdwn: &, < and > escaped (Slack reads them as markup). */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const cut = (text: string, max: number) => (text.length <= max ? text : text.slice(0, max - 1) + '…');

export interface SlackMessage {
  text: string;
  blocks: Record<string, unknown>[];
}

/** The group's title as Alertmanager's default templates write it: `[FIRING:2] thermal (gpu-a)`. */
export function groupTitle(group: Pick<NotificationGroup, 'alerts' | 'groupBy'>): string {
  const firing = group.alerts.filter((a) => a.status === 'firing').length;
  const status = firing > 0 ? `FIRING:${firing}` : 'RESOLVED';
  const first = group.alerts[0]?.labels ?? {};
  const name = first.alertname ?? 'alerts';
  const others = group.groupBy.filter((k) => k !== 'alertname' && first[k] !== undefined).map((k) => first[k]!);
  return `[${status}] ${name}${others.length ? ` (${others.join(' ')})` : ''}`;
}

/** An incoming-webhook message: a plain `text` (notifications, old clients) and blocks listing the alerts. */
export function slackMessage(group: NotificationGroup): SlackMessage {
  const title = groupTitle(group);
  const only = group.alerts.length === 1 ? group.alerts[0] : undefined;
  const text = only?.annotations.summary ? `${title}: ${only.annotations.summary}` : title;
  const blocks: Record<string, unknown>[] = [{ type: 'header', text: { type: 'plain_text', text: cut(title, SLACK_HEADER_MAX) } }];
  for (const a of group.alerts.slice(0, SLACK_MAX_ALERTS)) {
    const chip = a.labels.chip ?? a.labels.alertname ?? 'alert';
    const link = a.generatorURL ? `<${a.generatorURL.replace(/[|>]/g, encodeURIComponent)}|${slackEscape(chip)}>` : slackEscape(chip);
    const where = a.labels.host ? ` on ${slackEscape(a.labels.host)}` : '';
    const mark = a.status === 'firing' ? ':red_circle:' : ':large_green_circle:';
    const summary = a.annotations.summary ? ` — ${slackEscape(a.annotations.summary)}` : '';
    const when = a.status === 'firing' ? `firing since ${iso(a.startsAt)}` : `resolved at ${iso(a.endsAt ?? a.startsAt)}`;
    const severity = a.labels.severity ? ` · severity ${slackEscape(a.labels.severity)}` : '';
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: cut(`${mark} *${link}*${where}${summary}\n_${when}${severity}_`, SLACK_SECTION_MAX) } });
  }
  const more = group.alerts.length - SLACK_MAX_ALERTS;
  if (more > 0) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `and ${more} more` }] });
  return { text, blocks };
}

/** What the receiver's kind is sent for a group, as the JSON text stored in the outbox. */
export function notificationBody(kind: ReceiverKind, group: NotificationGroup, ctx: { now: number; validForMs: number }): string {
  switch (kind) {
    case 'webhook':
      return JSON.stringify(buildWebhookPayload({ receiver: group.receiver, groupBy: group.groupBy, externalURL: group.externalURL, alerts: group.alerts }));
    case 'alertmanager':
      return JSON.stringify(alertmanagerAlerts(group.alerts, ctx.now, ctx.validForMs));
    case 'slack':
      return JSON.stringify(slackMessage(group));
  }
}

export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** The request of one attempt: `t` of the signature is the attempt's time. */
export function deliveryRequest(receiver: { url: string; secret?: string | undefined }, row: { body: string; idempotencyKey: string }, now: number): OutgoingRequest {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': `fleetscope/${FLEETSCOPE_VERSION}`,
    [IDEMPOTENCY_HEADER]: row.idempotencyKey,
  };
  if (receiver.secret) headers[SIGNATURE_HEADER] = signatureHeader(row.body, receiver.secret, Math.floor(now / 1000));
  return { url: receiver.url, headers, body: row.body };
}
