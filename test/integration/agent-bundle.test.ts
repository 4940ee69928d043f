/**
 * The agent as shipped to hosts (cli/build-agent-bundle.ts): its own file carries neither zod
 * nor the OpenTelemetry SDK (the code every start parses, and the agent's memory), the SDK comes
 * from the file beside it only for --metrics-port, and an agent without that file still pushes
 * samples but refuses --metrics-port with a message that names the file.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAgentBundle, buildAgentOnly } from '../../cli/build-agent-bundle.ts';
import { AGENT_TELEMETRY_FILE } from '../../cli/agent-telemetry-file.ts';
import { freePort } from '../../bench/support/free-port.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';
import { eventually } from '../helpers/ws-client.ts';

let hub: TestHub;
let dir: { dir: string; cleanup(): void };
let bundle: string;
beforeAll(async () => {
  hub = await startTestHub();
  dir = tempDir();
  bundle = await buildAgentBundle(dir.dir);
}, 60_000);
afterAll(async () => {
  await hub.stop();
  dir.cleanup();
});

/** The bundle as a process; resolves its exit code and output. */
function runAgent(file: string, args: string[]) {
  const child = spawn(process.execPath, [file, '--hub', `ws://127.0.0.1:${hub.port}`, '--source', 'sim-nvml', '--interval', '200ms', '--spool', 'none', '--token', hub.token.agent, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exited, out: () => out };
}

describe('the agent bundle', () => {
  it('leaves zod and the OpenTelemetry SDK out of the agent file', async () => {
    const { metafile } = await buildAgentOnly(dir.dir, false);
    const packages = new Set(Object.keys(metafile.inputs).flatMap((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)?.[1] ?? []));
    expect([...packages].sort()).toEqual(['ws']);
    const [output] = Object.values(metafile.outputs);
    expect(output.imports.filter((i) => i.external && i.path.startsWith('.')).map((i) => i.path)).toEqual([`./${AGENT_TELEMETRY_FILE}`]);
  });

  it('serves its metrics from the telemetry file beside it', async () => {
    expect(existsSync(join(dir.dir, AGENT_TELEMETRY_FILE))).toBe(true);
    const port = await freePort();
    const agent = runAgent(bundle, ['--metrics-port', String(port), '--metrics-host', '127.0.0.1']);
    try {
      await eventually(async () => {
        const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => (r.ok ? r.text() : ''), () => '');
        return /^fleetscope_agent_batches_total\{state="acked"[^}]*\} [1-9]/m.test(text);
      }, 20_000, 'acked batches in the bundled agent metrics');
    } finally {
      agent.child.kill('SIGTERM');
      await agent.exited;
    }
  }, 40_000);

  it('without the telemetry file: pushes samples, and refuses --metrics-port naming the file', async () => {
    const alone = tempDir();
    try {
      const file = join(alone.dir, 'fleetscope-agent.mjs');
      copyFileSync(bundle, file);
      const refused = runAgent(file, ['--metrics-port', String(await freePort())]);
      expect(await refused.exited).toBe(2);
      expect(refused.out()).toContain(`--metrics-port needs the agent's telemetry module (${AGENT_TELEMETRY_FILE} beside fleetscope-agent.mjs)`);

      const before = await hub.store.countSamples();
      const plain = runAgent(file, []);
      try {
        await eventually(async () => (await hub.store.countSamples()) >= before + 16, 20_000, 'samples from the agent without its telemetry file');
      } finally {
        plain.child.kill('SIGTERM');
        await plain.exited;
      }
    } finally {
      alone.cleanup();
    }
  }, 40_000);
});
