/**
 * A real `fleetscope hub` process (bench/support/processes.ts) on a free loopback port: started
 * with the given flags, resolved once it listens, with its URLs and JSON logs; `stop()` SIGTERMs
 * it and resolves with the exit code, `kill()` SIGKILLs it.
 */
import { runFleetscope, type Proc } from '../../bench/support/processes.ts';
import { eventually } from './ws-client.ts';

export interface HubProcess {
  proc: Proc;
  /** http://127.0.0.1:PORT */
  url: string;
  /** ws://127.0.0.1:PORT */
  ws: string;
  logged(msg: string): any[];
  get(path: string): Promise<any>;
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

export async function startHubProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<HubProcess> {
  const proc = runFleetscope(['hub', '--port', '0', '--host', '127.0.0.1', '--log-format', 'json', ...args], env);
  const listening = () => /fleetscope hub listening on (\S+)/.exec(proc.stdout())?.[1];
  await Promise.race([
    eventually(() => listening() !== undefined, 30_000, 'the hub process to listen'),
    proc.exited.then((code) => {
      throw new Error(`the hub exited (${code}) before listening: ${proc.stderr()}`);
    }),
  ]);
  const url = listening()!.replace(/\/$/, '');
  return {
    proc,
    url,
    ws: url.replace(/^http/, 'ws'),
    logged: (msg) => proc.jsonLogs().filter((l) => l.msg === msg),
    get: async (path) => (await fetch(`${url}${path}`)).json(),
    async stop() {
      if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGTERM');
      return proc.exited;
    },
    async kill() {
      if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
      await proc.exited;
    },
  };
}
