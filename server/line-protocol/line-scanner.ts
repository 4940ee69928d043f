/**
 * The generic part of reading InfluxDB line protocol: a scanner over one line of a body that
 * finds unescaped stop characters, unescapes tokens (`\,` `\=` `\ `), and reads a line's tags
 * and fields as given (numbers, booleans, quoted strings) without knowing what they mean. The
 * errors it throws carry the code of the answer (parse-line-protocol.ts reports them per line).
 * Pure: no I/O.
 */
import { parseFieldNumber } from './line-fields.ts';
import type { RawFieldValue } from './telegraf-nvidia-smi.ts';

/** `out_of_range`: a value, a timestamp or a count outside its bounds; `bad_request`: anything else. */
export type LineErrorCode = 'bad_request' | 'out_of_range';

export const CR = 13, SPACE = 32, TAB = 9, HASH = 35, COMMA = 44, EQ = 61, BSLASH = 92, QUOTE = 34;

/** A bad line: the message says what is wrong, the code how the request is answered. */
export class LineError extends Error {
  constructor(
    message: string,
    readonly code: LineErrorCode,
  ) {
    super(message);
  }
}

export function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

export function fail(message: string): never {
  throw new LineError(message, 'bad_request');
}

export function outOfRange(message: string): never {
  throw new LineError(message, 'out_of_range');
}

const BOOLEAN_WORDS = new Map<string, boolean>([
  ...['t', 'T', 'true', 'True', 'TRUE'].map((w) => [w, true] as const),
  ...['f', 'F', 'false', 'False', 'FALSE'].map((w) => [w, false] as const),
]);

/** Reads one line `s` from `pos` to `end`; the subclass gives the tags and fields their meaning. */
export class LineScanner {
  /** The line being read (set per line by the subclass). */
  protected s = '';
  protected pos = 0;
  protected end = 0;
  /** Whether the last scan() passed an escape sequence. */
  protected escaped = false;

  /** Every tag of the line as given (no fixed set), from pos to the first unescaped blank. */
  protected rawTags(): Map<string, string> {
    const s = this.s;
    const tags = new Map<string, string>();
    while (this.pos < this.end && s.charCodeAt(this.pos) === COMMA) {
      this.pos++;
      const key = this.token(EQ, COMMA, SPACE);
      if (this.pos >= this.end || s.charCodeAt(this.pos) !== EQ) fail(`tag ${JSON.stringify(key)} has no "=value"`);
      this.pos++;
      const value = this.token(COMMA, SPACE);
      if (key === '') fail('a tag has an empty key');
      if (value === '') fail(`tag ${JSON.stringify(key)} has an empty value`);
      if (tags.has(key)) fail(`tag ${JSON.stringify(key)} is given twice`);
      tags.set(key, value);
    }
    return tags;
  }

  /** Every field of the line: numbers, booleans and quoted strings (`\"` and `\\` escaped). */
  protected rawFields(): Map<string, RawFieldValue> {
    const s = this.s;
    const end = this.end;
    const fields = new Map<string, RawFieldValue>();
    for (;;) {
      const name = this.token(EQ, COMMA, SPACE);
      if (name === '') fail('a field has an empty name (or the line has a stray blank)');
      if (this.pos >= end || s.charCodeAt(this.pos) !== EQ) fail(`field ${JSON.stringify(name)} has no "=value"`);
      if (fields.has(name)) fail(`field ${JSON.stringify(name)} is given twice`);
      const a = this.pos + 1;
      let b = a;
      if (a < end && s.charCodeAt(a) === QUOTE) {
        b = a + 1;
        while (b < end && s.charCodeAt(b) !== QUOTE) b += s.charCodeAt(b) === BSLASH ? 2 : 1;
        if (b >= end) fail(`field ${JSON.stringify(name)}: the string value has no closing quote`);
        fields.set(name, s.slice(a + 1, b).replace(/\\(["\\])/g, '$1'));
        b++;
      } else {
        while (b < end) {
          const c = s.charCodeAt(b);
          if (c === COMMA || c === SPACE || c === TAB) break;
          b++;
        }
        if (a === b) fail(`field ${JSON.stringify(name)} has an empty value`);
        const v = parseFieldNumber(s, a, b);
        const raw = s.slice(a, b);
        if (typeof v === 'number') fields.set(name, v);
        else if (BOOLEAN_WORDS.has(raw)) fields.set(name, BOOLEAN_WORDS.get(raw)!);
        else fail(`field ${JSON.stringify(name)}: ${v}`);
      }
      this.pos = b;
      if (b < end && s.charCodeAt(b) === COMMA) {
        this.pos++;
        continue;
      }
      return fields;
    }
  }

  protected skipBlanks(): void {
    while (this.pos < this.end && isBlank(this.s.charCodeAt(this.pos))) this.pos++;
  }

  /**
   * Advance pos to the first unescaped stop char (a tab always stops) or the line end and return
   * that index. `\,` `\=` `\ ` are escapes (see unescape); any other backslash is literal.
   */
  protected scan(stop1: number, stop2: number, stop3: number): number {
    const s = this.s;
    const end = this.end;
    let i = this.pos;
    let escaped = false;
    while (i < end) {
      const c = s.charCodeAt(i);
      if (c === BSLASH && i + 1 < end) {
        const n = s.charCodeAt(i + 1);
        if (n === COMMA || n === EQ || n === SPACE) {
          escaped = true;
          i += 2;
          continue;
        }
      }
      if (c === stop1 || c === stop2 || c === stop3 || c === TAB) break;
      i++;
    }
    this.escaped = escaped;
    this.pos = i;
    return i;
  }

  /** s[a..b) with `\,` `\=` `\ ` turned into the bare character. */
  protected unescape(a: number, b: number): string {
    const s = this.s;
    let out = '';
    let from = a;
    for (let j = a; j < b; j++) {
      if (s.charCodeAt(j) === BSLASH) {
        const n = s.charCodeAt(j + 1);
        if (j + 1 < b && (n === COMMA || n === EQ || n === SPACE)) {
          out += s.slice(from, j);
          from = j + 1;
          j++;
        }
      }
    }
    return out + s.slice(from, b);
  }

  /** s[a..b), unescaped when it holds escapes. */
  protected text(a: number, b: number, escaped: boolean): string {
    return escaped ? this.unescape(a, b) : this.s.slice(a, b);
  }

  /** The (unescaped) token from pos to the first unescaped stop char. */
  protected token(stop1: number, stop2: number, stop3 = -1): string {
    const a = this.pos;
    const b = this.scan(stop1, stop2, stop3);
    return this.escaped ? this.unescape(a, b) : this.s.slice(a, b);
  }
}
