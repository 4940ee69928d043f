/**
 * Starts the store's threads (the writer, the compactor) from their TypeScript source: esbuild
 * bundles each entry into one ES module in memory (no build step, no files written), loaded as a
 * data: URL worker. The one native dependency, better-sqlite3, is loaded in the worker with the
 * hub's own module resolution.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ENTRIES = {
  writer: fileURLToPath(new URL('./writer-thread.ts', import.meta.url)),
  compactor: fileURLToPath(new URL('./compactor-thread.ts', import.meta.url)),
};
export type StoreThread = keyof typeof ENTRIES;

/** better-sqlite3 resolved from the hub's location, not from the (data:) worker's. */
const nativeFromHub: Plugin = {
  name: 'native-from-hub',
  setup(b) {
    b.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: 'better-sqlite3', namespace: 'hub-native' }));
    b.onLoad({ filter: /.*/, namespace: 'hub-native' }, () => ({
      contents: "import { createRequire } from 'node:module'; import { workerData } from 'node:worker_threads'; export default createRequire(workerData.requireFrom)('better-sqlite3');",
      loader: 'js',
    }));
  },
};

/**
 * The compactor makes short-lived garbage fast (decoded log rows and chunks, encoded chunks): with
 * V8's default young generation (32 MB at full ingest) its heap alone took ~90 MB. A 12 MB one
 * keeps it near 50 MB at the same folding speed (measured at 190,000 samples/s of ingest).
 */
const RESOURCE_LIMITS: Record<StoreThread, ResourceLimits> = {
  writer: {},
  compactor: { maxYoungGenerationSizeMb: 12 },
};

const bundled = new Map<StoreThread, Promise<string>>();

function bundle(kind: StoreThread): Promise<string> {
  let code = bundled.get(kind);
  if (code) return code;
  code = build({
    entryPoints: [ENTRIES[kind]],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    plugins: [nativeFromHub],
    logLevel: 'silent',
  }).then((r) => r.outputFiles[0].text);
  bundled.set(kind, code);
  return code;
}

export async function loadStoreThread(kind: StoreThread, workerData: object): Promise<Worker> {
  const code = await bundle(kind);
  return new Worker(new URL(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`), {
    workerData: { ...workerData, requireFrom: import.meta.url },
    resourceLimits: RESOURCE_LIMITS[kind],
  });
}
