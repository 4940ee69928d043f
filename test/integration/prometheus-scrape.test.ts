/**
 * Against a REAL Prometheus (Debian's `prometheus`, started on loopback with a temporary config
 * and storage): it scrapes a test hub's /metrics and /metrics/fleet every second with a viewer
 * token (`authorization: { credentials: … }`); through Prometheus's query API the hub's ingest
 * counter increases and every simulated chip's power is there with a value the agent sent.
 * `promtool check metrics` accepts both endpoints' text. Also: both endpoints refuse a request
 * without a token, /readyz answers without one.
 *
 * Without the binaries the tests are skipped, except under CI (`CI` set), where that is a failure:
 * .ci/run installs them (apt-get install -y prometheus).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../bench/support/free-port.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';
import type { ChipInfo } from '../../schema/sample.ts';
import { batch, chipInfo, hello, sample } from '../helpers/frames.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';
import type { TestSocket } from '../helpers/ws-client.ts';

const PROMETHEUS = process.env.FLEETSCOPE_PROMETHEUS_BIN ?? '/usr/bin/prometheus';
const PROMTOOL = process.env.FLEETSCOPE_PROMTOOL_BIN ?? '/usr/bin/promtool';
const present = existsSync(PROMETHEUS) && existsSync(PROMTOOL);

if (!present && process.env.CI) {
  describe('Prometheus', () => {
    it('is installed (CI scrapes the hub with a real one)', () => {
      expect.fail(`${PROMETHEUS} or ${PROMTOOL} is missing: install them with \`apt-get install -y prometheus\` (see .ci/run)`);
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Two simulated hosts: 4 H100 and 4 Trainium2 (no temperature, as on real Neuron hosts). */
const GPUS: ChipInfo[] = [0, 1, 2, 3].map((i) => chipInfo(i, { chipId: `GPU-prom-${i}` }));
const TRNS: ChipInfo[] = [0, 1, 2, 3].map((i) => chipInfo(i, { chipId: `i-0prom-neuron${i}`, vendor: 'aws', model: 'Trainium2', cores: 8 }));
/** The power a chip reports at tick k: distinct per chip, moving. */
const powerOf = (chip: number, k: number) => 100 + chip * 50 + (k % 7);

