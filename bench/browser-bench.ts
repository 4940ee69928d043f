/**
 * Bench part `browser`: the dashboard's heatmap in headless Chromium (1920x1080) with 10,000 chips
 * (or --chips N) updating every second through a real hub: 625 agents of 16 chips from the live
 * generator process (random values each second), the page on `#/?density=heatmap`. Over the
 * window (--duration, default 30 s) after a 10 s settle: main-thread busy share (Chromium's
 * TaskDuration), long tasks (PerformanceObserver `longtask`: tasks over 50 ms), JS heap after a
 * forced GC at +10 s and at the end, bytes per second the page's /ws/live socket received; then
 * the draw time of a 43,200-point uPlot chart (12 h at 1 s) from `setData` to uPlot's `draw`.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './bench-result.ts';
import type { GeneratorConfig } from './live-generator.ts';
import { tempDir } from './support/temp-dir.ts';
import { ensureClientBuilt } from '../cli/client-build.ts';
import { silentLogger } from '../common/logger.ts';
import { freePort } from './support/free-port.ts';
import { createToken, runFleetscope } from './support/processes.ts';

type Opts = { durationS: number; progress(msg: string): void; chips?: number };
type PageState = { shown: number; live: number; draws: number; cell: number };

const GENERATOR = fileURLToPath(new URL('./live-generator.ts', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SETTLE_S = 10;
const CHART_POINTS = 43_200;

/** Finds `fleet-view`/`fleet-heatmap` through the shadow roots and reads what the bench needs. */
const PAGE_STATE = `(() => {
  const find = (root, sel) => { const el = root.querySelector(sel); if (el) return el; for (const h of root.querySelectorAll('*')) if (h.shadowRoot) { const f = find(h.shadowRoot, sel); if (f) return f; } return null; };
  const sum = find(document, '[data-testid="fleet-summary"]');
  const hm = find(document, 'fleet-heatmap');
  return { shown: Number(sum?.dataset.shown ?? 0), live: Number(sum?.dataset.live ?? 0), draws: Number(hm?.dataset.draws ?? 0), cell: Number(hm?.dataset.cell ?? 0) };
})()`;

