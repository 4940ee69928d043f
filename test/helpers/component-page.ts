/**
 * Component tests of the dashboard's Lit elements, one element at a time, in headless Chromium.
 *
 * `openComponentPage(['fleet-grid.ts', 'silence-list.ts'])` bundles those client/src modules with
 * esbuild (in memory: esm, bundled, as cli/build-agent-bundle.ts does for the agent), serves the
 * bundle and a bare page from a throwaway node:http server on port 0, and opens the page in the
 * Chromium of ./browser.ts. The page declares the theme's `--fs-*` custom properties on `:root`
 * (as `<fleet-app>` does on its host, theme.ts) and the app's page colours (client/index.html),
 * so an element looks as it does inside the app.
 *
 * The same server is a fake hub API: `api.on('GET /api/v1/alerts/silences', { body })` answers
 * what the element fetches by itself (any path not set: the hub's 404 `not_found`), and
 * `api.requests()` lists what was asked (method, path, query, JSON body). `/ws/live` is not
 * served: elements that open the live connection see it fail and keep retrying, as with a hub
 * that is down.
 *
 * `mount(tag, props)` creates the element, sets its properties (objects, arrays; `asMap`, `asSet`
 * and `asFn` for a Map, a Set and a function), appends it and waits for `updateComplete`.
 * `events()` reads the DOM events the mounted elements dispatched (any type named in `capture`,
 * listened for on `window` in the capture phase, so shadow-root events that are `composed` and
 * events that do not bubble are seen too). `text`, `attr`, `count`, `call` read the element's
 * shadow DOM (Playwright's CSS selectors pierce open shadow roots).
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { evalDeep, launchChromium } from './browser.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CLIENT_SRC = fileURLToPath(new URL('../../client/src/', import.meta.url));

/** A fake API answer: the status (200), a JSON body (none: an empty answer), after `delayMs`. */
export interface ApiReply {
  status?: number;
  body?: unknown;
  delayMs?: number;
}

/** A request the page made to the fake API. */
export interface ApiRequest {
  method: string;
  /** The path without the query. */
  path: string;
  query: Record<string, string>;
  /** The JSON body, if any. */
  body: unknown;
}

export type ApiHandler = ApiReply | ((req: ApiRequest) => ApiReply | Promise<ApiReply>);

export interface FakeApi {
  /** Answers `METHOD /path` (the path without its query) with `reply` from now on. */
  on(route: string, reply: ApiHandler): void;
  /** The requests made so far (only those to `route`, `METHOD /path`, when given). */
  requests(route?: string): ApiRequest[];
  /** Forgets every answer and request. */
  reset(): void;
}

export interface CapturedEvent {
  type: string;
  /** The element that dispatched it (its tag, lower case). */
  target: string;
  /** `detail` through JSON (Maps and Sets come out as `{}`). */
  detail: any;
}

export interface MountOptions {
  /** Attributes set before the properties. */
  attrs?: Record<string, string>;
  /** Inline style of the element (e.g. a width for a canvas element). */
  style?: string;
  /** Keep what is mounted already (default: the page's root is emptied first). */
  keep?: boolean;
}

export interface ComponentPage {
  page: Page;
  context: BrowserContext;
  /** The page's origin, e.g. http://127.0.0.1:40123. */
  url: string;
  api: FakeApi;
  /** Uncaught errors in the page since it opened (or since `reset`). */
  errors: string[];
  /** Mounts `<tag>` with `props` (see `asMap`, `asSet`, `asFn`), after `updateComplete`; a locator of it. */
  mount(tag: string, props?: Record<string, unknown>, opts?: MountOptions): Promise<Locator>;
  /** Sets properties of the first element matching `selector` (shadow roots pierced) and waits for its update. */
  set(selector: string, props: Record<string, unknown>): Promise<void>;
  /** Calls a method of the first element matching `selector`; its result (awaited, through JSON). */
  call<R = unknown>(selector: string, method: string, ...args: unknown[]): Promise<R>;
  /** Text of the first element matching `selector`, whitespace collapsed; null when there is none. */
  text(selector: string): Promise<string | null>;
  /** Text of every element matching `selector`, each whitespace-collapsed, in document order. */
  texts(selector: string): Promise<string[]>;
  /** An attribute of the first element matching `selector`; null when absent (or no element). */
  attr(selector: string, name: string): Promise<string | null>;
  /** How many elements match `selector`. */
  count(selector: string): Promise<number>;
  /** Listens for these event types from now on (window, capture phase). */
  capture(...types: string[]): Promise<void>;
  /** The captured events (of `type`, when given), oldest first. */
  events(type?: string): Promise<CapturedEvent[]>;
  /** Waits for the mounted elements (and their children) to finish updating. */
  settle(): Promise<void>;
  /** Empties the page's root, the captured events, the errors and the fake API. */
  reset(): Promise<void>;
  /** A PNG of the page (or of `selector`'s first match) at `path`. */
  screenshot(path: string, selector?: string): Promise<void>;
  close(): Promise<void>;
}

