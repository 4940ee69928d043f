/**
 * `fleetscope hub --bus`: a bad URL or a lone --bus-root is a usage error (exit 2) with a clear
 * message; --help lists both; a hub process on the real NATS logs when the bus connects,
 * disconnects (its connection cut by a TCP proxy) and reconnects, and /readyz follows.
 */
import { randomBytes } from 'node:crypto';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runFleetscope, type Proc } from '../../bench/support/processes.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';
import { eventually } from '../helpers/ws-client.ts';

const NATS_URL = process.env.FLEETSCOPE_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const ROOT = `fleetscope_test_${randomBytes(4).toString('hex')}`;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe('fleetscope hub --bus', () => {
  it.each([
    [['--bus', 'http://127.0.0.1:4222'], '--bus: expected a nats:// or tls:// URL (e.g. nats://127.0.0.1:4222), got "http://127.0.0.1:4222"'],
    [['--bus', '127.0.0.1:4222'], '--bus: expected a NATS URL such as nats://127.0.0.1:4222, got "127.0.0.1:4222"'],
    [['--bus', 'not a url'], '--bus: expected a NATS URL such as nats://127.0.0.1:4222, got "not a url"'],
    [['--bus', 'nats://127.0.0.1:4222/x'], '--bus: the bus URL takes no path or query (e.g. nats://127.0.0.1:4222), got "nats://127.0.0.1:4222/x"'],
    [['--bus-root', 'x'], '--bus-root goes with --bus'],
    [['--bus', 'nats://127.0.0.1:4222', '--bus-root', 'a.*'], '--bus-root: bus subject root must be tokens of letters, digits, _ and - separated by dots (e.g. fleetscope), got "a.*"'],
  ])('%j is a usage error', async (args, message) => {
    const tmp = tempDir();
    cleanups.push(() => tmp.cleanup());
    const p = runFleetscope(['hub', '--port', '0', '--db', join(tmp.dir, 'hub.db'), ...args]);
    expect(await p.exited).toBe(2);
    expect(p.stderr().trim()).toBe(`fleetscope hub: ${message}`);
  });

  it('--help lists --bus and --bus-root', async () => {
    const p = runFleetscope(['hub', '--help']);
    expect(await p.exited).toBe(0);
    expect(p.stdout()).toMatch(/--bus\b.*nats:\/\/127\.0\.0\.1:4222/);
    expect(p.stdout()).toMatch(/--bus-root\b.*default fleetscope/);
  });

  it('logs connected, disconnected and reconnected; /readyz follows the bus', async () => {
    const proxy = await natsProxy(NATS_URL);
    cleanups.push(() => proxy.cut());
    const tmp = tempDir();
    cleanups.push(() => tmp.cleanup());
    const hub: Proc = runFleetscope(['hub', '--port', '0', '--host', '127.0.0.1', '--db', join(tmp.dir, 'hub.db'), '--open', '--bus', `nats://127.0.0.1:${proxy.port}`, '--bus-root', ROOT, '--log-format', 'json']);
    cleanups.push(async () => {
      if (hub.child.exitCode === null) hub.child.kill('SIGTERM');
      await hub.exited;
    });
    const logged = (msg: string) => hub.jsonLogs().filter((l) => l.msg === msg);
    await eventually(() => /fleetscope hub listening on (\S+)/.test(hub.stdout()), 30_000, 'the hub to listen');
    const url = /fleetscope hub listening on (\S+)/.exec(hub.stdout())![1]!;
    await eventually(() => logged('bus connected').length === 1, 10_000, 'bus connected');
    expect(logged('bus connected')[0]).toMatchObject({ level: 'info', url: `nats://127.0.0.1:${proxy.port}` });
    expect(logged('hub listening')[0].bus).toBe(`nats://127.0.0.1:${proxy.port}`);
    await eventually(async () => (await fetch(`${url}/readyz`)).status === 200, 5000, 'ready');

    proxy.cut();
    await eventually(() => logged('bus disconnected; reconnecting').length === 1, 10_000, 'bus disconnected');
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    await proxy.reopen();
    await eventually(() => logged('bus reconnected').length === 1, 15_000, 'bus reconnected');
    await eventually(async () => (await fetch(`${url}/readyz`)).status === 200, 5000, 'ready again');
    hub.child.kill('SIGTERM');
    expect(await hub.exited).toBe(0);
  }, 60_000);
});

/** A proxy to the test NATS server (test/helpers/tcp-proxy.ts). */
function natsProxy(target: string): Promise<TcpProxy> {
  const t = new URL(target);
  return startTcpProxy(t.hostname, Number(t.port || 4222));
}
