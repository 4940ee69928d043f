#!/usr/bin/env node
// The fleetscope executable. Sources are TypeScript, run from a bundle made with esbuild and
// rebuilt when they change (see cli-bundle.js).
import { loadCli } from './cli-bundle.js';

const { main } = await loadCli();
await main(process.argv.slice(2));
