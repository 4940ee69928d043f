/**
 * What a webhook delivery carries: the Prometheus Alertmanager webhook JSON (version "4") for a
 * group of alerts, each alert's fingerprint (Alertmanager's: FNV-1a 64 of its sorted labels), the
 * signature header (`X-Fleetscope-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of "t.body">`, Stripe's
 * scheme) with `verifySignature` for receivers, and the `Idempotency-Key` of a delivery.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Fleetscope-Signature';
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** How far a signature's timestamp may be from the receiver's clock, s (Stripe's default). */
export const DEFAULT_SIGNATURE_TOLERANCE_S = 300;
/** `endsAt` of an alert still firing: Go's zero time, as Alertmanager sends it. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

export type AlertStatus = 'firing' | 'resolved';
export type LabelSet = Readonly<Record<string, string>>;

/** One alert to notify. */
export interface WebhookAlertInput {
  status: AlertStatus;
  labels: LabelSet;
  annotations: LabelSet;
  /** ms */
  startsAt: number;
  /** ms; null while firing. */
  endsAt: number | null;
  /** Link to the chip in the dashboard. */
  generatorURL: string;
}

export interface WebhookAlert {
  status: AlertStatus;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/** The Alertmanager webhook body, version 4. */
export interface AlertmanagerWebhook {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: AlertStatus;
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: WebhookAlert[];
}

const SEPARATOR = 0xff;

/**
 * FNV-1a 64 state, in four 16-bit limbs (low first): products of a limb and the prime's limbs stay
 * under 2^31, so the hash needs no BigInt (which made a label set's fingerprint ~12 µs).
 */
class Fnv64 {
  // 0xcbf29ce484222325, the offset basis.
  private h0 = 0x2325;
  private h1 = 0x8422;
  private h2 = 0x9ce4;
  private h3 = 0xcbf2;

  /** h = (h ^ byte) * 0x100000001b3 mod 2^64; the prime's limbs are 0x01b3, 0, 0x0100, 0. */
  add(byte: number): void {
    const h0 = this.h0 ^ byte;
    const { h1, h2, h3 } = this;
    let c = h0 * 0x1b3;
    this.h0 = c & 0xffff;
    c = h1 * 0x1b3 + (c >>> 16);
    this.h1 = c & 0xffff;
    c = h2 * 0x1b3 + h0 * 0x100 + (c >>> 16);
    this.h2 = c & 0xffff;
    c = h3 * 0x1b3 + h1 * 0x100 + (c >>> 16);
    this.h3 = c & 0xffff;
  }

  /** The text's UTF-8 bytes (ASCII read off the string, anything else through a Buffer). */
  addText(text: string): void {
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) >= 0x80) {
        for (const b of Buffer.from(text.slice(i), 'utf8')) this.add(b);
        return;
      }
      this.add(text.charCodeAt(i));
    }
  }

  hex(): string {
    return [this.h3, this.h2, this.h1, this.h0].map((l) => l.toString(16).padStart(4, '0')).join('');
  }
}

/** Alertmanager's fingerprint of a label set: FNV-1a 64 over name, 0xff, value, 0xff of each label by name; 16 hex digits. */
export function fingerprint(labels: LabelSet): string {
  const h = new Fnv64();
  for (const name of Object.keys(labels).sort()) {
    h.addText(name);
    h.add(SEPARATOR);
    h.addText(labels[name]!);
    h.add(SEPARATOR);
  }
  return h.hex();
}

const sortedEntries = (l: LabelSet) => Object.entries(l).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** The pairs all the sets have, with the same value. */
function common(sets: LabelSet[]): Record<string, string> {
  if (sets.length === 0) return {};
  return Object.fromEntries(sortedEntries(sets[0]!).filter(([k, v]) => sets.every((s) => Object.hasOwn(s, k) && s[k] === v)));
}

const iso = (ms: number) => new Date(ms).toISOString();

export interface WebhookGroup {
  receiver: string;
  /** Names of the labels the alerts are grouped by (each alert of the group has the same values). */
  groupBy: readonly string[];
  /** The hub's URL. */
  externalURL: string;
  alerts: readonly WebhookAlertInput[];
  /** Most alerts to send (the rest are counted in truncatedAlerts); 0: all. */
  maxAlerts?: number;
}

/** The webhook body for a group: firing when any alert of the group fires. */
export function buildWebhookPayload(group: WebhookGroup): AlertmanagerWebhook {
  const first = group.alerts[0];
  const groupLabels = Object.fromEntries(sortedEntries(first?.labels ?? {}).filter(([k]) => group.groupBy.includes(k)));
  const max = group.maxAlerts ?? 0;
  const sent = max > 0 ? group.alerts.slice(0, max) : group.alerts;
  const labelText = sortedEntries(groupLabels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',');
  return {
    version: '4',
    groupKey: `{}:{${labelText}}`,
    truncatedAlerts: group.alerts.length - sent.length,
    status: group.alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver: group.receiver,
    groupLabels,
    commonLabels: common(group.alerts.map((a) => a.labels)),
    commonAnnotations: common(group.alerts.map((a) => a.annotations)),
    externalURL: group.externalURL,
    alerts: sent.map((a) => ({
      status: a.status,
      labels: { ...a.labels },
      annotations: { ...a.annotations },
      startsAt: iso(a.startsAt),
      endsAt: a.endsAt === null ? ZERO_TIME : iso(a.endsAt),
      generatorURL: a.generatorURL,
      fingerprint: fingerprint(a.labels),
    })),
  };
}

const hmacHex = (secret: string, t: number, body: string) => createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');

/** The signature header value for `body` sent at `t` (unix seconds). */
export function signatureHeader(body: string, secret: string, t: number): string {
  return `t=${t},v1=${hmacHex(secret, t, body)}`;
}

export type SignatureCheck = { ok: true; t: number } | { ok: false; reason: 'malformed' | 'expired' | 'mismatch' };

/**
 * Check a signature header against the raw body: a `t` within `toleranceS` of `nowS` (unix
 * seconds) and a `v1` that is the HMAC under one of `secrets` (several while a secret is rotated).
 */
export function verifySignature(
  header: string | null | undefined,
  body: string,
  secrets: string | readonly string[],
  nowS: number,
  toleranceS = DEFAULT_SIGNATURE_TOLERANCE_S,
): SignatureCheck {
  let t: number | null = null;
  const sigs: Buffer[] = [];
  for (const part of (header ?? '').split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) sigs.push(Buffer.from(value, 'hex'));
  }
  if (t === null || sigs.length === 0) return { ok: false, reason: 'malformed' };
  if (Math.abs(nowS - t) > toleranceS) return { ok: false, reason: 'expired' };
  for (const secret of typeof secrets === 'string' ? [secrets] : secrets) {
    const expected = Buffer.from(hmacHex(secret, t, body), 'hex');
    if (sigs.some((s) => timingSafeEqual(s, expected))) return { ok: true, t };
  }
  return { ok: false, reason: 'mismatch' };
}

/** One alert's change of status, as a delivery reports it. */
export interface NotifiedTransition {
  fingerprint: string;
  status: AlertStatus;
  /** When the alert fired or resolved (ms). */
  at: number;
}

/**
 * The Idempotency-Key of a delivery to `receiver` of these transitions: the same for every retry
 * of it, different for any other transition (32 hex digits).
 */
export function idempotencyKey(receiver: string, transitions: readonly NotifiedTransition[]): string {
  const lines = transitions.map((x) => `${x.fingerprint}:${x.status}:${x.at}`).sort();
  return createHash('sha256').update([receiver, ...lines].join('\n')).digest('hex').slice(0, 32);
}