export async function browserBench(opts: Opts): Promise<BenchResult[]> {
  const perAgent = 16;
  const agents = Math.ceil((opts.chips ?? 10_000) / perAgent);
  const chips = agents * perAgent;
  await ensureClientBuilt(silentLogger);
  const tmp = tempDir('fleetscope-browser-bench-');
  // The hub in its own process, as in production (an in-process hub would share this process with the CDP traffic).
  const db = join(tmp.dir, 'hub.db');
  const token = await createToken(db, 'agent');
  const port = await freePort();
  const hub = runFleetscope(['hub', '--port', String(port), '--host', '127.0.0.1', '--db', db, '--open', '--log-level', 'warn']);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const now = Date.now();
  const windowFrom = now + SETTLE_S * 1000 + 20_000;
  const gen: GeneratorConfig = { url: url.replace('http', 'ws'), token, agents, chips: perAgent, intervalMs: 1000, stopAt: windowFrom + opts.durationS * 1000 + 90_000, baselineUntil: now, windowFrom, windowTo: windowFrom + opts.durationS * 1000 };
  opts.progress(`browser: ${agents} agents x ${perAgent} chips at 1 s, heatmap in headless Chromium 1920x1080, ${opts.durationS} s`);
  const child = spawn(process.execPath, ['--import', 'tsx', GENERATOR, JSON.stringify(gen)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let genErr = '';
  child.stderr!.on('data', (d) => (genErr += d));
  let genExit: string | null = null;
  child.on('exit', (code, signal) => {
    genExit = `${code ?? signal}`;
    if (!closing) opts.progress(`browser: the generator exited (${genExit}) early${genErr ? `: ${genErr.slice(0, 300)}` : ''}`);
  });
  let closing = false;
  // A dev dependency: imported only when this part runs.
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    const state = async () => (await page.evaluate(PAGE_STATE)) as PageState;
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    await cdp.send('Network.enable');
    let wsBytes = 0;
    let wsFrames = 0;
    let fleetBytes = 0;
    cdp.on('Network.webSocketFrameReceived', (e: { response: { payloadData: string } }) => {
      const d = e.response.payloadData;
      wsBytes += d.length;
      wsFrames++;
      if (!d.startsWith('{"v":1,"type":"alert')) fleetBytes += d.length;
    });
    await page.goto(`${url}/#/?density=heatmap`);
    const deadline = Date.now() + 120_000;
    while ((await state()).shown < chips && Date.now() < deadline) await page.waitForTimeout(500);
    const ready = await state();
    opts.progress(`browser: page shows ${ready.shown} chips (${ready.live} live), cell ${ready.cell} px; settling ${SETTLE_S} s`);
    await page.waitForTimeout(Math.max(SETTLE_S * 1000, windowFrom - Date.now()));

    const metric = async (name: string) => ((await cdp.send('Performance.getMetrics')).metrics as { name: string; value: number }[]).find((m) => m.name === name)?.value ?? 0;
    const gcHeap = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      return metric('JSHeapUsedSize');
    };
    await page.evaluate(`window.__longTasks = []; new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longTasks.push([e.startTime, e.duration]); }).observe({ type: 'longtask' });`);
    const task0 = await metric('TaskDuration');
    const t0 = Date.now();
    const draws0 = (await state()).draws;
    wsBytes = 0;
    wsFrames = 0;
    fleetBytes = 0;
    await page.waitForTimeout(10_000);
    // The forced GC runs on the page's main thread: a long task of the bench's making, left out below.
    const gcFrom = (await page.evaluate('performance.now()')) as number;
    const heap10 = await gcHeap();
    const gcTo = (await page.evaluate('performance.now()')) as number;
    opts.progress(`browser: +10 s, ${(await state()).live} chips live in the page`);
    await page.waitForTimeout(Math.max(0, opts.durationS * 1000 - (Date.now() - t0)));
    const task1 = await metric('TaskDuration');
    const elapsedS = (Date.now() - t0) / 1000;
    const bytesPerS = wsBytes / elapsedS;
    const fleetBytesPerS = fleetBytes / elapsedS;
    const framesPerS = wsFrames / elapsedS;
    const allLongTasks = (await page.evaluate('window.__longTasks')) as [number, number][];
    const byGc = allLongTasks.filter(([at, d]) => at < gcTo && at + d > gcFrom);
    const longTasks = allLongTasks.filter((t) => !byGc.includes(t)).map(([, d]) => d);
    const end = await state();
    const hubLive = await fetch(`${url}/api/v1/chips`).then(async (r) => ((await r.json()) as { chips: { status: string }[] }).chips.filter((c) => c.status === 'live').length, () => -1);
    const draws = end.draws - draws0;
    const heapEnd = await gcHeap();
    // TaskDuration excludes the forced GCs' own time only approximately; they happen outside the page's tasks.
    const busyPct = (100 * (task1 - task0)) / elapsedS;
    const maxTask = longTasks.length ? Math.max(...longTasks) : 0;
    const heapGrowthMB = (heapEnd - heap10) / 2 ** 20;

    const chartMs = (await page.evaluate(`(async () => {
      const n = ${CHART_POINTS}, x = new Float64Array(n), y = new Float64Array(n), t = Math.floor(Date.now() / 1000) - n;
      for (let i = 0; i < n; i++) { x[i] = t + i; y[i] = 50 + 40 * Math.sin(i / 900) + 8 * Math.sin(i / 7); }
      document.body.replaceChildren();
      const el = document.createElement('uplot-chart');
      el.style.cssText = 'display:block;width:1800px;--chart-height:300px';
      let drawn; const done = new Promise((r) => (drawn = r));
      let armed = false;
      el.options = { scales: { x: { time: true } }, series: [{}, { label: 'util', stroke: '#5b8def' }], hooks: { draw: [() => armed && drawn(performance.now())] } };
      document.body.append(el);
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      armed = true;
      const start = performance.now();
      el.setData([Array.from(x), Array.from(y)]);
      return (await done) - start;
    })()`)) as number;

    const cond = `${chips.toLocaleString('en-US')} chips (${agents} agents x ${perAgent}, random values each second) through one hub (its own process), the page on #/?density=heatmap (cell ${end.cell} px) in headless Chromium 1920x1080 (--disable-gpu: software canvas), ${Math.round(elapsedS)} s window after the page showed every chip and ${SETTLE_S} s more; hub, generator and Chromium on the same machine; at the end ${end.live.toLocaleString('en-US')} chips live in the page, ${hubLive.toLocaleString('en-US')} at the hub; ${draws} heatmap redraws, ${framesPerS.toFixed(1)} live frames/s (alert frames included: random values make built-in alerts flap)`;
    return [
      { part: 'browser', metric: `main-thread busy, ${chips.toLocaleString('en-US')} chips at 1 s`, value: Math.round(busyPct * 10) / 10, unit: '%', target: '< 25 %', pass: busyPct < 25, conditions: cond },
      { part: 'browser', metric: 'longest main-thread task over 50 ms (0: none)', value: Math.round(maxTask), unit: 'ms', target: '≤ 50 ms', pass: maxTask <= 50, conditions: `${cond}; ${longTasks.length} tasks over 50 ms; left out: ${byGc.length} during the bench's forced GC at +10 s (${byGc.map(([, d]) => `${Math.round(d)} ms`).join(', ') || 'none'})` },
      { part: 'browser', metric: 'JS heap growth from +10 s to the end (after GC)', value: Math.round(heapGrowthMB * 10) / 10, unit: 'MB', target: '≤ 5 MB (flat)', pass: heapGrowthMB <= 5, conditions: `${cond}; heap at +10 s ${(heap10 / 2 ** 20).toFixed(1)} MB, at the end ${(heapEnd / 2 ** 20).toFixed(1)} MB` },
      { part: 'browser', metric: 'live fleet feed to the page (fleet-columns, status, inventory)', value: Math.round(fleetBytesPerS / 1000), unit: 'kB/s', target: '—', pass: true, conditions: `${cond}; all /ws/live frames, alert frames included: ${Math.round(bytesPerS / 1000)} kB/s` },
      { part: 'browser', metric: `${CHART_POINTS.toLocaleString('en-US')}-point chart, setData to drawn`, value: Math.round(chartMs * 10) / 10, unit: 'ms', target: '< 100 ms', pass: chartMs < 100, conditions: 'one uPlot line chart 1800x300 px in the same page, times x 12 h at 1 s; software canvas' },
    ];
  } finally {
    closing = true;
    await browser.close();
    child.kill();
    hub.child.kill('SIGTERM');
    await hub.exited;
    tmp.cleanup();
  }
}
