/**
 * The executable's bundle (bin/cli-bundle.js) on a small project in a temporary directory: each
 * source keeps its own import.meta.url, an unchanged project reuses the bundle, a changed source
 * or a moved project builds again, and a source that does not compile is an error (the
 * executable then falls back to the TypeScript loader).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureBundle } from '../../bin/cli-bundle.js';
import { tempDir } from '../../bench/support/temp-dir.ts';

describe('the executable bundle', () => {
  let tmp: ReturnType<typeof tempDir>;
  let root: string;
  const opts = () => ({ root, entry: 'main.ts', outDir: join(root, 'dist'), name: 'cli' });
  const load = async (file: string) => (await import(`${pathToFileURL(file).href}?t=${statSync(file).mtimeMs}`)) as { here: string; there: string; value: number };

  beforeEach(() => {
    tmp = tempDir();
    root = join(tmp.dir, 'project');
    mkdirSync(join(root, 'lib'), { recursive: true });
    writeFileSync(join(root, 'main.ts'), "export { there, value } from './lib/deep.ts';\nexport const here: string = import.meta.url;\n");
    writeFileSync(join(root, 'lib', 'deep.ts'), 'export const there: string = import.meta.url;\nexport const value: number = 1;\n');
  });
  afterEach(() => tmp.cleanup());

  it('gives each bundled file its own import.meta.url', async () => {
    const m = await load(await ensureBundle(opts()));
    expect(m.here).toBe(pathToFileURL(join(root, 'main.ts')).href);
    expect(m.there).toBe(pathToFileURL(join(root, 'lib', 'deep.ts')).href);
  });

  it('reuses the bundle while no source changed, and builds again when one does', async () => {
    const file = await ensureBundle(opts());
    const built = statSync(file).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    expect(await ensureBundle(opts())).toBe(file);
    expect(statSync(file).mtimeMs).toBe(built);
    writeFileSync(join(root, 'lib', 'deep.ts'), 'export const there: string = import.meta.url;\nexport const value: number = 2;\n');
    const later = new Date(Date.now() + 5000);
    utimesSync(join(root, 'lib', 'deep.ts'), later, later);
    expect((await load(await ensureBundle(opts()))).value).toBe(2);
  });

  it('builds again in a moved project, with the new paths', async () => {
    await ensureBundle(opts());
    const moved = join(tmp.dir, 'moved');
    cpSync(root, moved, { recursive: true, preserveTimestamps: true });
    root = moved;
    const m = await load(await ensureBundle(opts()));
    expect(m.there).toBe(pathToFileURL(join(moved, 'lib', 'deep.ts')).href);
  });

  it('rejects a source that does not compile', async () => {
    writeFileSync(join(root, 'lib', 'deep.ts'), 'export const there: string = ;\n');
    await expect(ensureBundle(opts())).rejects.toThrow(/Expected|Unexpected/);
  });
});
