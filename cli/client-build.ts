/** Builds the dashboard with Vite when dist/client is missing or older than client sources. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../common/logger.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CLIENT_DIR = join(ROOT, 'client');
const BUILT_INDEX = join(ROOT, 'dist/client/index.html');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

export function clientBuildIsCurrent(): boolean {
  return existsSync(BUILT_INDEX) && statSync(BUILT_INDEX).mtimeMs >= newestMtime(CLIENT_DIR);
}

export async function ensureClientBuilt(log: Logger): Promise<void> {
  if (clientBuildIsCurrent()) return;
  log.info('building the dashboard (vite)…');
  const started = Date.now();
  const { build } = await import('vite');
  await build({ configFile: join(CLIENT_DIR, 'vite.config.ts'), logLevel: 'warn' });
  log.info('dashboard built', { ms: Date.now() - started });
}
