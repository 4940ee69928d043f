/** SupervisedChild against small `node -e` children: lines, ends, hangs, restarts with backoff, stop. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SupervisedChild, type EndInfo, type EndReason, type SupervisedChildOptions } from '../../agents/sources/supervised-child.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';

const FAST = { initialMs: 20, maxMs: 80, factor: 2, jitter: 'none' } as const;

interface Recorded {
  starts: Array<{ pid: number; at: number }>;
  lines: string[];
  overflows: number;
  ends: Array<{ why: EndReason; info: EndInfo; at: number }>;
}

interface Hooks {
  line?(line: string, child: SupervisedChild): void;
  end?(why: EndReason, child: SupervisedChild): void;
}

const running: SupervisedChild[] = [];
const cleanups: Array<() => void> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
  for (const c of cleanups.splice(0)) c();
});

/** Supervise `node -e script` (a long hang timeout unless given); records every callback. */
function supervise(script: string, opts: Partial<SupervisedChildOptions> = {}, hooks: Hooks = {}) {
  const rec: Recorded = { starts: [], lines: [], overflows: 0, ends: [] };
  const child: SupervisedChild = new SupervisedChild({
    command: process.execPath,
    args: ['-e', script],
    hangTimeoutMs: 10_000,
    backoff: FAST,
    stopGraceMs: 2_000,
    ...opts,
    onStart: (pid) => rec.starts.push({ pid, at: Date.now() }),
    onLine: (line) => (rec.lines.push(line), hooks.line?.(line, child)),
    onOverflow: () => rec.overflows++,
    onEnd: (why, info) => (rec.ends.push({ why, info, at: Date.now() }), hooks.end?.(why, child)),
  });
  running.push(child);
  child.start();
  return { child, rec };
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('SupervisedChild', { timeout: 20_000 }, () => {
  it('passes args and env, splits stdout into lines across chunks, keeps the stderr tail and the unterminated rest', async () => {
    const script = `
      process.stdout.write(process.argv.slice(1).join(' ') + ' ' + process.env.SC_TEST + '\\none\\ntw');
      setTimeout(() => { process.stdout.write('o\\r\\n\\nthree\\ntail'); process.stderr.write('err1\\nerr2\\n'); }, 20);`;
    const { child, rec } = supervise(script, { args: ['-e', script, 'a1', 'a2'], env: { ...process.env, SC_TEST: 'from-env' }, stderrTailChars: 5 });
    await waitFor(() => rec.ends.length === 1, 'end');
    await child.stop();
    expect(rec.lines).toEqual(['a1 a2 from-env', 'one', 'two', '', 'three']);
    const [{ why, info }] = rec.ends;
    expect(why).toBe('exit');
    expect(info).toMatchObject({ pid: rec.starts[0]!.pid, code: 0, signal: null, error: null, stderr: 'err2\n', unterminated: 'tail', restartInMs: 20 });
    expect(info.ranMs).toBeGreaterThan(20);
    expect(rec.overflows).toBe(0);
  });

  it('drops an unterminated line longer than maxLineChars', async () => {
    const { rec } = supervise(`process.stdout.write('short\\n' + 'x'.repeat(30))`, { maxLineChars: 10 });
    await waitFor(() => rec.ends.length === 1, 'end');
    expect(rec.lines).toEqual(['short']);
    expect(rec.overflows).toBe(1);
    expect(rec.ends[0]!.info.unterminated).toBeNull();
  });

  it('restarts a failing child with capped exponential backoff and counts restarts', async () => {
    const { child, rec } = supervise(`process.stderr.write('boom\\n'); process.exit(3)`);
    await waitFor(() => rec.ends.length >= 5, '5 ends');
    await child.stop();
    expect(rec.ends.slice(0, 5).map((e) => [e.why, e.info.code, e.info.stderr, e.info.restartInMs])).toEqual([
      ['exit', 3, 'boom\n', 20],
      ['exit', 3, 'boom\n', 40],
      ['exit', 3, 'boom\n', 80],
      ['exit', 3, 'boom\n', 80],
      ['exit', 3, 'boom\n', 80],
    ]);
    for (let i = 0; i < 4; i++) expect(rec.starts[i + 1]!.at - rec.ends[i]!.at).toBeGreaterThanOrEqual(rec.ends[i]!.info.restartInMs - 2);
    expect(child.restarts).toBe(rec.starts.length - 1);
    expect(child.restarts).toBeGreaterThanOrEqual(4);
    expect(new Set(rec.starts.map((s) => s.pid)).size).toBe(rec.starts.length);
  });

  it('starts the backoff over after a stable run', async () => {
    const dir = tempDir('fleetscope-sc-');
    cleanups.push(dir.cleanup);
    // runs 0 and 1 exit at once; run 2 lasts 500 ms (stableRunMs is 400 ms, above a node start on a busy machine)
    const script = `
      const fs = require('fs'), f = process.env.SC_COUNT;
      const n = fs.existsSync(f) ? Number(fs.readFileSync(f, 'utf8')) : 0;
      fs.writeFileSync(f, String(n + 1));
      setTimeout(() => process.exit(1), n === 2 ? 500 : 0);`;
    const { child, rec } = supervise(script, { env: { ...process.env, SC_COUNT: join(dir.dir, 'count') }, stableRunMs: 400 });
    await waitFor(() => rec.ends.length >= 3, '3 ends');
    await child.stop();
    expect(rec.ends[2]!.info.ranMs).toBeGreaterThanOrEqual(400);
    expect(rec.ends.slice(0, 3).map((e) => e.info.restartInMs)).toEqual([20, 40, 20]); // not 80
  });

  it('markStable() makes a run stable before stableRunMs', async () => {
    const { child, rec } = supervise(`console.log('ok'); process.exit(1)`, { stableRunMs: 60_000 }, { line: (_l, c) => c.markStable() });
    await waitFor(() => rec.ends.length >= 3, '3 ends');
    await child.stop();
    expect(rec.ends.slice(0, 3).map((e) => e.info.restartInMs)).toEqual([20, 20, 20]);
  });

  it('reports a command that cannot be spawned as error, and keeps retrying', async () => {
    const { child, rec } = supervise('', { command: '/nonexistent/dir/tool' });
    await waitFor(() => rec.ends.length >= 2, '2 ends');
    await child.stop();
    expect(rec.starts).toEqual([]);
    expect(rec.ends[0]!.why).toBe('error');
    expect(rec.ends[0]!.info).toMatchObject({ pid: undefined, code: null, signal: null, restartInMs: 20 });
    expect(rec.ends[0]!.info.error?.code).toBe('ENOENT');
    expect(rec.ends[1]!.info.restartInMs).toBe(40);
    expect(child.restarts).toBeGreaterThanOrEqual(1);
  });

  describe('hang detection', () => {
    // 60 lines, one every 35 ms (about twice the hang timeout in all), then silence. The timeout
    // also covers the child's start (node's own start took over 300 ms on a loaded machine).
    const script = `let i = 0; const t = setInterval(() => { console.log('line ' + i); if (++i === 60) { clearInterval(t); setInterval(() => {}, 1000); } }, 35);`;
    const hangTimeoutMs = 1000;

    it('kills a child that prints nothing for hangTimeoutMs; any output counts as life', async () => {
      const { child, rec } = supervise(script, { hangTimeoutMs });
      await waitFor(() => rec.ends.length === 1, 'hung');
      await child.stop();
      expect(rec.lines).toHaveLength(60); // its output kept it alive
      const [{ why, info }] = rec.ends;
      expect(why).toBe('hung');
      expect(info).toMatchObject({ signal: 'SIGKILL', code: null, restartInMs: 20 });
      expect(info.silentMs).toBeGreaterThan(hangTimeoutMs);
      expect(info.silentMs).toBeLessThan(hangTimeoutMs + 500);
      expect(isAlive(info.pid!)).toBe(false);
    });

    it("liveness 'manual': only alive() counts", async () => {
      const { child, rec } = supervise(script, { hangTimeoutMs, liveness: 'manual' });
      await waitFor(() => rec.ends.length === 1, 'hung');
      await child.stop();
      expect(rec.ends[0]!.why).toBe('hung');
      expect(rec.lines.length).toBeLessThan(60); // killed while still printing
    });

    it("liveness 'manual' with alive() on every line", async () => {
      const { child, rec } = supervise(script, { hangTimeoutMs, liveness: 'manual' }, { line: (_l, c) => c.alive() });
      await waitFor(() => rec.ends.length === 1, 'hung');
      await child.stop();
      expect(rec.ends[0]!.why).toBe('hung');
      expect(rec.lines).toHaveLength(60);
    });
  });

  describe('stop()', () => {
    it('during a run: SIGTERM, resolves when the child is gone, no onEnd and no restart', async () => {
      const dir = tempDir('fleetscope-sc-');
      cleanups.push(dir.cleanup);
      const marker = join(dir.dir, 'got-sigterm');
      const script = `process.on('SIGTERM', () => { require('fs').writeFileSync(${JSON.stringify(marker)}, ''); process.exit(0); }); console.log('ready'); setInterval(() => {}, 1000);`;
      const { child, rec } = supervise(script, { stopGraceMs: 5_000 });
      await waitFor(() => rec.lines.includes('ready'), 'ready');
      const t0 = Date.now();
      await child.stop();
      expect(Date.now() - t0).toBeLessThan(2_000);
      expect(existsSync(marker)).toBe(true);
      expect(isAlive(rec.starts[0]!.pid)).toBe(false);
      await sleep(60);
      expect(rec.ends).toEqual([]);
      expect(rec.starts).toHaveLength(1);
      expect(child.restarts).toBe(0);
    });

    it('SIGKILLs a child that ignores SIGTERM after stopGraceMs', async () => {
      const script = `process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000);`;
      const { child, rec } = supervise(script, { stopGraceMs: 100 });
      await waitFor(() => rec.lines.includes('ready'), 'ready');
      const t0 = Date.now();
      await child.stop();
      expect(Date.now() - t0).toBeGreaterThanOrEqual(95);
      expect(isAlive(rec.starts[0]!.pid)).toBe(false);
      expect(rec.ends).toEqual([]);
    });

    it('while a restart is pending: no restart', async () => {
      const { child, rec } = supervise(`process.exit(1)`, { backoff: { ...FAST, initialMs: 100 } });
      await waitFor(() => rec.ends.length === 1, 'end');
      await child.stop();
      await sleep(200);
      expect(rec.starts).toHaveLength(1);
      expect(child.restarts).toBe(0);
    });

    it('from onEnd: no restart', async () => {
      const { child, rec } = supervise(`process.exit(1)`, {}, { end: (_w, c) => void c.stop() });
      await waitFor(() => rec.ends.length === 1, 'end');
      await sleep(100);
      expect(rec.starts).toHaveLength(1);
      expect(child.restarts).toBe(0);
    });

    it('from onLine: no more lines, no onEnd', async () => {
      const script = `process.stdout.write('a\\nb\\nc\\n'); setInterval(() => {}, 1000);`;
      const { child, rec } = supervise(script, {}, { line: (_l, c) => void c.stop() });
      await waitFor(() => rec.lines.length > 0, 'a line');
      await child.stop();
      expect(rec.lines).toEqual(['a']);
      expect(rec.ends).toEqual([]);
      expect(isAlive(rec.starts[0]!.pid)).toBe(false);
    });

    it('start() after stop() throws', async () => {
      const { child } = supervise(`setInterval(() => {}, 1000)`);
      await child.stop();
      expect(() => child.start()).toThrow(/after stop/);
    });
  });
});
