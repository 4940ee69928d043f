/**
 * agents/work/work-endpoint.ts with real sockets: HTTP on 127.0.0.1 and a Unix socket, the answers
 * to good and bad input, coalescing per series, the series cap, a hostile flood from another
 * process while a timer runs here (the agent's sampling must not be delayed), slow and huge bodies.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.ts';
import { WorkEndpoint, type WorkEndpointOptions } from '../../agents/work/work-endpoint.ts';
import { JobLabels, parseJobFile } from '../../agents/work/job-labels.ts';
import { PendingWork } from '../../agents/work/pending-work.ts';
import { workReportSchema } from '../../schema/work.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';

const FLOOD = fileURLToPath(new URL('../fixtures/work/flood.mjs', import.meta.url));

let endpoint: WorkEndpoint | null = null;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  await endpoint?.stop();
  endpoint = null;
  for (const c of cleanups.splice(0)) c();
});

async function start(opts: Partial<WorkEndpointOptions> = {}): Promise<WorkEndpoint> {
  endpoint = new WorkEndpoint({ port: 0, log: silentLogger, ...opts });
  await endpoint.start();
  return endpoint;
}

interface Answer {
  status: number;
  body: any;
  headers: http.IncomingHttpHeaders;
}

function request(port: number, method: string, body?: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }, path = '/v1/work'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : null, headers: res.headers }));
    });
    // The endpoint may answer (413) and close before the whole body is written.
    req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'EPIPE' || (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
    req.end(body);
  });
}

const post = (port: number, value: unknown, headers?: Record<string, string>) => request(port, 'POST', typeof value === 'string' ? value : JSON.stringify(value), headers);

/** A Unix socket client: send lines, read answer lines. */
async function lineClient(path: string) {
  const sock = net.connect(path);
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  const lines: string[] = [];
  let buf = '';
  let closed = false;
  sock.setEncoding('utf8');
  sock.on('data', (d) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  sock.on('error', () => {});
  sock.on('close', () => (closed = true));
  return {
    sock,
    lines,
    get closed() {
      return closed;
    },
    async answers(n: number, timeoutMs = 3000): Promise<string[]> {
      const until = Date.now() + timeoutMs;
      while (lines.length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
      return lines.slice(0, n);
    },
  };
}

const T = Date.now();

describe('POST /v1/work', () => {
  const cases: { name: string; body: unknown; headers?: Record<string, string>; status: number; error?: RegExp; accepted?: number }[] = [
    { name: 'one report', body: { job: 'run-1', counters: { tokens: 100, steps: 2 } }, status: 202, accepted: 1 },
    { name: 'with ts, chips and labels', body: { ts: T, job: 'slurm/123', counters: { samples: 5 }, chips: ['GPU-1', 'GPU-2'], labels: { user: 'ada' } }, status: 202, accepted: 1 },
    { name: 'attribution only (no counters)', body: { job: 'run-1', counters: {} }, status: 202, accepted: 1 },
    { name: 'the array form', body: [{ job: 'a', counters: { tokens: 1 } }, { job: 'b', counters: { steps: 1 } }], status: 202, accepted: 2 },
    { name: 'no content-type', body: { job: 'a', counters: { tokens: 1 } }, headers: {}, status: 202, accepted: 1 },
    { name: 'content-type with charset', body: { job: 'a', counters: { tokens: 1 } }, headers: { 'content-type': 'application/json; charset=utf-8' }, status: 202, accepted: 1 },
    { name: 'bad JSON', body: '{"job": "a", "counters": {', status: 400, error: /not JSON/ },
    { name: 'missing job', body: { counters: { tokens: 1 } }, status: 400, error: /^job: / },
    { name: 'bad job id', body: { job: 'has space', counters: {} }, status: 400, error: /^job: job must be/ },
    { name: 'missing counters', body: { job: 'a' }, status: 400, error: /^counters: / },
    { name: 'bad unit name', body: { job: 'a', counters: { '1tokens': 5 } }, status: 400, error: /^counters\.1tokens: a unit is a letter/ },
    { name: 'negative counter', body: { job: 'a', counters: { tokens: -1 } }, status: 400, error: /^counters\.tokens: a counter is from 0 to 1e18/ },
    { name: 'string counter', body: { job: 'a', counters: { tokens: '5' } }, status: 400, error: /^counters\.tokens: / },
    { name: 'ts in seconds', body: { ts: 1_700_000_000, job: 'a', counters: {} }, status: 400, error: /^ts: / },
    { name: 'bad chip id', body: { job: 'a', counters: {}, chips: ['bad chip'] }, status: 400, error: /^chips\[0\]: a chip id is URL-safe/ },
    { name: 'unknown key (the short form)', body: { job: 'a', tokens: 5, counters: {} }, status: 400, error: /unknown key "tokens"/ },
    { name: 'an invalid report in an array', body: [{ job: 'a', counters: {} }, { job: 'b', counters: { x: -2 } }], status: 400, error: /^\[1\]\.counters\.x: / },
    { name: 'an empty array', body: [], status: 400, error: /empty array/ },
    { name: 'not an object', body: 42, status: 400, error: /a report is a JSON object/ },
    { name: 'a form body', body: 'job=a', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, error: /content-type/ },
  ];
  it.each(cases)('$name → $status', async ({ body, headers, status, error, accepted }) => {
    const e = await start();
    const a = await post(e.port!, body, headers);
    expect(a.status, JSON.stringify(a.body)).toBe(status);
    if (error) expect(a.body.error).toMatch(error);
    if (accepted !== undefined) {
      expect(a.body).toEqual({ accepted });
      expect(e.drain()).toHaveLength(accepted);
    } else expect(e.drain()).toEqual([]);
  });

  it('defaults ts to the time received, keeps chips the agent may not have, and every drained report is valid', async () => {
    const e = await start();
    const before = Date.now();
    expect((await post(e.port!, { job: 'j', counters: { tokens: 7 }, chips: ['GPU-elsewhere'] })).status).toBe(202);
    const [r] = e.drain();
    expect(r.ts).toBeGreaterThanOrEqual(before);
    expect(r.ts).toBeLessThanOrEqual(Date.now());
    expect(r).toMatchObject({ job: 'j', counters: { tokens: 7 }, chips: ['GPU-elsewhere'] });
    expect(workReportSchema.safeParse(r).success).toBe(true);
  });

  it('answers 413 to a body over 64 KiB, by its content-length or as it arrives', async () => {
    const e = await start();
    const big = JSON.stringify({ job: 'a', counters: {}, labels: { pad: 'x'.repeat(65 * 1024) } });
    const a = await post(e.port!, big);
    expect(a.status).toBe(413);
    expect(a.body.error).toMatch(/over 65536 bytes/);
    const chunked = await request(e.port!, 'POST', undefined, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    // (an empty chunked body is just bad JSON)
    expect(chunked.status).toBe(400);
    expect(e.stats()).toEqual({ pendingSeries: 0, accepted: 0, refused: 2 });
  });

  it('cuts off a huge body sent slowly, without reading it all', async () => {
    const e = await start();
    const sock = net.connect(e.port!, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    let answer = '';
    let closed = false;
    sock.on('data', (d) => (answer += d));
    sock.on('error', () => {});
    sock.on('close', () => (closed = true));
    sock.write('POST /v1/work HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n');
    const chunk = Buffer.alloc(8192, 'x');
    let written = 0;
    while (!closed && !answer && written < 10 * 1024 * 1024) {
      sock.write(`${chunk.length.toString(16)}\r\n`);
      sock.write(chunk);
      sock.write('\r\n');
      written += chunk.length;
      await new Promise((r) => setTimeout(r, 5));
    }
    const until = Date.now() + 2000;
    while (!closed && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
    expect(written).toBeLessThan(256 * 1024);
    expect(closed).toBe(true);
    sock.destroy();
  });

  it('answers 408 to a body that does not arrive in time, and closes the connection', async () => {
    const e = await start({ bodyTimeoutMs: 300 });
    const sock = net.connect(e.port!, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    let answer = '';
    let closed = false;
    sock.on('data', (d) => (answer += d));
    sock.on('error', () => {});
    sock.on('close', () => (closed = true));
    sock.write('POST /v1/work HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"job":');
    const until = Date.now() + 3000;
    while (!closed && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(closed).toBe(true);
  });

  it('answers 404, 405 and GET stats', async () => {
    const e = await start();
    expect((await request(e.port!, 'GET', undefined, {}, '/other')).status).toBe(404);
    const del = await request(e.port!, 'DELETE');
    expect(del.status).toBe(405);
    expect(del.headers.allow).toBe('GET, HEAD, POST');
    await post(e.port!, { job: 'a', counters: { tokens: 1 } });
    await post(e.port!, { job: 'a', counters: { tokens: 2 } });
    await post(e.port!, { job: 'b', counters: { tokens: 2 } });
    await post(e.port!, 'nope');
    const stats = await request(e.port!, 'GET');
    expect(stats.status).toBe(200);
    expect(stats.body).toEqual({ pendingSeries: 2, accepted: 3, refused: 3 });
  });

  it('listens on 127.0.0.1 only, and says so when its port is taken', async () => {
    const e = await start();
    const addr = (e as any).http.address();
    expect(addr.address).toBe('127.0.0.1');
    const second = new WorkEndpoint({ port: e.port!, log: silentLogger });
    await expect(second.start()).rejects.toThrow(new RegExp(`--work-port ${e.port}: cannot listen on 127\\.0\\.0\\.1:${e.port}: .*EADDRINUSE`));
  });
});

describe('coalescing and limits', () => {
  it('keeps only the newest report of a series: 100 reports → 1, with the newest values', async () => {
    const e = await start();
    for (let i = 1; i <= 100; i++) {
      const a = await post(e.port!, { ts: T + i, job: 'train', counters: { tokens: i * 1000, steps: i }, chips: i % 2 ? ['GPU-b', 'GPU-a'] : ['GPU-a', 'GPU-b'], labels: { i: String(i) } });
      expect(a.status).toBe(202);
    }
    const out = e.drain();
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ ts: T + 100, job: 'train', counters: { tokens: 100_000, steps: 100 }, labels: { i: '100' } });
    expect(e.drain()).toEqual([]);
  });

  it('a late (older) report does not roll a counter back', () => {
    const p = new PendingWork();
    p.add({ ts: T + 10, job: 'j', counters: { tokens: 50 } });
    p.add({ ts: T + 5, job: 'j', counters: { tokens: 40 } });
    expect(p.drain()).toEqual([{ ts: T + 10, job: 'j', counters: { tokens: 50 } }]);
  });

  it('bounds the bytes pending, also when a known series grows', () => {
    const p = new PendingWork(1000, 4096);
    expect(p.add({ ts: T, job: 'a', counters: { tokens: 1 } })).toBe(true);
    expect(p.add({ ts: T, job: 'a', counters: { tokens: 2 }, labels: { pad: 'x'.repeat(5000) } })).toBe(false);
    expect(p.add({ ts: T, job: 'b', counters: { tokens: 1 }, labels: { pad: 'x'.repeat(5000) } })).toBe(false);
    expect(p.add({ ts: T, job: 'a', counters: { tokens: 3 }, labels: { pad: 'x'.repeat(1000) } })).toBe(true);
    expect(p.bytes).toBeGreaterThan(1000);
    expect(p.drain()).toMatchObject([{ job: 'a', counters: { tokens: 3 } }]);
    expect(p.bytes).toBe(0);
  });

  it('different jobs, chips or units are different series', () => {
    const p = new PendingWork();
    p.add({ ts: T, job: 'j', counters: { tokens: 1 } });
    p.add({ ts: T, job: 'j', counters: { tokens: 1, steps: 1 } });
    p.add({ ts: T, job: 'j', counters: { tokens: 1 }, chips: ['GPU-1'] });
    p.add({ ts: T, job: 'k', counters: { tokens: 1 } });
    expect(p.size).toBe(4);
    expect(p.drain(3)).toHaveLength(3);
    expect(p.drain()).toHaveLength(1);
  });

  it('refuses the 1,001st series with 429 (HTTP) and "error: busy" (socket); known series still merge; room again after drain', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.cleanup());
    const socketPath = join(tmp.dir, 'work.sock');
    const e = await start({ socketPath });
    const reports = Array.from({ length: 1000 }, (_, i) => ({ job: `job-${i}`, counters: { steps: i } }));
    expect(await post(e.port!, reports)).toMatchObject({ status: 202, body: { accepted: 1000 } });
    const busy = await post(e.port!, { job: 'job-new', counters: { steps: 1 } });
    expect(busy.status).toBe(429);
    expect(busy.headers['retry-after']).toBe('1');
    expect(busy.body.error).toMatch(/busy/);
    expect((await post(e.port!, { job: 'job-5', counters: { steps: 99 } })).status).toBe(202);
    const c = await lineClient(socketPath);
    c.sock.write('{"job": "job-new", "counters": {"steps": 1}}\n{"job": "job-7", "counters": {"steps": 70}}\n');
    expect(await c.answers(2)).toEqual(['error: busy', 'ok']);
    const drained = e.drain();
    expect(drained).toHaveLength(1000);
    expect(drained.find((r) => r.job === 'job-5')!.counters.steps).toBe(99);
    expect(drained.find((r) => r.job === 'job-7')!.counters.steps).toBe(70);
    expect((await post(e.port!, { job: 'job-new', counters: { steps: 1 } })).status).toBe(202);
    c.sock.destroy();
  });
});

describe('Unix socket', () => {
  it('answers each line with ok or error, refuses lines over 64 KiB and closes, and unlinks on stop', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.cleanup());
    const socketPath = join(tmp.dir, 'work.sock');
    const e = await start({ port: undefined, socketPath });
    expect(e.port).toBeNull();
    const c = await lineClient(socketPath);
    // Lines split across writes and several lines in one write.
    c.sock.write('{"job": "sock-job", "counters": {"tok');
    await new Promise((r) => setTimeout(r, 20));
    c.sock.write('ens": 5}}\n\n{"job": "sock-job", "counters": {"tokens": 9}}\nnot json\n{"job": "x", "counters": {"tokens": -1}}\n[{"job": "y", "counters": {}}]\n');
    expect(await c.answers(5)).toEqual(['ok', 'ok', expect.stringMatching(/^error: body is not JSON/), expect.stringMatching(/^error: counters\.tokens: /), 'ok']);
    const drained = e.drain();
    expect(drained.map((r) => [r.job, r.counters])).toEqual([['sock-job', { tokens: 9 }], ['y', {}]]);
    c.sock.write('{"job": "' + 'x'.repeat(70 * 1024));
    const until = Date.now() + 3000;
    while (!c.closed && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(c.lines.at(-1)).toMatch(/^error: line over 65536 bytes/);
    expect(c.closed).toBe(true);
    expect(e.stats()).toMatchObject({ accepted: 3, refused: 3 });
    await e.stop();
    expect(existsSync(socketPath)).toBe(false);
  });

  it('answers a last line sent without its newline before the client closes its side', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.cleanup());
    const socketPath = join(tmp.dir, 'w.sock');
    const e = await start({ port: undefined, socketPath });
    const c = await lineClient(socketPath);
    c.sock.end('{"job": "last", "counters": {"steps": 3}}');
    expect(await c.answers(1)).toEqual(['ok']);
    expect(e.drain()).toMatchObject([{ job: 'last', counters: { steps: 3 } }]);
  });

  it('removes a stale socket file at start, and refuses to replace a live one or a plain file', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.cleanup());
    const socketPath = join(tmp.dir, 'stale.sock');
    // A process that listens and dies without cleaning up leaves the file behind.
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.stdout.write('up\\n'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => child.stdout!.once('data', r));
    const live = new WorkEndpoint({ socketPath, log: silentLogger });
    await expect(live.start()).rejects.toThrow(/another process listens/);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(existsSync(socketPath)).toBe(true);
    const e = await start({ port: undefined, socketPath });
    const c = await lineClient(socketPath);
    c.sock.write('{"job": "j", "counters": {}}\n');
    expect(await c.answers(1)).toEqual(['ok']);
    c.sock.destroy();
    await e.stop();
    const plain = join(tmp.dir, 'plain');
    writeFileSync(plain, 'keep me');
    await expect(new WorkEndpoint({ socketPath: plain, log: silentLogger }).start()).rejects.toThrow(/not a socket/);
    expect(existsSync(plain)).toBe(true);
  });
});

