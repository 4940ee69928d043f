/**
 * Alert events share most of their text: every transition of an alert carries the same labels, and
 * a rule's description (or a summary such as "… 0 % busy …") repeats across transitions and chips.
 * Stored inline, that text was ~80 % of an event's bytes. A history row now refers to shared texts by
 * content hash; the texts live once in `alert_texts`:
 * - the labels column holds `#<hash>` (rows written before hold the JSON itself);
 * - the annotations (as JSON) with the event's value as messages show it (templates.ts
 *   formatValue), where it stands as a word of its own, taken out, become `{"#v": hash}`, the value
 *   put back on reading: a summary such as "… at 98.3 % of its power limit" is one text for all of
 *   the alert's transitions. Exact whatever produced the text: the mark put in the value's place
 *   (VALUE_MARK) is never in a text it is applied to, and the value is the row's own `value`;
 * - annotations without the value in them become `{"#": hash}` once this writer has met them
 *   before; met for the first time they stay inline (a text that never repeats would only add a row);
 * - startsAt and endsAt go in as ms before the event's time (`#s`, `#e`; `#s` left out when 0),
 *   where rows written before hold `__startsAt` and `__endsAt` as epoch ms.
 *
 * A text's `last_at` is the newest event that referred to it, written when the text is new and
 * refreshed once it is TEXT_REFRESH_MS old, so pruning the texts with `last_at` older than the
 * history's cutoff minus TEXT_REFRESH_MS never drops one a kept event refers to. A reader that
 * meets a missing text (a row pruned by hand) reads the labels or annotations as absent.
 */
import { createHash } from 'node:crypto';
import type { AlertEvent } from './alert-events.ts';
import { formatValue } from './templates.ts';

/** How stale a text's `last_at` may get before an event referring to it writes it again. */
export const TEXT_REFRESH_MS = 60 * 60 * 1000;
/** The annotations key naming the shared text that holds the event's annotations (no annotation key starts with `#`). */
export const REFS_KEY = '#';
/** …or the one with the event's value to put back in place of VALUE_MARK. */
export const VALUE_REFS_KEY = '#v';
const STARTS_KEY = '#s';
const ENDS_KEY = '#e';
/** Annotations shorter than this as JSON stay inline (a reference would not be shorter). */
const MIN_SHARED = 40;
const VALUE_MARK = '\u0001';
const REF = '#';
/** Hashes remembered per writer (as met, or as written with their last_at) before it starts over (~6 MB each at most). */
const MEMORY = 100_000;

export interface AlertText {
  hash: string;
  text: string;
  lastAt: number;
}

/** The content hash a text is stored under: 96 bits of SHA-256, base64url. */
export const textHash = (text: string): string => createHash('sha256').update(text).digest('base64url').slice(0, 16);

/** An event's labels and annotations columns, and the shared texts it refers to. */
export interface CompactEvent {
  labels: string;
  annotations: string;
  texts: AlertText[];
}

/**
 * What one writer wrote, by key, with the time (`last_at`) it wrote: a key is fresh until
 * TEXT_REFRESH_MS after that, then written again, so a prune that keeps rows whose `last_at` is
 * within TEXT_REFRESH_MS of its cutoff never drops one a writer still counts as written. Bounded:
 * forgetting only costs a write.
 */
export class WrittenKeys<V> {
  private readonly written = new Map<string, { value: V; at: number }>();

  /** The value written under `key`, unless unknown or TEXT_REFRESH_MS old at `at`. */
  fresh(key: string, at: number): V | undefined {
    const w = this.written.get(key);
    return w !== undefined && at < w.at + TEXT_REFRESH_MS ? w.value : undefined;
  }

  wrote(key: string, value: V, at: number): void {
    if (this.written.size >= MEMORY) this.written.clear();
    this.written.set(key, { value, at });
  }

  /** Forget a write (the transaction that made it rolled back). */
  forget(key: string): void {
    this.written.delete(key);
  }
}

/**
 * One writer's memory of texts, by hash (one per connection that writes events): which annotations
 * without a value it has met (a second meeting stores them by reference) and which texts it wrote,
 * with their last_at (no write again until TEXT_REFRESH_MS later). Both are bounded; forgetting
 * only costs a write.
 */
export class AlertTextWriter {
  /** Hashes of annotations met once, not yet shared. */
  private readonly met = new Set<string>();
  /** Hashes of the texts written, with the last_at written. */
  private readonly written = new WrittenKeys<true>();

