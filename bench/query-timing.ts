/**
 * Times /api/v1/series requests against a running hub, one at a time, from this process: warm-up
 * requests first, then timed ones (request sent to body fully received). Every answer is checked
 * (status 200, the expected number of points and columns, mostly non-null values); a failing
 * answer is listed, so its timing is never taken for a pass.
 */

export interface Expected {
  /** Points per series (x values), ± 1 allowed (the range may touch one more step bucket). */
  points: number;
  /** Columns in `data`: the x column plus one per series and field. */
  columns: number;
}

export interface Timing {
  n: number;
  p50: number;
  p95: number;
  max: number;
  /** Size of the last answer, bytes. */
  bytes: number;
  /** Points per series of the last answer. */
  points: number;
  /** Share of non-null values over all checked answers' value columns. */
  nonNull: number;
  failures: string[];
}

/** Nearest-rank percentile of ascending values. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Checks one answer; returns what is wrong, or null. Counts its values into `tally`. */
function check(status: number, text: string, expect: Expected, tally: { values: number; nonNull: number }): string | null {
  if (status !== 200) return `HTTP ${status}: ${text.slice(0, 200)}`;
  let body: { data?: (number | null)[][] };
  try {
    body = JSON.parse(text);
  } catch {
    return `not JSON: ${text.slice(0, 100)}`;
  }
  const data = body.data;
  if (!Array.isArray(data) || !Array.isArray(data[0])) return 'no data columns';
  if (data.length !== expect.columns) return `${data.length} columns, expected ${expect.columns}`;
  if (Math.abs(data[0].length - expect.points) > 1) return `${data[0].length} points, expected ${expect.points} ± 1`;
  for (const col of data.slice(1)) {
    tally.values += col.length;
    for (const v of col) if (v !== null) tally.nonNull++;
  }
  return null;
}

/** `warmup` untimed then `n` timed requests, cycling through `urls`, each with `headers` (e.g. the viewer token). */
export async function timeRequests(urls: readonly string[], warmup: number, n: number, expect: Expected, headers: Record<string, string> = {}): Promise<Timing> {
  const ms: number[] = [];
  const failures: string[] = [];
  const tally = { values: 0, nonNull: 0 };
  let bytes = 0;
  let points = 0;
  for (let i = 0; i < warmup + n; i++) {
    const url = urls[i % urls.length];
    const t0 = performance.now();
    const res = await fetch(url, { headers });
    const text = await res.text();
    const dt = performance.now() - t0;
    const problem = check(res.status, text, expect, tally);
    if (problem) failures.push(`${new URL(url).search}: ${problem}`);
    if (i >= warmup) ms.push(dt);
    bytes = Buffer.byteLength(text);
    if (!problem) points = (JSON.parse(text) as { data: unknown[][] }).data[0].length;
  }
  ms.sort((a, b) => a - b);
  const r1 = (x: number) => Math.round(x * 10) / 10;
  return { n, p50: r1(percentile(ms, 50)), p95: r1(percentile(ms, 95)), max: r1(ms[ms.length - 1]), bytes, points, nonNull: tally.values ? tally.nonNull / tally.values : 0, failures };
}
