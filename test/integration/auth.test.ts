/**
 * Auth through a real hub (port 0, auth on as by default): every API route and both WebSocket
 * endpoints, table-driven over the token a request presents — none, a wrong one, a revoked one,
 * each role that may not, each role that may. Then the ways a token may be presented
 * (`Authorization: Token`, `?p=`, the dashboard's session cookie), /ws/live's Origin check, the
 * public paths, and an open hub (`--open`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { chipInfo, hello } from '../helpers/frames.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';
import { eventually } from '../helpers/ws-client.ts';

type Role = 'agent' | 'viewer' | 'admin';
type Access = 'ingest' | 'read' | 'admin';
/** What a request presents: no token, a well-formed unknown one, a revoked one, or a role's valid token. */
type Presented = 'none' | 'wrong' | 'revoked' | Role;

const ALLOWED: Record<Access, Role[]> = { ingest: ['agent', 'admin'], read: ['viewer', 'admin'], admin: ['admin'] };
const ROLES: Role[] = ['agent', 'viewer', 'admin'];
const ALLOWED_ORIGIN = 'https://wall.example.com';
const WRONG_TOKEN = 'fst_' + 'x'.repeat(43);

let hub: TestHub;
/** A revoked token of each role: the agent's and viewer's revoked through the API, the admin's with hub.tokens.revoke. */
const revoked = {} as Record<Role, string>;

const base = () => `http://127.0.0.1:${hub.port}`;
const line = (chip: string) => `chip,host=auth-host,chip=${chip},vendor=nvidia,model=H100 util_pct=50,power_w=400 ${Date.now()}`;

/** The secret a request that needs `access` presents for `p` (null: none); a revoked token is of a role that would be allowed. */
function secret(p: Presented, access: Access): string | null {
  if (p === 'none') return null;
  if (p === 'wrong') return WRONG_TOKEN;
  if (p === 'revoked') return revoked[ALLOWED[access][0]!];
  return hub.token[p];
}

interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

async function send(method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const res = await fetch(`${base()}${path}`, { method, headers: init.headers, body: init.body });
  const text = await res.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body, headers: res.headers };
}

const bearer = (token: string | null): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

/** One API route: what it needs, how to call it with a token, and what success is. */
interface Route {
  name: string;
  access: Access;
  /** Status of a successful call. */
  ok: number;
  call(token: string | null): Promise<Answer>;
}

const ROUTES: Route[] = [
  { name: 'GET /api/v1/chips', access: 'read', ok: 200, call: (t) => send('GET', '/api/v1/chips', { headers: bearer(t) }) },
  { name: 'GET /api/v1/chips/:id/samples', access: 'read', ok: 200, call: (t) => send('GET', '/api/v1/chips/GPU-auth-0/samples', { headers: bearer(t) }) },
  { name: 'GET /api/v1/agents', access: 'read', ok: 200, call: (t) => send('GET', '/api/v1/agents', { headers: bearer(t) }) },
  { name: 'GET /api/v1/series', access: 'read', ok: 200, call: (t) => send('GET', '/api/v1/series', { headers: bearer(t) }) },
  { name: 'GET /api/v1/energy', access: 'read', ok: 200, call: (t) => send('GET', '/api/v1/energy', { headers: bearer(t) }) },
  { name: 'GET /api/v1/top', access: 'read', ok: 200, call: (t) => send('GET', '/api/v1/top', { headers: bearer(t) }) },
  { name: 'POST /api/v1/write', access: 'ingest', ok: 204, call: (t) => send('POST', '/api/v1/write?precision=ms', { headers: { 'content-type': 'text/plain', ...bearer(t) }, body: line('GPU-auth-1') }) },
  { name: 'GET /api/v1/tokens', access: 'admin', ok: 200, call: (t) => send('GET', '/api/v1/tokens', { headers: bearer(t) }) },
  { name: 'POST /api/v1/tokens', access: 'admin', ok: 201, call: (t) => send('POST', '/api/v1/tokens', { headers: { 'content-type': 'application/json', ...bearer(t) }, body: JSON.stringify({ role: 'viewer', name: 'made in a test' }) }) },
  {
    name: 'DELETE /api/v1/tokens/:id',
    access: 'admin',
    ok: 204,
    call: (t) => send('DELETE', `/api/v1/tokens/${hub.tokens.create('viewer', 'to revoke').id}`, { headers: bearer(t) }),
  },
  { name: 'GET /api/v1/session', access: 'read', ok: 200, call: (t) => send('GET', '/api/v1/session', { headers: bearer(t) }) },
];

/** Every case of a route: what is presented and the status expected. */
function cases(r: Route): [string, Presented, number][] {
  const out: [string, Presented, number][] = [
    [r.name, 'none', 401],
    [r.name, 'wrong', 401],
    [r.name, 'revoked', 401],
  ];
  for (const role of ROLES) out.push([r.name, role, ALLOWED[r.access].includes(role) ? r.ok : 403]);
  return out;
}