describe('hostile flood', () => {
  /** One flood of `n` requests from another process while a 100 ms timer runs here; the timer's lateness (ms) and the flood's tally. */
  async function flood(port: number, n: number) {
    const lateness: number[] = [];
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      lateness.push(now - last - 100);
      last = now;
    }, 100);
    try {
      const child = spawn(process.execPath, [FLOOD, String(port), String(n)], { stdio: ['ignore', 'pipe', 'pipe'] });
      // The flood's own CPU is not what is measured (this machine may have few cores): it runs niced.
      try {
        setPriority(child.pid!, 19);
      } catch {
        // not allowed here: measure anyway
      }
      let out = '';
      let err = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (err += d));
      const code = await new Promise((r) => child.once('exit', r));
      expect(code, err).toBe(0);
      // Keep the timer running a little after the flood, so that the tail is measured too.
      await new Promise((r) => setTimeout(r, 300));
      const sorted = [...lateness].sort((a, b) => a - b);
      const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
      return { tally: JSON.parse(out) as { statuses: Record<string, number>; errors: number }, sorted, p99 };
    } finally {
      clearInterval(timer);
    }
  }

  it('5,000 requests in parallel batches from another process: a 100 ms timer here stays on time, nothing crashes', async () => {
    const e = await start();
    // A loaded machine (other processes) can delay any timer once; the endpoint delaying it shows in every try.
    const tries: string[] = [];
    let best = Infinity;
    for (let attempt = 0; attempt < 3 && best >= 50; attempt++) {
      const { tally, sorted, p99 } = await flood(e.port!, 5000);
      const answered = Object.values(tally.statuses).reduce((a, b) => a + b, 0);
      expect(answered + tally.errors).toBe(5000);
      expect(tally.statuses['202']).toBeGreaterThan(500);
      expect(tally.statuses['400']).toBeGreaterThan(0);
      expect(tally.statuses['413']).toBeGreaterThan(0);
      expect(tally.statuses['200']).toBeGreaterThan(0);
      if (attempt === 0) expect(tally.statuses['429']).toBeGreaterThan(0);
      expect(sorted.length).toBeGreaterThan(5);
      tries.push(sorted.map((x) => x.toFixed(1)).join(' '));
      best = Math.min(best, p99);
      e.drain();
    }
    expect(best, `timer lateness (ms), by try:\n${tries.join('\n')}`).toBeLessThan(50);
    // Still serving, with at most the series cap pending.
    const stats = await request(e.port!, 'GET');
    expect(stats.status).toBe(200);
    expect(stats.body.pendingSeries).toBeLessThanOrEqual(1000);
  });
});

