/**
 * Where alert notifications go, as users write it (REST bodies, the rules file, `--webhook`):
 * receivers (`webhook`: the Alertmanager webhook JSON v4, `alertmanager`: a real Alertmanager's
 * /api/v2/alerts, `slack`: an incoming webhook) routed by label matchers, and silences.
 *
 * Matchers are Alertmanager's: `name="value"`, `name!="value"`, `name=~"regex"`, `name!~"regex"`
 * (a regex must match the whole value; an absent label reads as ""). Each may be written as that
 * string or as `{name, op, value}`; both are stored and answered as the object. Durations stay the
 * strings the user wrote (`"30s"`); the server turns them into ms. Every refusal names the field.
 */
import { z } from 'zod';
import { durationMs } from './duration.ts';
import { MATCH_OPS, matcherRegex, type Matcher, type MatchOp } from './alert-matchers.ts';

export { MATCH_OPS, matcherRegex, type Matcher, type MatchOp } from './alert-matchers.ts';

export const RECEIVER_KINDS = ['webhook', 'alertmanager', 'slack'] as const;
export type ReceiverKind = (typeof RECEIVER_KINDS)[number];


export const MAX_MATCHERS = 32;
export const MAX_MATCHER_VALUE_LENGTH = 1024;
export const MAX_GROUP_BY = 16;
/** Longest grouping window, resend interval and rate-limit period. */
export const MAX_NOTIFY_DURATION_MS = 86_400_000;

const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const matcherLabelNameSchema = z.string().max(128).regex(LABEL_NAME, 'label names are letters, digits and _ (not starting with a digit)');

function unquote(text: string): string | null {
  if (!text.startsWith('"')) return text;
  if (text.length < 2 || !text.endsWith('"')) return null;
  let out = '';
  for (let i = 1; i < text.length - 1; i++) {
    const ch = text[i]!;
    if (ch === '"') return null;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = text[++i];
    if (i >= text.length - 1 || next === undefined) return null;
    out += next === 'n' ? '\n' : next === 't' ? '\t' : next;
  }
  return out;
}

/**
 * A matcher written as text: `severity="critical"`, `host=~"gpu-.*"`, `env!=prod` (quotes are
 * optional; inside them `\"`, `\\` and `\n` are escapes). An error message when it is not one.
 */
export function parseMatcher(text: string): Matcher | string {
  const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/s.exec(text);
  if (!m) return `invalid matcher ${JSON.stringify(text)}: write name="value", name!="value", name=~"regex" or name!~"regex"`;
  const value = unquote(m[3]!);
  if (value === null) return `invalid matcher ${JSON.stringify(text)}: unbalanced quotes in the value`;
  return checkMatcher({ name: m[1]!, op: m[2] as MatchOp, value });
}

/** The matcher itself, or what is wrong with it (a value too long, a regex that does not compile). */
export function checkMatcher(m: Matcher): Matcher | string {
  if (m.value.length > MAX_MATCHER_VALUE_LENGTH) return `matcher value longer than ${MAX_MATCHER_VALUE_LENGTH} characters`;
  if (m.op === '=~' || m.op === '!~') {
    const re = matcherRegex(m.value);
    if (typeof re === 'string') return re;
  }
  return m;
}

const matcherObjectSchema = z.strictObject({ name: matcherLabelNameSchema, op: z.enum(MATCH_OPS), value: z.string() });

/** A matcher as text or as `{name, op, value}`; always the object once parsed. */
export const matcherSchema = z.union([z.string().max(MAX_MATCHER_VALUE_LENGTH + 200), matcherObjectSchema]).transform((raw, ctx): Matcher => {
  const res = typeof raw === 'string' ? parseMatcher(raw) : checkMatcher(raw);
  if (typeof res === 'string') {
    ctx.addIssue({ code: 'custom', message: res });
    return z.NEVER;
  }
  return res;
});

export const matchersSchema = z.array(matcherSchema).max(MAX_MATCHERS);

/** A duration string (`0s`, `30s`, `1m`; a bare number is seconds) between `minMs` and 1 day. */
export function notifyDurationSchema(minMs: number) {
  return z
    .string()
    .max(32)
    .superRefine((text, ctx) => {
      const ms = durationMs(text);
      if (ms === null) ctx.addIssue({ code: 'custom', message: `invalid duration ${JSON.stringify(text)}: use e.g. 0s, 30s, 1m, 1h` });
      else if (ms < minMs) ctx.addIssue({ code: 'custom', message: `duration ${JSON.stringify(text)} is shorter than ${minMs} ms` });
      else if (ms > MAX_NOTIFY_DURATION_MS) ctx.addIssue({ code: 'custom', message: `duration ${JSON.stringify(text)} is longer than 1d` });
    });
}

/** Receiver name: used in URLs, outbox rows and the webhook body's `receiver`. */
export const receiverNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'receiver names are 1–64 characters: letters, digits, . _ - (starting with a letter or digit)');

