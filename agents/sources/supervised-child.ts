/**
 * One long-lived child process, supervised: its stdout as lines, a short tail of its stderr, a
 * hang watchdog, restarts with the project's backoff, and a graceful stop. The sources that run a
 * vendor tool (`nvidia-smi`, `neuron-monitor`) own only what the tool's output means.
 *
 * Life of a run: spawn → `onStart` → `onLine`… → the child exits, fails (`error`) or hangs (no
 * sign of life for `hangTimeoutMs`: killed with SIGKILL) → `onEnd(why, info)` → after
 * `info.restartInMs` the next run. `stop()` ends it all: SIGTERM, SIGKILL after `stopGraceMs`;
 * after it no callback fires and nothing restarts (also when called from a callback).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { backoffDelay, type BackoffPolicy } from '../../schema/backoff.ts';

/** Restart pacing of source children: 1 s, 2 s, 4 s … 30 s. */
export const CHILD_RESTART_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 30_000, factor: 2, jitter: 'none' };

/** How a run ended: it exited (or was killed by someone else), could not run or failed, or hung and was killed. */
export type EndReason = 'exit' | 'error' | 'hung';

export interface EndInfo {
  pid: number | undefined;
  /** Exit code / signal (`hung`: signal SIGKILL); null after `error`. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** `error` only: why it could not be spawned (ENOENT, EACCES …) or failed. */
  error: NodeJS.ErrnoException | null;
  /** The last characters of its stderr. */
  stderr: string;
  /** Output after the last newline (the child ended mid-line), or null. */
  unterminated: string | null;
  /** How long the run lasted. */
  ranMs: number;
  /** Time without a sign of life when it ended (`hung`: when it was killed). */
  silentMs: number;
  /** Delay before the next run (none if `stop()` is called from `onEnd`). */
  restartInMs: number;
}

export interface SupervisedChildOptions {
  command: string;
  args: readonly string[];
  /** Environment of the child (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** An unterminated line longer than this is dropped (`onOverflow`); the rest of it, up to its newline, arrives as a line. */
  maxLineChars?: number;
  /** No sign of life for longer than this (checked every quarter of it, 20 ms … 1 s): SIGKILL, the run ends as `hung`. */
  hangTimeoutMs: number;
  /** Sign of life: `output` (default) any stdout output; `manual` only `alive()` calls. */
  liveness?: 'output' | 'manual';
  /** Restart delays; attempt 0 after a stable run (default `CHILD_RESTART_BACKOFF`). */
  backoff?: BackoffPolicy;
  /** A run that lasted this long is stable (default 60 s); `markStable()` makes one stable sooner. */
  stableRunMs?: number;
  /** stop(): SIGTERM, then SIGKILL after this long (default 2 s). */
  stopGraceMs?: number;
  /** Characters of stderr kept (default 2000). */
  stderrTailChars?: number;
  /** A child was spawned (first run and every restart). */
  onStart?(pid: number): void;
  /** One line of stdout, without `\n` / `\r\n`. */
  onLine(line: string): void;
  /** An overlong line was dropped. */
  onOverflow?(): void;
  onEnd(why: EndReason, info: EndInfo): void;
}

interface Run {
  child: ChildProcess | null;
  startedAt: number;
  lastAliveAt: number;
  stable: boolean;
  /** Silence when the watchdog killed it. */
  hungAfterMs: number | null;
  rest: string;
  stderr: string;
  watchdog: NodeJS.Timeout | undefined;
  ended: boolean;
  done: Promise<void>;
  finish(): void;
}

export class SupervisedChild {
  private readonly o: SupervisedChildOptions;
  private run: Run | null = null;
  private restartTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private restartCount = 0;
  private stopped = false;
  private stopping: Promise<void> | null = null;

  constructor(opts: SupervisedChildOptions) {
    this.o = opts;
  }

  /** Runs started after the first. */
  get restarts(): number {
    return this.restartCount;
  }

  /** Spawn the first run (once). */
  start(): void {
    if (this.run || this.stopped) throw new Error(`supervised child ${this.o.command}: start() called twice or after stop()`);
    this.spawnRun();
  }

  /** A sign of life from the current run (`liveness: 'manual'`): restarts the hang timeout. */
  alive(): void {
    if (this.run && !this.run.ended) this.run.lastAliveAt = Date.now();
  }

