/**
 * Builds the browser dashboard: `npx vite build --config client/vite.config.ts`
 * (from the repo root) writes `dist/client/`, which the hub serves at `/`.
 *
 * `vite --config client/vite.config.ts` serves it with hot reload, proxying
 * `/api` and `/ws` to a hub at FLEETSCOPE_HUB_URL (default http://127.0.0.1:8080).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const clientDir = fileURLToPath(new URL('.', import.meta.url));
const outDir = fileURLToPath(new URL('../dist/client', import.meta.url));
const hub = process.env.FLEETSCOPE_HUB_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: clientDir,
  base: '/',
  publicDir: false,
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
  server: {
    proxy: {
      '/api': { target: hub, changeOrigin: true },
      '/ws': { target: hub.replace(/^http/, 'ws'), ws: true },
    },
  },
});
