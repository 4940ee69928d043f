// How the fleetscope executable runs its TypeScript sources: bundled with esbuild into one ES
// module under dist/cli/ (node_modules stay external), rebuilt when a source file it was built
// from changes. Running the bundle keeps a TypeScript loader (its own thread and heap, 30-50 MB)
// out of the hub's and the agent's processes. Plain JavaScript: it runs before any loader.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const META_URL = /\bimport\.meta\.url\b/g;

/**
 * Each bundled source file keeps its own `import.meta.url` (paths next to a source file, such as
 * the store's thread entries or the migrations folder, resolve as they do unbundled).
 */
const ownMetaUrl = (root) => ({
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (relative(root, args.path).startsWith('..') || args.path.includes('/node_modules/')) return undefined;
      const source = await readFile(args.path, 'utf8');
      return { contents: source.replace(META_URL, JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' };
    });
  },
});

/** The sizes and modification times of the inputs, which say whether a bundle is current. */
function stamp(root, inputs) {
  return inputs.map((file) => {
    try {
      const st = statSync(join(root, file));
      return [file, st.size, st.mtimeMs];
    } catch {
      return [file, -1, -1];
    }
  });
}

/**
 * The path of a current bundle of `entry` in `outDir`: the one there when none of the files it
 * was built from changed, else a fresh build (written to a temporary name and renamed, so
 * processes starting together never read a half-written file).
 */
export async function ensureBundle({ root, entry, outDir, name }) {
  const out = join(outDir, `${name}.mjs`);
  const manifest = join(outDir, `${name}.inputs.json`);
  try {
    const built = JSON.parse(readFileSync(manifest, 'utf8'));
    statSync(out);
    // The bundle holds absolute paths (each file's own URL): a moved checkout builds again.
    if (built.root === root && JSON.stringify(stamp(root, built.inputs)) === JSON.stringify(built.stamps)) return out;
  } catch {
    /* no bundle yet, or an unreadable manifest: build */
  }
  const result = await build({
    absWorkingDir: root,
    entryPoints: [resolve(root, entry)],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    plugins: [ownMetaUrl(root)],
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs).filter((f) => !f.includes('node_modules/'));
  mkdirSync(outDir, { recursive: true });
  const tmp = `.${process.pid}.${Date.now()}`;
  writeFileSync(out + tmp, result.outputFiles[0].contents);
  renameSync(out + tmp, out);
  writeFileSync(manifest + tmp, JSON.stringify({ root, inputs, stamps: stamp(root, inputs) }));
  renameSync(manifest + tmp, manifest);
  return out;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The executable's entry point, relative to the repository root. */
const CLI_ENTRY = 'cli/main.ts';

/** The CLI's bundle, current (built now if it is not). */
export function ensureCliBundle() {
  return ensureBundle({ root: ROOT, entry: CLI_ENTRY, outDir: join(ROOT, 'dist', 'cli'), name: 'fleetscope' });
}

/**
 * The CLI's module, from its bundle; through the tsx loader when no bundle can be made (a
 * read-only install, or a source that does not compile: tsx then reports it as it loads).
 */
export async function loadCli() {
  let file = null;
  try {
    file = await ensureCliBundle();
  } catch {
    /* fall back below */
  }
  if (file) return import(pathToFileURL(file).href);
  const { register } = await import('tsx/esm/api');
  register();
  return import(pathToFileURL(join(ROOT, CLI_ENTRY)).href);
}

// `node bin/cli-bundle.js` (npm run build): make the bundle current now rather than at the next start.
if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  process.stdout.write(`cli bundle: ${await ensureCliBundle()}\n`);
}
