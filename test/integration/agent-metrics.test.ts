/**
 * A real agent process with --metrics-port serves its own metrics: batches sent and acked move
 * as it pushes to a test hub, the hub connection and the source are up, and the text passes
 * `promtool check metrics` when Debian's prometheus package is installed. Without the flag
 * nothing listens.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../bench/support/free-port.ts';
import { runFleetscope, type Proc } from '../../bench/support/processes.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';
import { eventually } from '../helpers/ws-client.ts';

const PROMTOOL = process.env.FLEETSCOPE_PROMTOOL_BIN ?? '/usr/bin/promtool';

let hub: TestHub;
let agent: Proc | null = null;
beforeEach(async () => {
  hub = await startTestHub();
});
afterEach(async () => {
  agent?.child.kill('SIGTERM');
  await agent?.exited;
  agent = null;
  await hub.stop();
});

/** `name{labels}` -> value, otel_scope_* labels dropped. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels = (m[2] ?? '').split(/,(?=[a-z_]+=")/).filter((l) => l && !l.startsWith('otel_scope_')).join(',');
    out.set(`${m[1]}{${labels}}`, Number(m[3]));
  }
  return out;
}

describe('fleetscope agent --metrics-port', () => {
  it('serves the agent metrics while it pushes to the hub', async () => {
    const port = await freePort();
    agent = runFleetscope(['agent', '--hub', `ws://127.0.0.1:${hub.port}`, '--source', 'sim-nvml', '--interval', '200ms', '--spool', 'none', '--token', hub.token.agent, '--metrics-port', String(port), '--metrics-host', '127.0.0.1']);
    const read = async () => {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => null);
      return res?.ok ? res.text() : null;
    };
    let text = '';
    await eventually(async () => {
      const t = await read();
      if (t === null) return false;
      const m = parse(t);
      text = t;
      return (m.get('fleetscope_agent_batches_total{state="acked"}') ?? 0) >= 3;
    }, 20_000, 'three acked batches in the agent metrics');
    const m = parse(text);
    expect(m.get('fleetscope_agent_batches_total{state="produced"}')).toBeGreaterThanOrEqual(m.get('fleetscope_agent_batches_total{state="acked"}')!);
    expect(m.get('fleetscope_agent_samples_total{state="stored"}')! % 8).toBe(0);
    expect(m.get('fleetscope_agent_hub_connected{}')).toBe(1);
    expect(m.get('fleetscope_agent_source_up{source="sim-nvml"}')).toBe(1);
    expect(m.get('fleetscope_agent_spool_dropped_total{unit="samples"}')).toBe(0);
    expect(text).toMatch(/^target_info\{.*service_name="fleetscope-agent"/m);
    if (existsSync(PROMTOOL)) {
      const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(`${check.status} ${check.stdout}${check.stderr}`).toBe('0 ');
    }
  }, 40_000);

  it('listens on no port without the flag, and says so in --help', async () => {
    const help = runFleetscope(['agent', '--help']);
    await help.exited;
    expect(help.stdout()).toMatch(/--metrics-port\b.*\/metrics/);
    const port = await freePort();
    agent = runFleetscope(['agent', '--hub', `ws://127.0.0.1:${hub.port}`, '--source', 'sim-nvml', '--interval', '200ms', '--spool', 'none', '--token', hub.token.agent]);
    await eventually(async () => (await hub.store.countSamples()) >= 8, 20_000, 'the agent storing samples');
    expect(await fetch(`http://127.0.0.1:${port}/metrics`).then(() => 'answered', () => 'refused')).toBe('refused');
  }, 40_000);
});