describe('job labels', () => {
  it('parses a JSON job file and KEY=VALUE lines', () => {
    expect(parseJobFile('{"job": "slurm-42", "labels": {"user": "ada"}, "chips": ["GPU-1"]}')).toEqual({ job: 'slurm-42', labels: { user: 'ada' }, chips: ['GPU-1'] });
    expect(parseJobFile('# written by the prolog\njob=slurm-42\nuser = ada\nexport partition="gpu"\n')).toEqual({ job: 'slurm-42', labels: { user: 'ada', partition: 'gpu' } });
    expect(parseJobFile('')).toBeNull();
    expect(parseJobFile('user=ada')).toBeNull();
    expect(() => parseJobFile('{"job": "a b"}')).toThrow(/job/);
    expect(() => parseJobFile('{"job": "a", "chip": []}')).toThrow(/unknown key "chip"/);
    expect(() => parseJobFile('just words')).toThrow(/KEY=VALUE/);
  });

  it('re-reads the file when it changes, falls back to the environment, reports when due, logs each problem once', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.cleanup());
    const file = join(tmp.dir, 'job');
    const warnings: string[] = [];
    const log = { ...silentLogger, warn: (m: string, f?: Record<string, unknown>) => warnings.push(`${m} ${String(f?.err)}`) };
    const jobs = new JobLabels({ jobFile: file, jobEnv: ['NOPE', 'MY_JOB'], env: { MY_JOB: 'env-job' }, log });
    await jobs.ready();
    expect(jobs.current()).toEqual({ job: 'env-job' });
    expect(warnings).toHaveLength(1); // the missing file, once
    await jobs.poll();
    expect(warnings).toHaveLength(1);
    const first = jobs.due(T)!;
    expect(first).toEqual({ ts: T, job: 'env-job', counters: {} });
    jobs.sent(first);
    expect(jobs.due(T + 1000)).toBeNull();
    expect(jobs.due(T + 60_000)).toMatchObject({ job: 'env-job' });

    writeFileSync(file, 'job=file-job\nuser=ada\n');
    await jobs.poll();
    expect(jobs.current()).toEqual({ job: 'file-job', labels: { user: 'ada' } });
    const changed = jobs.due(T + 2000)!;
    expect(changed).toMatchObject({ job: 'file-job', labels: { user: 'ada' }, counters: {} });
    jobs.sent(changed);
    expect(jobs.due(T + 3000)).toBeNull();

    writeFileSync(file, '{broken');
    // A new mtime (some filesystems keep whole seconds).
    const { utimesSync } = await import('node:fs');
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    await jobs.poll();
    await jobs.poll();
    expect(jobs.current()).toEqual({ job: 'env-job' });
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toMatch(/not valid JSON/);
  });
});
