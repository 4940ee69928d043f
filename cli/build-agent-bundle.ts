/**
 * Bundles the agent for hosts that have plain Node 20 and nothing else installed
 * (`node dist/agent/fleetscope-agent.mjs --hub … --source …`): small to ship to GPU and Trainium
 * hosts, and no TypeScript loader in the agent's memory or CPU.
 *
 * Two files: the agent, and beside it the OpenTelemetry SDK its own metrics use
 * (`fleetscope-agent-telemetry.mjs`), imported only with --metrics-port or an OTLP endpoint. The
 * SDK is ~80 % of the agent's code; parsed at every start, it added ~3.6 MB to an agent that does
 * not use it. An agent without the second file runs, and says what is missing if asked for metrics.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { AGENT_TELEMETRY_FILE } from './agent-telemetry-file.ts';

const AGENT_DIR = fileURLToPath(new URL('../dist/agent/', import.meta.url));
const AGENT_FILE = 'fleetscope-agent.mjs';

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

/** The agent's import of common/telemetry-sdk.ts goes to the telemetry file beside the bundle. */
const telemetryApart: Plugin = {
  name: 'telemetry-apart',
  setup(b) {
    b.onResolve({ filter: /[\\/]telemetry-sdk\.ts$/ }, () => ({ path: `./${AGENT_TELEMETRY_FILE}`, external: true }));
  },
};

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: true,
  legalComments: 'none',
  // ws loads these optional native helpers only if present.
  external: ['bufferutil', 'utf-8-validate'],
  banner: { js: `import { createRequire as __cr } from 'node:module'; const require = __cr(${BUNDLE_URL});` },
  logLevel: 'warning',
};

/** The agent's own file (without the telemetry module) in `dir`; `write: false` keeps it in memory. */
export function buildAgentOnly(dir = AGENT_DIR, write = true): Promise<{ metafile: Metafile }> {
  return build({
    ...common,
    entryPoints: [fileURLToPath(new URL('./agent-main.ts', import.meta.url))],
    outfile: join(dir, AGENT_FILE),
    plugins: [versionOnly, telemetryApart],
    metafile: true,
    write,
  });
}

/** Both files into `dir` (default dist/agent/); resolves with the agent's path. */
export async function buildAgentBundle(dir = AGENT_DIR): Promise<string> {
  await Promise.all([
    buildAgentOnly(dir),
    build({
      ...common,
      entryPoints: [fileURLToPath(new URL('../common/telemetry-sdk.ts', import.meta.url))],
      outfile: join(dir, AGENT_TELEMETRY_FILE),
      plugins: [versionOnly],
    }),
  ]);
  return join(dir, AGENT_FILE);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildAgentBundle().then((f) => process.stdout.write(`agent bundle: ${f} (and ${AGENT_TELEMETRY_FILE} beside it)\n`));
}