describe.skipIf(!present)('a real Prometheus scraping the hub', () => {
  let prom: ChildProcess;
  let promLog = '';
  let promUrl: string;
  let hub: TestHub;
  let tmp: ReturnType<typeof tempDir>;
  const agents: TestSocket[] = [];
  let ticker: NodeJS.Timeout;
  /** chipId -> every power value sent. */
  const sent = new Map<string, Set<number>>();

  const query = async (q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await res.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success') throw new Error(`query ${q}: ${JSON.stringify(body)}`);
    return body.data.result;
  };
  const until = async <T>(what: string, fn: () => Promise<T | null>, ms = 20_000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (v !== null) return v;
      if (Date.now() > end) throw new Error(`${what} not seen within ${ms} ms; prometheus log:\n${promLog.slice(-3000)}`);
      await sleep(200);
    }
  };

  beforeAll(async () => {
    tmp = tempDir();
    hub = await startTestHub();
    for (const [id, chips] of [['prom-p5', GPUS], ['prom-trn2', TRNS]] as const) {
      const a = await hub.ws('/ws/agent');
      a.send(hello(id, chips));
      await a.waitFor((f) => f.type === 'welcome');
      agents.push(a);
    }
    let k = 0;
    let seq = 0;
    const tick = () => {
      k++;
      seq++;
      const ts = Date.now();
      agents.forEach((a, ai) => {
        const chips = ai === 0 ? GPUS : TRNS;
        a.send(batch(seq, chips.map((c, i) => {
          const p = powerOf(ai * 4 + i, k);
          (sent.get(c.chipId) ?? sent.set(c.chipId, new Set()).get(c.chipId)!).add(p);
          return sample(c.chipId, ts, { powerW: p, ...(ai === 1 ? { tempC: null } : {}) });
        })));
      });
    };
    tick();
    ticker = setInterval(tick, 250);

    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    const config = join(tmp.dir, 'prometheus.yml');
    const target = `127.0.0.1:${hub.port}`;
    const job = (name: string, path: string) => [
      `  - job_name: ${name}`,
      `    metrics_path: ${path}`,
      '    scrape_interval: 1s',
      '    scrape_timeout: 1s',
      '    authorization:',
      `      credentials: ${hub.token.viewer}`,
      '    static_configs:',
      `      - targets: ['${target}']`,
    ];
    writeFileSync(config, ['global:', '  scrape_interval: 1s', 'scrape_configs:', ...job('fleetscope-hub', '/metrics'), ...job('fleetscope-fleet', '/metrics/fleet'), ''].join('\n'));
    prom = spawn(PROMETHEUS, [`--config.file=${config}`, `--storage.tsdb.path=${join(tmp.dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    prom.stdout!.on('data', (d) => (promLog += d));
    prom.stderr!.on('data', (d) => (promLog += d));
    await until('Prometheus ready', async () => {
      if (prom.exitCode !== null) throw new Error(`prometheus exited ${prom.exitCode}: ${promLog}`);
      return (await fetch(`${promUrl}/-/ready`).then((r) => r.ok, () => false)) ? true : null;
    });
  }, 40_000);

  afterAll(async () => {
    clearInterval(ticker);
    prom?.kill('SIGTERM');
    if (prom && prom.exitCode === null) await new Promise((r) => prom.once('exit', r));
    for (const a of agents) a.close();
    await hub?.stop();
    tmp?.cleanup();
  });

  it('scrapes both endpoints with the viewer token, at least twice', async () => {
    await until('two successful scrapes of each job', async () => {
      const r = await query('count_over_time(up[1m]) >= 2 and up == 1');
      const jobs = new Set(r.map((s) => s.metric.job));
      return jobs.has('fleetscope-hub') && jobs.has('fleetscope-fleet') ? true : null;
    });
  });

  it("finds the hub's ingest counter increasing", async () => {
    const read = async () => Number((await query('fleetscope_ingest_samples_total{job="fleetscope-hub",way="ws"}'))[0]?.value[1] ?? NaN);
    const first = await until('the ingest counter', async () => {
      const v = await read();
      return v > 0 ? v : null;
    });
    const later = await until('a larger ingest count', async () => {
      const v = await read();
      return v > first ? v : null;
    });
    expect(later).toBeGreaterThan(first);
    const rate = await query('rate(fleetscope_ingest_samples_total{way="ws"}[10s])');
    expect(Number(rate[0]?.value[1])).toBeGreaterThan(0);
  }, 30_000);

  it("finds every simulated chip's power, with a value its agent sent", async () => {
    const all = [...GPUS, ...TRNS].map((c) => c.chipId).sort();
    const series = await until('every chip in fleetscope_chip_power_watts', async () => {
      const r = await query('fleetscope_chip_power_watts{job="fleetscope-fleet"}');
      return r.length === all.length ? r : null;
    });
    expect(series.map((s) => s.metric.chip).sort()).toEqual(all);
    for (const s of series) {
      expect(sent.get(s.metric.chip)!.has(Number(s.value[1])), `${s.metric.chip} = ${s.value[1]}`).toBe(true);
      expect(s.metric.vendor).toBe(s.metric.chip.startsWith('GPU') ? 'nvidia' : 'aws');
    }
    // Neuron chips have no temperature: the series is absent, not 0.
    const temps = await query('fleetscope_chip_temperature_celsius{job="fleetscope-fleet"}');
    expect(temps.map((s) => s.metric.chip).sort()).toEqual(GPUS.map((c) => c.chipId));
    const up = await query('fleetscope_chip_up == 1');
    expect(up).toHaveLength(all.length);
  }, 30_000);

  it('promtool check metrics accepts /metrics and /metrics/fleet (also with neuron names)', async () => {
    for (const path of ['/metrics', '/metrics/fleet', '/metrics/fleet?names=neuron']) {
      const res = await fetch(`${hub.url}${path}`, { headers: hub.auth('viewer') });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      expect(text.length).toBeGreaterThan(100);
      const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(`${path}: ${check.status} ${check.stdout}${check.stderr}`).toBe(`${path}: 0 `);
    }
    // dcgm-exporter's own names break two lint rules (camelCase labels, a counter without _total),
    // as dcgm-exporter's do: those are the only findings; the text parses.
    const dcgm = await (await fetch(`${hub.url}/metrics/fleet?names=dcgm`, { headers: hub.auth('viewer') })).text();
    expect(dcgm).toMatch(/^DCGM_FI_DEV_POWER_USAGE\{gpu="0",UUID="GPU-prom-0",/m);
    const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: dcgm, encoding: 'utf8' });
    const findings = `${check.stdout}${check.stderr}`.trim().split('\n');
    expect(findings.filter((f) => !/^DCGM_FI_\w+ (label names should be written in 'snake_case' not 'camelCase'|counter metrics should have "_total" suffix)$/.test(f))).toEqual([]);
    expect(findings).toContain('DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter metrics should have "_total" suffix');
  });

  it('refuses the metrics endpoints without a token; /readyz needs none', async () => {
    for (const path of ['/metrics', '/metrics/fleet']) expect((await fetch(`${hub.url}${path}`)).status).toBe(401);
    expect((await fetch(`${hub.url}/metrics/fleet`, { headers: hub.auth('agent') })).status).toBe(403);
    const ready = await fetch(`${hub.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', writer: 'ok' }, reasons: [] });
  });
});