  /** The current run counts as stable: the next restart comes after the initial delay. */
  markStable(): void {
    if (this.run && !this.run.ended) this.run.stable = true;
  }

  /** SIGTERM, SIGKILL after the grace period; resolves when the child is gone. No restart after it. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    const run = this.run;
    if (!run || run.ended) return;
    clearInterval(run.watchdog);
    // a child that could not be spawned (no pid) ends by itself, on its error event or a microtask
    const child = run.child;
    if (child?.pid === undefined) return run.done;
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), this.o.stopGraceMs ?? 2_000);
    await run.done;
    clearTimeout(kill);
  }

  private spawnRun(): void {
    const now = Date.now();
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    const run: Run = { child: null, startedAt: now, lastAliveAt: now, stable: false, hungAfterMs: null, rest: '', stderr: '', watchdog: undefined, ended: false, done, finish };
    this.run = run;
    let child: ChildProcess;
    try {
      child = spawn(this.o.command, [...this.o.args], { stdio: ['ignore', 'pipe', 'pipe'], env: this.o.env });
    } catch (err) {
      queueMicrotask(() => this.end(run, 'error', { error: err as NodeJS.ErrnoException }));
      return;
    }
    run.child = child;
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => this.onStdout(run, chunk));
    const tail = this.o.stderrTailChars ?? 2_000;
    child.stderr!.on('data', (chunk: string) => (run.stderr = (run.stderr + chunk).slice(-tail)));
    child.on('error', (error) => this.end(run, 'error', { error }));
    child.on('close', (code, signal) => this.end(run, run.hungAfterMs === null ? 'exit' : 'hung', { code, signal }));
    this.watch(run);
    if (child.pid !== undefined) this.o.onStart?.(child.pid);
  }

  private onStdout(run: Run, chunk: string): void {
    if (run.ended || this.stopped) return;
    if (this.o.liveness !== 'manual') run.lastAliveAt = Date.now();
    let from = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', from)) {
      const line = run.rest + chunk.slice(from, nl);
      run.rest = '';
      from = nl + 1;
      this.o.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
      if (run.ended || this.stopped) return;
    }
    run.rest += chunk.slice(from);
    if (run.rest.length > (this.o.maxLineChars ?? 64 * 1024)) {
      run.rest = '';
      this.o.onOverflow?.();
    }
  }

  /** Checks every quarter of the hang timeout (20 ms … 1 s): a hang is seen within 1.25 × hangTimeoutMs. */
  private watch(run: Run): void {
    const hangMs = this.o.hangTimeoutMs;
    run.watchdog = setInterval(() => {
      const silent = Date.now() - run.lastAliveAt;
      if (run.ended || this.stopped || run.hungAfterMs !== null || silent <= hangMs) return;
      run.hungAfterMs = silent;
      if (run.child?.pid !== undefined) run.child.kill('SIGKILL');
    }, Math.min(1_000, Math.max(20, hangMs / 4)));
    run.watchdog.unref();
  }

  private end(run: Run, why: EndReason, r: { code?: number | null; signal?: NodeJS.Signals | null; error?: NodeJS.ErrnoException }): void {
    if (run.ended) return;
    run.ended = true;
    clearInterval(run.watchdog);
    const child = run.child;
    // an error after the spawn (e.g. a failed kill): do not leave it running beside the next run
    if (why === 'error' && child?.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    run.finish();
    if (this.stopped) return;
    const now = Date.now();
    const ranMs = now - run.startedAt;
    if (run.stable || ranMs >= (this.o.stableRunMs ?? 60_000)) this.attempt = 0;
    const restartInMs = backoffDelay(this.attempt++, this.o.backoff ?? CHILD_RESTART_BACKOFF);
    this.o.onEnd(why, {
      pid: child?.pid,
      code: r.code ?? null,
      signal: r.signal ?? null,
      error: r.error ?? null,
      stderr: run.stderr,
      unterminated: run.rest === '' ? null : run.rest,
      ranMs,
      silentMs: run.hungAfterMs ?? now - run.lastAliveAt,
      restartInMs,
    });
    if (this.stopped) return;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.restartCount++;
      this.spawnRun();
    }, restartInMs);
  }
}