/** A Map for `mount`/`set` (Playwright passes plain values only). */
export function asMap<K, V>(entries: Iterable<readonly [K, V]>): { __map: [K, V][] } {
  return { __map: [...entries].map(([k, v]) => [k, v] as [K, V]) };
}
/** A Set for `mount`/`set`. */
export function asSet<T>(values: Iterable<T>): { __set: T[] } {
  return { __set: [...values] };
}
/** A function for `mount`/`set`, from its source text (it runs in the page). */
export function asFn(source: string): { __fn: string } {
  return { __fn: source };
}

/** Vite's `?inline` CSS imports (uplot-chart.ts): the file's text as the default export. */
const inlineCss: Plugin = {
  name: 'vite-inline-css',
  setup(b) {
    b.onResolve({ filter: /\?inline$/ }, async (args) => {
      const r = await b.resolve(args.path.replace(/\?inline$/, ''), { resolveDir: args.resolveDir, kind: args.kind });
      if (r.errors.length) return { errors: r.errors };
      return { path: r.path, namespace: 'inline-css' };
    });
    b.onLoad({ filter: /.*/, namespace: 'inline-css' }, (args) => ({ contents: readFileSync(args.path, 'utf8'), loader: 'text' }));
  },
};

/** The page's script: the theme on `:root`, the element modules, and the harness's page helpers. */
function entrySource(modules: readonly string[]): string {
  const abs = (m: string) => JSON.stringify(m.startsWith('/') ? m : `${CLIENT_SRC}${m}`);
  return `
import { themeVars } from ${abs('theme.ts')};
${modules.map((m) => `import ${abs(m)};`).join('\n')}
const style = document.createElement('style');
style.textContent = themeVars.cssText.replaceAll(':host', ':root');
document.head.append(style);
const revive = (v) => {
  if (Array.isArray(v)) return v.map(revive);
  if (v && typeof v === 'object') {
    if ('__map' in v) return new Map(v.__map.map(([k, x]) => [k, revive(x)]));
    if ('__set' in v) return new Set(v.__set);
    if ('__fn' in v) return (0, eval)('(' + v.__fn + ')');
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = revive(x);
    return o;
  }
  return v;
};
const events = [];
const listening = new Set();
const settle = async (root) => {
  // every custom element below root, shadow roots included, until none is updating
  for (let round = 0; round < 5; round++) {
    const els = [];
    const walk = (n) => {
      for (const c of n.children ?? []) {
        if (c.updateComplete) els.push(c);
        if (c.shadowRoot) walk(c.shadowRoot);
        walk(c);
      }
    };
    walk(root);
    const done = await Promise.all(els.map((e) => e.updateComplete));
    if (done.every((d) => d !== false)) return;
  }
};
window.__cp = {
  revive,
  events,
  settle: () => settle(document.getElementById('root')),
  listen(types) {
    for (const type of types) {
      if (listening.has(type)) continue;
      listening.add(type);
      window.addEventListener(type, (e) => {
        let detail = null;
        try { detail = e.detail === undefined ? null : JSON.parse(JSON.stringify(e.detail)); } catch { detail = String(e.detail); }
        const t = e.composedPath()[0];
        events.push({ type, target: (t && t.localName) || '', detail });
      }, { capture: true });
    }
  },
  async mount(tag, props, opts) {
    const root = document.getElementById('root');
    if (!opts.keep) root.replaceChildren();
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(opts.attrs ?? {})) el.setAttribute(k, v);
    if (opts.style) el.setAttribute('style', opts.style);
    Object.assign(el, revive(props));
    root.append(el);
    await el.updateComplete;
    await settle(el.parentNode);
  },
};
window.__cpReady = true;
`;
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="color-scheme" content="dark light" />
<link rel="icon" href="data:," />
<title>component test</title>
<style>
  html, body { margin: 0; background: #0b0e13; color: #e8edf3; font-family: system-ui, sans-serif; }
  @media (prefers-color-scheme: light) { html, body { background: #f4f6f9; color: #1b222c; } }
  #root { padding: 8px; }
</style>
<script type="module" src="/bundle.js"></script>
</head>
<body><div id="root"></div></body>
</html>`;

/** Bundles the element modules (paths relative to client/src, or absolute) into one esm script. */
export async function bundleElements(modules: readonly string[]): Promise<string> {
  const out = await build({
    stdin: { contents: entrySource(modules), resolveDir: REPO, sourcefile: 'component-page-entry.js', loader: 'js' },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: 'inline',
    plugins: [inlineCss],
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

function fakeApi() {
  let routes = new Map<string, ApiHandler>();
  let log: (ApiRequest & { route: string })[] = [];
  const api: FakeApi = {
    on(route, reply) {
      routes.set(route.trim().replace(/\s+/, ' '), reply);
    },
    requests(route) {
      return log.filter((r) => !route || r.route === route).map(({ route: _r, ...rest }) => rest);
    },
    reset() {
      routes = new Map();
      log = [];
    },
  };
  async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = raw;
    }
    const request: ApiRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), body };
    const route = `${request.method} ${request.path}`;
    log.push({ ...request, route });
    const h = routes.get(route);
    const reply: ApiReply = h
      ? typeof h === 'function'
        ? await h(request)
        : h
      : { status: 404, body: { code: 'not_found', message: `No fake answer for ${route}`, requestId: null } };
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    res.statusCode = reply.status ?? 200;
    if (reply.body === undefined) {
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(reply.body));
  }
  return { api, handle };
}

/** Opens a page holding the element `modules` (paths relative to client/src); one browser per call. */
export async function openComponentPage(modules: readonly string[], opts: { width?: number; height?: number } = {}): Promise<ComponentPage> {
  const js = await bundleElements(modules);
  const { api, handle } = fakeApi();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/' || url.pathname === '/index.html') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(PAGE);
    } else if (url.pathname === '/bundle.js') {
      res.setHeader('content-type', 'text/javascript; charset=utf-8');
      res.end(js);
    } else if (url.pathname.startsWith('/api/')) {
      handle(req, res, url).catch((e: unknown) => {
        res.statusCode = 500;
        res.end(JSON.stringify({ code: 'internal', message: String(e), requestId: null }));
      });
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const context = await launchChromium();
  const page = await context.newPage();
  await page.setViewportSize({ width: opts.width ?? 1400, height: opts.height ?? 900 });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${base}/`);
  await page.waitForFunction(() => (window as any).__cpReady === true);

  const cp: ComponentPage = {
    page,
    context,
    url: base,
    api,
    errors,
    async mount(tag, props = {}, mo = {}) {
      await page.evaluate(([t, p, o]) => (window as any).__cp.mount(t, p, o), [tag, props, mo] as const);
      return page.locator(`#root > ${tag}`).last();
    },
    async set(selector, props) {
      const done = await evalDeep(page, selector, async (el: any, p: Record<string, unknown>) => {
        Object.assign(el, (window as any).__cp.revive(p));
        await el.updateComplete;
        await (window as any).__cp.settle();
        return true;
      }, props);
      if (!done) throw new Error(`set: nothing matches ${selector}`);
    },
    async call<R>(selector: string, method: string, ...args: unknown[]) {
      const r = await evalDeep(page, selector, async (el: any, a: { method: string; args: unknown[] }) => {
        const v = await el[a.method](...a.args);
        return v === undefined ? null : JSON.parse(JSON.stringify(v));
      }, { method, args });
      return r as R;
    },
    text(selector) {
      return evalDeep(page, selector, (el: Element) => (el.textContent ?? '').replace(/\s+/g, ' ').trim(), null);
    },
    texts(selector) {
      return page.locator(selector).evaluateAll((els) => els.map((el) => (el.textContent ?? '').replace(/\s+/g, ' ').trim()));
    },
    attr(selector, name) {
      return evalDeep(page, selector, (el: Element, n: string) => el.getAttribute(n), name);
    },
    count(selector) {
      return page.locator(selector).count();
    },
    async capture(...types) {
      await page.evaluate((t) => (window as any).__cp.listen(t), types);
    },
    async events(type) {
      const all = (await page.evaluate(() => (window as any).__cp.events)) as CapturedEvent[];
      return type ? all.filter((e) => e.type === type) : all;
    },
    async settle() {
      await page.evaluate(() => (window as any).__cp.settle());
    },
    async reset() {
      await page.evaluate(() => {
        document.getElementById('root')!.replaceChildren();
        (window as any).__cp.events.length = 0;
      });
      errors.length = 0;
      api.reset();
    },
    async screenshot(path, selector) {
      if (selector) await page.locator(selector).first().screenshot({ path });
      else await page.screenshot({ path, fullPage: true });
    },
    async close() {
      await context.close().catch(() => {});
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return cp;
}
