/**
 * Agent footprint: the bundled agent (plain Node) with 16 simulated Trainium2 chips at a 1 s
 * interval against a real hub, measured from /proc: CPU % of one core and peak RSS.
 * Budget: <= 60 MB RSS and <= 1 % of one core.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startHub } from '../server/hub.ts';
import { buildAgentBundle } from '../cli/build-agent-bundle.ts';
import { tempDir } from './support/temp-dir.ts';
import { procUsage } from './proc-usage.ts';
import type { BenchResult } from './bench-result.ts';

export async function agentFootprintBench(opts: { durationS: number; progress(msg: string): void }): Promise<BenchResult[]> {
  const tmp = tempDir('fleetscope-bench-');
  const bundle = await buildAgentBundle();
  const hub = await startHub({ port: 0, host: '127.0.0.1', db: join(tmp.dir, 'hub.db') });
  const results: BenchResult[] = [];
  try {
    // Auth is on (as by default): the agent sends an agent token, from the environment as deployed.
    const token = hub.tokens.create('agent', 'bench agent').token;
    const child = spawn(process.execPath, [bundle, '--hub', `ws://127.0.0.1:${hub.port}`, '--source', 'sim-neuron', '--interval', '1s', '--spool', join(tmp.dir, 'spool'), '--log-level', 'warn'], { stdio: 'ignore', env: { ...process.env, FLEETSCOPE_TOKEN: token } });
    const warmupS = 5;
    opts.progress(`agent footprint: warming up ${warmupS} s, then measuring ${opts.durationS} s`);
    await new Promise((r) => setTimeout(r, warmupS * 1000));
    const start = procUsage(child.pid!);
    const t0 = Date.now();
    let peakRss = start.rssBytes;
    while (Date.now() - t0 < opts.durationS * 1000) {
      await new Promise((r) => setTimeout(r, 1000));
      peakRss = Math.max(peakRss, procUsage(child.pid!).rssBytes);
      const done = Math.round((Date.now() - t0) / 1000);
      if (done % 10 === 0) opts.progress(`  ${done}/${opts.durationS} s`);
    }
    const end = procUsage(child.pid!);
    const elapsedS = (Date.now() - t0) / 1000;
    child.kill('SIGTERM');
    const stored = await hub.store.countSamples();
    const conditions = `bundled agent (node ${process.version}), sim-neuron 16 x Trainium2, interval 1 s, on-disk spool, hub on the same machine, ${Math.round(elapsedS)} s after ${warmupS} s warm-up; ${stored} samples stored`;
    results.push(
      { part: 'agent', metric: 'agent CPU (% of one core)', value: round((100 * (end.cpuS - start.cpuS)) / elapsedS, 2), unit: '%', target: '<= 1 %', pass: (100 * (end.cpuS - start.cpuS)) / elapsedS <= 1, conditions },
      { part: 'agent', metric: 'agent peak RSS', value: round(peakRss / 1e6, 1), unit: 'MB', target: '<= 60 MB', pass: peakRss <= 60e6, conditions },
    );
  } finally {
    await hub.close();
    tmp.cleanup();
  }
  return results;
}

const round = (n: number, d: number) => Math.round(n * 10 ** d) / 10 ** d;
