#!/usr/bin/env node
// The fleetscope executable. Sources are TypeScript, loaded through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../server/cli/main.ts');
await main(process.argv.slice(2));
