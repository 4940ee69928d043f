/**
 * NATS subjects of the live bus (server/bus/): how a hub names what it publishes and what it
 * subscribes to. Pure.
 *
 * A subject is dot-separated tokens; a token may not be empty or hold `.`, `*`, `>` or white
 * space. Host names (`ip-10-0-0-1.ec2.internal`) and chip ids (`i-0abc.neuron3`) may, so every
 * token taken from data is escaped: each such character, `%` itself and control characters
 * become `%` and two upper-case hex digits per UTF-8 byte (`.` → `%2E`, `*` → `%2A`, `>` → `%3E`,
 * space → `%20`, `%` → `%25`); the empty string becomes `%`. Everything else is kept, so usual
 * ids read as they are, and the escaping can be undone (`unescapeToken`).
 */

/** Subject root when none is configured. */
export const DEFAULT_SUBJECT_ROOT = 'fleetscope';

/** Characters a token may not carry as they are (and `%`, the escape). */
const NEEDS_ESCAPE = /[.*>%\s\u0000-\u001f\u007f]/u;
const NEEDS_ESCAPE_ALL = /[.*>%\s\u0000-\u001f\u007f]/gu;

function hexBytes(ch: string): string {
  let out = '';
  for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** One subject token for a value (host, chip id, vendor, hub id). */
export function escapeToken(value: string): string {
  if (value === '') return '%';
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(NEEDS_ESCAPE_ALL, hexBytes);
}

/** The value of an escaped token (the inverse of `escapeToken`); throws on a token it cannot have made. */
export function unescapeToken(token: string): string {
  if (token === '%') return '';
  if (!token.includes('%')) return token;
  if (/%(?![0-9A-F]{2})/.test(token)) throw new Error(`not an escaped subject token: ${JSON.stringify(token)}`);
  return decodeURIComponent(token);
}

/** A subject root: one or more tokens of letters, digits, `_` and `-` separated by dots. */
const ROOT = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** Checks a configured subject root; throws a clear error for a bad one. */
export function checkSubjectRoot(root: string): string {
  if (!ROOT.test(root)) throw new Error(`bus subject root must be tokens of letters, digits, _ and - separated by dots (e.g. ${DEFAULT_SUBJECT_ROOT}), got ${JSON.stringify(root)}`);
  return root;
}

/** The subjects under one root. */
export interface Subjects {
  readonly root: string;
  /** A chip's committed samples: `<root>.samples.<vendor>.<host>.<chip>`. */
  samples(vendor: string, host: string, chipId: string): string;
  /** What a hub subscribes to for one chip it has viewers for (any vendor and host). */
  chipSamples(chipId: string): string;
  /** Every chip's samples (a firehose viewer). */
  allSamples(): string;
  /** A chip's status changes: `<root>.status.<host>.<chip>`. */
  status(host: string, chipId: string): string;
  allStatus(): string;
  /** A chip's alert transitions: `<root>.alerts.<host>.<chip>`. */
  alerts(host: string, chipId: string): string;
  allAlerts(): string;
  /** One hub's fleet summary: `<root>.summary.<hub>`. */
  summary(hubId: string): string;
  allSummaries(): string;
  /** Asks every hub for a full summary: `<root>.sync`. */
  sync(): string;
  /** The hub id of a summary subject, or null when the subject is not one. */
  summaryHub(subject: string): string | null;
}

export function subjects(root = DEFAULT_SUBJECT_ROOT): Subjects {
  const r = checkSubjectRoot(root);
  const e = escapeToken;
  const summaryPrefix = `${r}.summary.`;
  return {
    root: r,
    samples: (vendor, host, chipId) => `${r}.samples.${e(vendor)}.${e(host)}.${e(chipId)}`,
    chipSamples: (chipId) => `${r}.samples.*.*.${e(chipId)}`,
    allSamples: () => `${r}.samples.>`,
    status: (host, chipId) => `${r}.status.${e(host)}.${e(chipId)}`,
    allStatus: () => `${r}.status.>`,
    alerts: (host, chipId) => `${r}.alerts.${e(host)}.${e(chipId)}`,
    allAlerts: () => `${r}.alerts.>`,
    summary: (hubId) => `${summaryPrefix}${e(hubId)}`,
    allSummaries: () => `${r}.summary.*`,
    sync: () => `${r}.sync`,
    summaryHub(subject) {
      if (!subject.startsWith(summaryPrefix)) return null;
      const token = subject.slice(summaryPrefix.length);
      if (token === '' || token.includes('.')) return null;
      try {
        return unescapeToken(token);
      } catch {
        return null;
      }
    },
  };
}
