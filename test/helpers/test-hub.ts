/**
 * An in-process hub on port 0 with a temporary SQLite file. Auth is on (as by default) with an
 * admin, an agent and a viewer token made for the test; the helpers send the fitting one.
 */
import { join } from 'node:path';
import { startHub, type HubHandle, type HubOptions } from '../../server/hub.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';
import { TestSocket } from './ws-client.ts';

export interface TestTokens {
  admin: string;
  agent: string;
  viewer: string;
}

export interface TestHub extends HubHandle {
  dbPath: string;
  /** Secrets of the test's tokens. */
  token: TestTokens;
  /** `Authorization` header of a role's token. */
  auth(role?: keyof TestTokens): Record<string, string>;
  /** A socket with the agent token (/ws/agent) or the viewer token (/ws/live), unless `token` is given ('' for none). */
  ws(path: '/ws/agent' | '/ws/live', token?: string): Promise<TestSocket>;
  /** GET with the admin token. */
  get(path: string): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

export async function startTestHub(opts: Omit<Partial<HubOptions>, 'port' | 'db'> = {}): Promise<TestHub> {
  const tmp = tempDir();
  const dbPath = join(tmp.dir, 'hub.db');
  const hub = await startHub({ port: 0, host: '127.0.0.1', db: dbPath, ...opts });
  const token: TestTokens = {
    admin: hub.tokens.create('admin', 'test admin').token,
    agent: hub.tokens.create('agent', 'test agent').token,
    viewer: hub.tokens.create('viewer', 'test viewer').token,
  };
  const auth = (role: keyof TestTokens = 'admin') => ({ authorization: `Bearer ${token[role]}` });
  return {
    ...hub,
    dbPath,
    token,
    auth,
    ws: (path, t) => {
      const secret = t ?? (path === '/ws/agent' ? token.agent : token.viewer);
      return TestSocket.open(`ws://127.0.0.1:${hub.port}${path}`, secret ? { authorization: `Bearer ${secret}` } : {});
    },
    async get(path) {
      const res = await fetch(`http://127.0.0.1:${hub.port}${path}`, { headers: auth('admin') });
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