/** An http(s) URL without credentials in it (put a secret in `secret`, not in the URL's user part). */
export const receiverUrlSchema = z
  .string()
  .max(2048)
  .superRefine((text, ctx) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: `invalid URL ${JSON.stringify(text)}` });
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: `the URL must be http or https, not ${url.protocol}` });
    else if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'the URL must not carry a user or password' });
  });

/** HMAC secret of the signature header. */
export const receiverSecretSchema = z.string().min(8, 'a secret is at least 8 characters').max(256);

export const DEFAULT_GROUP_BY = ['alertname'] as const;
export const DEFAULT_GROUP_WAIT = '30s';
export const DEFAULT_REPEAT_INTERVAL = '1m';
export const DEFAULT_RATE_LIMIT = { count: 60, per: '1m' } as const;

export const rateLimitSchema = z.strictObject({
  /** Most requests to the receiver per `per` (bursts up to `count`); more wait in the outbox. */
  count: z.number().int().min(1).max(100_000),
  per: notifyDurationSchema(1),
});

/** What a receiver is, besides its name (PUT bodies). */
const receiverFields = {
  kind: z.enum(RECEIVER_KINDS),
  url: receiverUrlSchema,
  /** Signs each request (X-Fleetscope-Signature); never answered back. */
  secret: receiverSecretSchema.optional(),
  /** Which alerts go here: all matchers must match (none: every alert). */
  matchers: matchersSchema.default([]),
  /** Labels whose values make a group: one notification per group and window. */
  groupBy: z.array(matcherLabelNameSchema).max(MAX_GROUP_BY).default([...DEFAULT_GROUP_BY]),
  /** The grouping window (Alertmanager's group_wait): transitions of a group within it go in one notification. */
  groupWait: notifyDurationSchema(0).default(DEFAULT_GROUP_WAIT),
  /** `alertmanager` receivers: firing alerts are sent again this often (as Prometheus does). */
  repeatInterval: notifyDurationSchema(1000).default(DEFAULT_REPEAT_INTERVAL),
  rateLimit: rateLimitSchema.default({ ...DEFAULT_RATE_LIMIT }),
  /** Notify resolutions too. */
  sendResolved: z.boolean().default(true),
};

/** A receiver (POST bodies, the rules file's `receivers`). */
export const receiverSpecSchema = z.strictObject({ name: receiverNameSchema, ...receiverFields });
export type ReceiverSpecInput = z.input<typeof receiverSpecSchema>;
export type ReceiverSpec = z.output<typeof receiverSpecSchema>;

/**
 * PUT /api/v1/alerts/receivers/:name: the whole receiver again; `name`, when given, must be the
 * path's; `secret` left out keeps the stored one, `null` removes it.
 */
export const receiverPutSchema = z.strictObject({ name: receiverNameSchema.optional(), ...receiverFields, secret: receiverSecretSchema.nullable().optional() });
export type ReceiverPut = z.output<typeof receiverPutSchema>;

/** An instant: epoch ms or an ISO-8601 text. */
export const instantSchema = z.union([z.number().int().min(0), z.string().max(64)]).transform((v, ctx): number => {
  const ms = typeof v === 'number' ? v : Date.parse(v);
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: `invalid time ${JSON.stringify(v)}: epoch ms or ISO-8601` });
    return z.NEVER;
  }
  return ms;
});

/** Longest silence. */
export const MAX_SILENCE_MS = 366 * 86_400_000;

/**
 * POST /api/v1/alerts/silences: matchers (at least one that does not match the empty value, so a
 * silence cannot cover every alert by accident), a comment, and its end (`endsAt`, or `duration`
 * from `startsAt`, which defaults to now).
 */
export const silenceBodySchema = z
  .strictObject({
    matchers: z.array(matcherSchema).min(1, 'a silence needs at least one matcher').max(MAX_MATCHERS),
    comment: z.string().trim().min(1, 'say why').max(1024),
    startsAt: instantSchema.optional(),
    endsAt: instantSchema.optional(),
    duration: z
      .string()
      .max(32)
      .superRefine((text, ctx) => {
        const ms = durationMs(text);
        if (ms === null || ms <= 0) ctx.addIssue({ code: 'custom', message: `invalid duration ${JSON.stringify(text)}: use e.g. 30m, 2h, 1d` });
      })
      .optional(),
  })
  .superRefine((b, ctx) => {
    if ((b.endsAt === undefined) === (b.duration === undefined)) ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'give either endsAt or duration' });
    if (b.matchers.every((m) => matchesEmpty(m))) ctx.addIssue({ code: 'custom', path: ['matchers'], message: 'at least one matcher must not match an empty label (e.g. alertname="…")' });
  });
export type SilenceBody = z.output<typeof silenceBodySchema>;

/** Whether a matcher matches a label that is absent (the empty value). */
export function matchesEmpty(m: Matcher): boolean {
  switch (m.op) {
    case '=':
      return m.value === '';
    case '!=':
      return m.value !== '';
    case '=~':
    case '!~': {
      const re = matcherRegex(m.value);
      const hit = typeof re !== 'string' && re.test('');
      return m.op === '=~' ? hit : !hit;
    }
  }
}