  /** The columns of `e`'s row; `labels` is e.labels as JSON. */
  compact(e: AlertEvent, labels: string): CompactEvent {
    const texts: AlertText[] = [];
    const whole = JSON.stringify(e.annotations);
    const shared = whole.length < MIN_SHARED ? null : withoutValue(whole, formatValue(e.value));
    let annotations: Record<string, unknown> = { ...e.annotations };
    if (shared !== null) {
      // Without its value the text is the alert's for all its transitions: shared from the first.
      annotations = { [VALUE_REFS_KEY]: this.refer(shared, textHash(shared), e.at, texts) };
    } else if (whole.length >= MIN_SHARED) {
      const hash = textHash(whole);
      if (this.meet(hash)) annotations = { [REFS_KEY]: this.refer(whole, hash, e.at, texts) };
    }
    // Times as ms before the event's own: startsAt left out when it is the event's time (going pending).
    if (e.startsAt !== e.at) annotations[STARTS_KEY] = e.at - e.startsAt;
    if (e.endsAt !== null) annotations[ENDS_KEY] = e.at - e.endsAt;
    return { labels: REF + this.refer(labels, textHash(labels), e.at, texts), annotations: JSON.stringify(annotations), texts };
  }

  /** True when the text (by its hash) was met before. */
  private meet(hash: string): boolean {
    if (this.met.has(hash)) return true;
    if (this.met.size >= MEMORY) this.met.clear();
    this.met.add(hash);
    return false;
  }

  /** The text's hash; the text goes into `texts` unless this writer wrote it less than TEXT_REFRESH_MS before `at`. */
  private refer(text: string, hash: string, at: number, texts: AlertText[]): string {
    if (this.written.fresh(hash, at) === undefined) {
      this.written.wrote(hash, true, at);
      texts.push({ hash, text, lastAt: at });
    }
    return hash;
  }

  /** Forget what was written (the transaction that wrote it rolled back). */
  forgetWritten(texts: readonly AlertText[]): void {
    for (const t of texts) this.written.forget(t.hash);
  }
}

/** A letter, digit or `_` (a regular expression's \\w). */
const isWordChar = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

/**
 * `text` with each word-alone `value` (not after a word character or `.`, not before a word
 * character) replaced by VALUE_MARK; null when it has none (or has the mark).
 */
function withoutValue(text: string, value: string): string | null {
  if (text.includes(VALUE_MARK)) return null;
  let out = '';
  let from = 0;
  for (let at = text.indexOf(value); at >= 0; at = text.indexOf(value, at + 1)) {
    const before = at > 0 ? text.charCodeAt(at - 1) : -1;
    const after = at + value.length < text.length ? text.charCodeAt(at + value.length) : -1;
    if (at < from || isWordChar(before) || before === 46 || isWordChar(after)) continue;
    out += text.slice(from, at) + VALUE_MARK;
    from = at + value.length;
  }
  return from === 0 ? null : out + text.slice(from);
}

/** The texts of a pass, one per hash (the newest last_at): one statement may not upsert a row twice. */
export function distinctTexts(texts: readonly AlertText[]): AlertText[] {
  const byHash = new Map<string, AlertText>();
  for (const t of texts) {
    const had = byHash.get(t.hash);
    if (!had || t.lastAt > had.lastAt) byHash.set(t.hash, t);
  }
  return [...byHash.values()];
}

/** The hashes a stored row refers to (its labels column, its annotations' `#` or `#v`). */
export function referencedHashes(labels: string, annotations: Record<string, unknown>): string[] {
  const out = labels.startsWith(REF) ? [labels.slice(1)] : [];
  for (const h of [annotations[REFS_KEY], annotations[VALUE_REFS_KEY]]) if (typeof h === 'string') out.push(h);
  return out;
}

/** A stored labels column as text (JSON): itself, or the shared text it names ('{}' when gone). */
export const labelsOfRow = (labels: string, texts: ReadonlyMap<string, string>): string => (labels.startsWith(REF) ? (texts.get(labels.slice(1)) ?? '{}') : labels);

/**
 * An event's startsAt and endsAt from its stored annotations (parsed), whose time keys are taken
 * out: `#s` / `#e` (ms before the event's time), or `__startsAt` / `__endsAt` (epoch ms as text)
 * in rows written before.
 */
export function eventTimes(at: number, annotations: Record<string, unknown>): { startsAt: number; endsAt: number | null } {
  const before = (key: string, legacy: string): number | null => {
    const v = annotations[key];
    const old = annotations[legacy];
    delete annotations[key];
    delete annotations[legacy];
    if (typeof v === 'number') return at - v;
    return typeof old === 'string' ? Number(old) : null;
  };
  const startsAt = before(STARTS_KEY, '__startsAt') ?? at;
  return { startsAt, endsAt: before(ENDS_KEY, '__endsAt') };
}

/** Stored annotations (parsed, times taken out) of an event with this value, its shared text put back. */
export function expandAnnotations(annotations: Record<string, unknown>, value: number | null, texts: ReadonlyMap<string, string>): Record<string, string> {
  for (const key of [REFS_KEY, VALUE_REFS_KEY]) {
    const hash = annotations[key];
    delete annotations[key];
    const text = typeof hash === 'string' ? texts.get(hash) : undefined;
    if (text === undefined) continue;
    try {
      Object.assign(annotations, JSON.parse(key === VALUE_REFS_KEY ? text.split(VALUE_MARK).join(formatValue(value)) : text));
    } catch {
      // a damaged text reads as absent
    }
  }
  return annotations as Record<string, string>;
}
