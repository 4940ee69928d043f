/** Spawn the real `fleetscope` executable and collect its output. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/fleetscope.js', import.meta.url));

export interface Proc {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** JSON log lines from stderr (with --log-format json). */
  jsonLogs(): any[];
}

export function runFleetscope(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    jsonLogs: () =>
      err
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l)),
  };
}

/**
 * A new token in the hub database `db`, made as an operator does (`fleetscope token create`);
 * resolves with its secret. Run it before the hub starts, or while it runs (same file).
 */
export async function createToken(db: string, role: 'agent' | 'viewer' | 'admin', name = `bench ${role}`): Promise<string> {
  const p = runFleetscope(['token', 'create', '--role', role, '--name', name, '--db', db]);
  const code = await p.exited;
  const token = p.stdout().trim();
  if (code !== 0 || !token) throw new Error(`fleetscope token create --role ${role} failed (exit ${code}): ${p.stderr()}`);
  return token;
}
