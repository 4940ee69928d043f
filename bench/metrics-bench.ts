/**
 * `fleetscope bench metrics`: GET /metrics/fleet at 10,000 chips (or --chips N), as Prometheus
 * scrapes it. A hub (auth off, temporary database) learns the fleet through POST /api/v1/write:
 * 60 % Trainium2 on hosts of 16 (no temperature, 8 per-core utilizations each), 40 % H100 on
 * hosts of 8, values that move; then scrapes run one at a time from this process (request sent to
 * body received) while every chip is live. Figures: scrape p50/p95, body size (and its gzip size
 * when the scraper asks for gzip), the series written; the text is checked to hold every chip.
 */
import { request } from 'node:http';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { startHub } from '../server/hub.ts';
import type { BenchResult } from './bench-result.ts';
import { chipFraction, movingSample } from './moving-values.ts';
import { percentile } from './query-timing.ts';
import { tempDir } from './support/temp-dir.ts';

const WRITE_LINES = 2_000;

/** Line-protocol lines for every chip at time t. */
function fleetLines(chips: number, t: number): string[] {
  const lines: string[] = [];
  const trn = Math.round(chips * 0.6);
  for (let i = 0; i < chips; i++) {
    const aws = i < trn;
    const host = aws ? `trn2-${Math.floor(i / 16)}` : `p5-${Math.floor((i - trn) / 8)}`;
    const idx = aws ? i % 16 : (i - trn) % 8;
    const s = movingSample('', idx, chipFraction(Math.floor(i / 16), idx), t, 1e6 + i);
    const tags = aws
      ? `chip,host=${host},chip=i-${host}-neuron${idx},vendor=aws,model=Trainium2,instance_type=trn2.48xlarge`
      : `chip,host=${host},chip=GPU-${host}-${idx},vendor=nvidia,model=H100,instance_type=p5.48xlarge`;
    const common = `util_pct=${s.utilPct},mem_used_bytes=${s.memUsedBytes}i,mem_total_bytes=${s.memTotalBytes}i,power_w=${s.powerW},power_limit_w=700,energy_j=${s.energyJ},ecc_uncorrected=0i`;
    const extra = aws ? Array.from({ length: 8 }, (_, c) => `,nc${c}=${(s.utilPct + c) % 100}`).join('') : `,temp_c=${s.tempC},mem_util_pct=${s.memUtilPct}`;
    lines.push(`${tags} ${common}${extra} ${t}`);
  }
  return lines;
}

async function write(url: string, lines: string[]): Promise<void> {
  for (let i = 0; i < lines.length; i += WRITE_LINES) {
    const res = await fetch(`${url}/api/v1/write?precision=ms`, { method: 'POST', body: lines.slice(i, i + WRITE_LINES).join('\n') });
    if (res.status !== 204) throw new Error(`write failed: HTTP ${res.status} ${await res.text()}`);
  }
}

export async function metricsBench(opts: { durationS: number; progress(msg: string): void; chips?: number }): Promise<BenchResult[]> {
  const chips = opts.chips ?? 10_000;
  const n = Math.max(30, opts.durationS);
  const tmp = tempDir();
  const hub = await startHub({ port: 0, host: '127.0.0.1', db: join(tmp.dir, 'metrics-bench.db'), auth: { open: true } });
  try {
    opts.progress(`metrics: writing ${chips} chips`);
    let wroteAt = Date.now();
    await write(hub.url, fleetLines(chips, wroteAt - 1000));
    // Line-protocol chips turn stale 30 s after their last write: write again between scrapes.
    const keepLive = async () => {
      if (Date.now() - wroteAt < 10_000) return;
      wroteAt = Date.now();
      await write(hub.url, fleetLines(chips, wroteAt - 1000));
    };
    for (let i = 0; i < 3; i++) await scrape(hub.url, false);
    opts.progress(`metrics: ${n} scrapes of /metrics/fleet, plain and with gzip`);
    const plain: number[] = [];
    const zipped: number[] = [];
    let last = await scrape(hub.url, false);
    let lastGz = await scrape(hub.url, true);
    for (let i = 0; i < n; i++) {
      await keepLive();
      plain.push((last = await scrape(hub.url, false)).ms);
      zipped.push((lastGz = await scrape(hub.url, true)).ms);
    }
    plain.sort((a, b) => a - b);
    zipped.sort((a, b) => a - b);
    const text = last.body.toString('utf8');
    const up = (text.match(/^fleetscope_chip_up\{.*\} 1$/gm) ?? []).length;
    const series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
    if (up !== chips) throw new Error(`/metrics/fleet lists ${up} live chips, expected ${chips}`);
    if (gunzipSync(lastGz.body).length !== last.body.length) throw new Error('the gzip answer does not inflate to the plain one');
    const conditions = `${chips} chips (60 % Trainium2 with 8 per-core utilizations, 40 % H100), all live, fed by POST /api/v1/write (again every 10 s, between scrapes); ${n} scrapes of each kind one at a time from the same machine, request to last byte; default names`;
    const r = (metric: string, value: number, unit: string, target: string, pass: boolean): BenchResult => ({ part: 'metrics', metric, value: Math.round(value * 100) / 100, unit, target, pass, conditions });
    return [
      r(`/metrics/fleet scrape p50 at ${chips} chips, plain`, percentile(plain, 50), 'ms', '—', true),
      r(`/metrics/fleet scrape p95 at ${chips} chips, plain`, percentile(plain, 95), 'ms', '≤ 1000 ms', percentile(plain, 95) <= 1000),
      r(`/metrics/fleet scrape p50 at ${chips} chips, gzip (as Prometheus asks)`, percentile(zipped, 50), 'ms', '—', true),
      r(`/metrics/fleet scrape p95 at ${chips} chips, gzip (as Prometheus asks)`, percentile(zipped, 95), 'ms', '≤ 1000 ms', percentile(zipped, 95) <= 1000),
      r('/metrics/fleet body, plain', last.body.byteLength / 1e6, 'MB', '—', true),
      r('/metrics/fleet body, gzip', lastGz.body.byteLength / 1e6, 'MB', '—', true),
      r('/metrics/fleet series', series, 'series', '—', true),
    ];
  } finally {
    await hub.close();
    tmp.cleanup();
  }
}

/** One scrape as Prometheus makes it (node:http, no decoding): time to the last byte, the bytes on the wire. */
function scrape(url: string, gzip: boolean): Promise<{ ms: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(`${url}/metrics/fleet`, { headers: { 'accept-encoding': gzip ? 'gzip' : 'identity' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const ms = performance.now() - t0;
        if (res.statusCode !== 200) return reject(new Error(`/metrics/fleet: HTTP ${res.statusCode}`));
        if (gzip !== (res.headers['content-encoding'] === 'gzip')) return reject(new Error(`/metrics/fleet: content-encoding ${res.headers['content-encoding']} for accept-encoding ${gzip ? 'gzip' : 'identity'}`));
        resolve({ ms, body: Buffer.concat(chunks) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}
