/**
 * Pieces of the Prometheus text exposition format (version 0.0.4): label value escaping, sample
 * values, and a growing byte buffer the exposition is written into (no string of many megabytes
 * is built and re-encoded: at 10,000 chips that costs more than the rest). No I/O.
 */

/** A label value as the text format wants it: backslash, double quote and newline escaped. */
export function escapeLabelValue(v: string): string {
  let needs = false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 92 || c === 34 || c === 10) {
      needs = true;
      break;
    }
  }
  if (!needs) return v;
  return v.replace(/[\\"\n]/g, (ch) => (ch === '\n' ? '\\n' : '\\' + ch));
}

/** HELP text escaping: backslash and newline only. */
export function escapeHelp(v: string): string {
  return v.replace(/[\\\n]/g, (ch) => (ch === '\n' ? '\\n' : '\\\\'));
}

/**
 * `{a="x",b="y"` — a label set left open, so a family can add labels before the `}`; from ordered
 * pairs (values escaped; a null value is written as "").
 */
export function openLabelSet(pairs: readonly (readonly [string, string | number | null])[]): string {
  let out = '{';
  for (let i = 0; i < pairs.length; i++) {
    const [k, v] = pairs[i];
    out += `${i ? ',' : ''}${k}="${v === null ? '' : escapeLabelValue(String(v))}"`;
  }
  return out;
}

/** `,name="value"`: a label added to an open set (value escaped). */
export function extraLabel(name: string, value: string | number): string {
  return `,${name}="${escapeLabelValue(String(value))}"`;
}

/** A sample value: Go's ParseFloat reads what String(number) writes, and ±Inf/NaN are spelled out. */
export function formatValue(v: number): string {
  if (Number.isFinite(v)) return String(v);
  if (Number.isNaN(v)) return 'NaN';
  return v > 0 ? '+Inf' : '-Inf';
}

export type MetricType = 'gauge' | 'counter';

/** `# HELP` and `# TYPE` lines of a family. */
export function familyHeader(name: string, type: MetricType, help: string): string {
  return `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
}

/** A byte buffer that grows as the exposition is written into it. */
export class TextBuffer {
  private buf: Buffer;
  private pos = 0;

  constructor(initial = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Bytes as they are (pre-encoded names and label sets). */
  bytes(b: Buffer): void {
    this.ensure(b.length);
    this.pos += b.copy(this.buf, this.pos);
  }

  /** Text that is ASCII only (numbers, fixed names): one byte a character. */
  ascii(s: string): void {
    this.ensure(s.length);
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  /** Any text, UTF-8. */
  text(s: string): void {
    this.ensure(Buffer.byteLength(s));
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  get length(): number {
    return this.pos;
  }

  /** What was written (a view of the buffer: write nothing more after taking it). */
  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** The Content-Type of the text format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
