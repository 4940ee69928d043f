/** An in-process hub on port 0 with a temporary SQLite file. */
import { join } from 'node:path';
import { startHub, type HubHandle } from '../../server/hub.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';
import { TestSocket } from './ws-client.ts';

export interface TestHub extends HubHandle {
  dbPath: string;
  ws(path: '/ws/agent' | '/ws/live'): Promise<TestSocket>;
  get(path: string): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

export async function startTestHub(opts: { clientDir?: string } = {}): Promise<TestHub> {
  const tmp = tempDir();
  const dbPath = join(tmp.dir, 'hub.db');
  const hub = await startHub({ port: 0, host: '127.0.0.1', db: dbPath, clientDir: opts.clientDir });
  return {
    ...hub,
    dbPath,
    ws: (path) => TestSocket.open(`ws://127.0.0.1:${hub.port}${path}`),
    async get(path) {
      const res = await fetch(`http://127.0.0.1:${hub.port}${path}`);
      const text = await res.text();
      let body: any = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, body };
    },
    async stop() {
      await hub.close();
      tmp.cleanup();
    },
  };
}