/** Opens a WebSocket; resolves with the upgrade's refusal (status and JSON body) or 'open'. */
function upgrade(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any } | 'open'> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${hub.port}${path}`, { headers });
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
    });
    ws.once('error', (err) => reject(err));
  });
}

beforeAll(async () => {
  hub = await startTestHub({ auth: { allowedOrigins: [ALLOWED_ORIGIN] } });
  const res = await send('POST', '/api/v1/write?precision=ms', { headers: hub.auth('agent'), body: line('GPU-auth-0') });
  expect(res.status).toBe(204);
  for (const role of ['agent', 'viewer'] as const) {
    const made = await send('POST', '/api/v1/tokens', { headers: { 'content-type': 'application/json', ...hub.auth('admin') }, body: JSON.stringify({ role, name: `revoked ${role}` }) });
    expect(made.status).toBe(201);
    expect((await send('DELETE', `/api/v1/tokens/${made.body.id}`, { headers: hub.auth('admin') })).status).toBe(204);
    revoked[role] = made.body.token;
  }
  const admin = hub.tokens.create('admin', 'revoked admin');
  expect(hub.tokens.revoke(admin.id)).toBe(true);
  revoked.admin = admin.token;
});
afterAll(async () => {
  await hub?.stop();
});

describe('API routes', () => {
  it.each(ROUTES.flatMap(cases))('%s, token: %s -> %i', async (name, presented, status) => {
    const route = ROUTES.find((r) => r.name === name)!;
    const res = await route.call(secret(presented, route.access));
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    if (status === 401 || status === 403) {
      expect(res.body).toMatchObject({ code: status === 401 ? 'unauthorized' : 'forbidden', message: expect.any(String) });
    }
  });

  it.each<[Role, string]>([
    ['agent', 'POST /api/v1/write'],
    ['viewer', 'GET /api/v1/chips'],
    ['admin', 'GET /api/v1/tokens'],
  ])('a revoked %s token is refused at %s with "not valid"', async (role, name) => {
    const res = await ROUTES.find((r) => r.name === name)!.call(revoked[role]);
    expect(res.status).toBe(401);
    expect(res.body.message).toMatch(/not valid/);
  });

  it('a 401 from the API asks for a Bearer token (WWW-Authenticate)', async () => {
    const res = await send('GET', '/api/v1/chips');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="fleetscope"');
    expect(res.body.message).toMatch(/viewer/);
  });

  it('a token made through the API works at once, and is refused once revoked through the API', async () => {
    const made = await send('POST', '/api/v1/tokens', { headers: { 'content-type': 'application/json', ...hub.auth('admin') }, body: JSON.stringify({ role: 'viewer' }) });
    expect(made.body).toMatchObject({ role: 'viewer', revokedAt: null, token: expect.stringMatching(/^fst_/) });
    expect((await send('GET', '/api/v1/chips', { headers: bearer(made.body.token) })).status).toBe(200);
    const listed = await send('GET', '/api/v1/tokens', { headers: hub.auth('admin') });
    expect(listed.body.tokens.find((t: any) => t.id === made.body.id)).toMatchObject({ role: 'viewer', revokedAt: null });
    expect(JSON.stringify(listed.body)).not.toContain(made.body.token); // secrets are never listed
    expect((await send('DELETE', `/api/v1/tokens/${made.body.id}`, { headers: hub.auth('admin') })).status).toBe(204);
    expect((await send('GET', '/api/v1/chips', { headers: bearer(made.body.token) })).status).toBe(401);
    expect((await send('DELETE', `/api/v1/tokens/${made.body.id}`, { headers: hub.auth('admin') })).status).toBe(404);
  });
});

describe('public paths', () => {
  it.each(['/healthz', '/api/v1/openapi.json'])('GET %s answers without a token', async (path) => {
    const res = await send('GET', path);
    expect(res.status).toBe(200);
    expect(typeof res.body).toBe('object');
  });

  it('the dashboard files are served without a token', async () => {
    const res = await fetch(`${base()}/`);
    expect(res.status).not.toBe(401);
    expect(res.status).not.toBe(403);
  });
});

describe('ways to present a token (POST /api/v1/write)', () => {
  it.each<[string, number, (t: string) => { path: string; headers: Record<string, string> }]>([
    ['Authorization: Bearer', 204, (t) => ({ path: '/api/v1/write?precision=ms', headers: { authorization: `Bearer ${t}` } })],
    ['Authorization: Token (Influx 2 clients)', 204, (t) => ({ path: '/api/v1/write?precision=ms', headers: { authorization: `Token ${t}` } })],
    ['?p= (Influx 1 clients)', 204, (t) => ({ path: `/api/v1/write?precision=ms&p=${encodeURIComponent(t)}`, headers: {} })],
    ['?p= with a wrong token', 401, () => ({ path: `/api/v1/write?precision=ms&p=${WRONG_TOKEN}`, headers: {} })],
    ['Authorization: Basic (not a scheme the hub takes)', 401, (t) => ({ path: '/api/v1/write?precision=ms', headers: { authorization: `Basic ${Buffer.from(`u:${t}`).toString('base64')}` } })],
  ])('%s -> %i', async (_name, status, request) => {
    const { path, headers } = request(hub.token.agent);
    const res = await send('POST', path, { headers: { 'content-type': 'text/plain', ...headers }, body: line('GPU-auth-2') });
    expect(res.status, JSON.stringify(res.body)).toBe(status);
  });

  it('a cross-origin text/plain POST without a token (what a web page can send) is refused: 401, nothing stored', async () => {
    const before = await hub.store.countSamples();
    const res = await send('POST', '/api/v1/write?precision=ms', {
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: 'https://evil.example', referer: 'https://evil.example/page', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' },
      body: line('GPU-evil-0'),
    });
    expect(res.status).toBe(401);
    await hub.store.flush();
    expect(await hub.store.countSamples()).toBe(before);
    expect(hub.fleet.list().some((c) => c.chipId === 'GPU-evil-0')).toBe(false);
  });
});

describe('the dashboard session (POST /api/v1/session)', () => {
  const signIn = (token: string) => send('POST', '/api/v1/session', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  const cookieOf = (res: Answer) => (res.headers.get('set-cookie') ?? '').split(';')[0]!;

  it.each<[string, number, () => string | null]>([
    ['no token (the body needs one)', 400, () => null],
    ['a wrong token', 401, () => WRONG_TOKEN],
    ['a revoked viewer token', 401, () => revoked.viewer],
    ['an agent token', 403, () => hub.token.agent],
    ['a viewer token', 200, () => hub.token.viewer],
    ['an admin token', 200, () => hub.token.admin],
  ])('with %s -> %i', async (_name, status, token) => {
    const t = token();
    const res = t === null ? await send('POST', '/api/v1/session', { headers: { 'content-type': 'application/json' }, body: '{}' }) : await signIn(t);
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    if (status === 200) {
      expect(res.headers.get('set-cookie')).toMatch(/^fleetscope_session=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Strict$/);
    } else {
      expect(res.headers.get('set-cookie')).toBeNull();
      expect(typeof res.body.message).toBe('string');
    }
    if (status === 403) expect(res.body.message).toMatch(/agent token cannot sign in/);
  });

  it('the cookie reads the API and opens /ws/live, but does not write; it says who is signed in', async () => {
    const cookie = cookieOf(await signIn(hub.token.viewer));
    expect(cookie).toMatch(/^fleetscope_session=/);
    expect((await send('GET', '/api/v1/chips', { headers: { cookie } })).status).toBe(200);
    expect((await send('GET', '/api/v1/session', { headers: { cookie } })).body).toEqual({ open: false, name: 'test viewer', role: 'viewer' });
    expect(await upgrade('/ws/live', { cookie })).toBe('open');
    expect((await send('POST', '/api/v1/write', { headers: { cookie, 'content-type': 'text/plain' }, body: line('GPU-auth-3') })).status).toBe(403);
    expect(await upgrade('/ws/agent', { cookie })).toMatchObject({ status: 403 });
  });

  it('a cookie whose token is revoked is refused at once', async () => {
    const t = hub.tokens.create('viewer', 'revoked while signed in');
    const cookie = cookieOf(await signIn(t.token));
    expect((await send('GET', '/api/v1/chips', { headers: { cookie } })).status).toBe(200);
    hub.tokens.revoke(t.id);
    expect((await send('GET', '/api/v1/chips', { headers: { cookie } })).status).toBe(401);
    expect(await upgrade('/ws/live', { cookie })).toMatchObject({ status: 401 });
  });

  it('DELETE signs out: 204 and the cookie cleared, with or without a token', async () => {
    for (const headers of [{}, hub.auth('viewer')]) {
      const res = await send('DELETE', '/api/v1/session', { headers });
      expect(res.status).toBe(204);
      expect(res.headers.get('set-cookie')).toMatch(/^fleetscope_session=; Max-Age=0; Path=\//);
    }
  });
});

describe('WebSocket endpoints', () => {
  const WS: [string, Access][] = [
    ['/ws/agent', 'ingest'],
    ['/ws/live', 'read'],
  ];
  it.each(WS.flatMap(([path, access]) => (['none', 'wrong', 'revoked', ...ROLES] as Presented[]).map((p) => [path, p, p === 'none' || p === 'wrong' || p === 'revoked' ? 401 : ALLOWED[access].includes(p) ? 'open' : 403] as const)))(
    '%s, token: %s -> %s',
    async (path, presented, expected) => {
      const t = secret(presented, path === '/ws/agent' ? 'ingest' : 'read');
      const res = await upgrade(path, bearer(t));
      if (expected === 'open') expect(res).toBe('open');
      else expect(res).toMatchObject({ status: expected, body: { code: expected === 401 ? 'unauthorized' : 'forbidden', message: expect.any(String) } });
    },
  );

  it.each(['?p=', 'Authorization: Token'])('/ws/agent takes the token as %s too', async (how) => {
    const t = hub.token.agent;
    const res = how === '?p=' ? await upgrade(`/ws/agent?p=${encodeURIComponent(t)}`) : await upgrade('/ws/agent', { authorization: `Token ${t}` });
    expect(res).toBe('open');
  });

  it.each<[string, 'open' | 403, string | undefined]>([
    ['no Origin (not a browser)', 'open', undefined],
    ["the hub's own origin", 'open', 'SELF'],
    ['an --allowed-origin', 'open', ALLOWED_ORIGIN],
    ['another origin', 403, 'https://evil.example'],
    ['the allowed origin over http', 403, ALLOWED_ORIGIN.replace('https', 'http')],
  ])('/ws/live from %s -> %s', async (_name, expected, origin) => {
    const headers: Record<string, string> = { ...hub.auth('viewer') };
    if (origin) headers.origin = origin === 'SELF' ? base() : origin;
    const res = await upgrade('/ws/live', headers);
    if (expected === 'open') expect(res).toBe('open');
    else expect(res).toMatchObject({ status: 403, body: { code: 'forbidden', message: expect.stringContaining('--allowed-origin') } });
  });

  it('the token is checked before the Origin: a wrong Origin without a token is 401', async () => {
    expect(await upgrade('/ws/live', { origin: 'https://evil.example' })).toMatchObject({ status: 401 });
  });

  it('an agent token opens /ws/agent and its hello is welcomed', async () => {
    const a = await hub.ws('/ws/agent');
    a.send(hello('auth-agent', [chipInfo(0, { chipId: 'GPU-auth-ws' })]));
    await a.waitFor((f) => f.type === 'welcome');
    a.close();
  });
});

describe('an open hub (auth off)', () => {
  let open: TestHub;
  beforeAll(async () => {
    open = await startTestHub({ auth: { open: true } });
  });
  afterAll(async () => {
    await open?.stop();
  });

  it('answers every route without a token, and says it is open', async () => {
    const url = `http://127.0.0.1:${open.port}`;
    expect(open.open).toBe(true);
    expect((await fetch(`${url}/api/v1/chips`)).status).toBe(200);
    expect((await fetch(`${url}/api/v1/write?precision=ms`, { method: 'POST', body: line('GPU-open-0') })).status).toBe(204);
    expect(await (await fetch(`${url}/api/v1/session`)).json()).toMatchObject({ open: true });
    const session = await fetch(`${url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'anything-at-all-1234' }) });
    expect(session.status).toBe(200);
    expect(session.headers.get('set-cookie')).toBeNull();
  });
});

describe('revocation and the session cookie', () => {
  let h: TestHub;
  beforeAll(async () => {
    h = await startTestHub({ revocationCheckMs: 100 });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("revoking a token closes the WebSockets it opened (1008), and only those", async () => {
    const doomed = h.tokens.create('agent', 'doomed');
    const a = await h.ws('/ws/agent', doomed.token);
    const b = await h.ws('/ws/agent');
    const live = await h.ws('/ws/live');
    h.tokens.revoke(doomed.id);
    await eventually(() => a.closeCode === 1008, 3000, 'the revoked token\'s socket closed');
    await new Promise((r) => setTimeout(r, 300));
    expect([b.closeCode, live.closeCode]).toEqual([null, null]);
    b.close();
    live.close();
  });

  it("a change made with the session cookie must come from the hub's own origin", async () => {
    const base = `http://127.0.0.1:${h.port}`;
    const cookie = `fleetscope_session=${h.token.admin}`;
    const post = (origin?: string) =>
      fetch(`${base}/api/v1/tokens`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', ...(origin ? { origin } : {}) }, body: JSON.stringify({ role: 'viewer' }) });
    const foreign = await post('https://evil.example');
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ code: 'forbidden' });
    expect((await post(base)).status).toBe(201);
    expect((await post()).status).toBe(201);
    // A bearer token is not a browser's ambient credential: no Origin rule.
    const bearer = await fetch(`${base}/api/v1/tokens`, { method: 'POST', headers: { ...h.auth('admin'), origin: 'https://evil.example', 'content-type': 'application/json' }, body: JSON.stringify({ role: 'viewer' }) });
    expect(bearer.status).toBe(201);
  });
});
