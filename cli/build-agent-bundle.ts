/**
 * Bundles the agent into one file that runs on plain Node 20 with nothing else installed
 * (`node dist/agent/fleetscope-agent.mjs --hub … --source …`): small to ship to GPU and Trainium
 * hosts, and no TypeScript loader in the agent's memory or CPU.
 */
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { build, type Plugin } from 'esbuild';

export const AGENT_BUNDLE = fileURLToPath(new URL('../dist/agent/fleetscope-agent.mjs', import.meta.url));

/**
 * The bundle's own URL, as code for its banner (spelled in pieces: the fleetscope executable's
 * bundler gives each source file its own `import.meta.url`, and must not rewrite this text).
 */
const BUNDLE_URL = ['import', 'meta', 'url'].join('.');

/** package.json reduced to its version: all the agent reads of it (schema/version.ts). */
const versionOnly: Plugin = {
  name: 'package-version-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]package\.json$/ }, (args) => ({
      contents: JSON.stringify({ version: (JSON.parse(readFileSync(args.path, 'utf8')) as { version: string }).version }),
      loader: 'json',
    }));
  },
};

export async function buildAgentBundle(): Promise<string> {
  await build({
    entryPoints: [fileURLToPath(new URL('./agent-main.ts', import.meta.url))],
    outfile: AGENT_BUNDLE,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    legalComments: 'none',
    // ws loads these optional native helpers only if present.
    external: ['bufferutil', 'utf-8-validate'],
    banner: { js: `import { createRequire as __cr } from 'node:module'; const require = __cr(${BUNDLE_URL});` },
    plugins: [versionOnly],
    logLevel: 'warning',
  });
  return AGENT_BUNDLE;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildAgentBundle().then((f) => process.stdout.write(`agent bundle: ${f}\n`));
}
