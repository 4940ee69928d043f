/**
 * Which job runs on this host, from a file the scheduler or a prolog writes (`--job-file`) or from
 * the agent's environment (`--job-env SLURM_JOB_ID,POD_NAME`). The agent reports it to the hub as
 * an attribution report (no counters) when it changes and at least every minute while it is set.
 *
 * The file is JSON `{"job": "...", "labels": {...}, "chips": [...]}` (chips optional: absent means
 * every chip of the agent) or `KEY=VALUE` lines, where `job=` gives the job id and other keys
 * become labels. It is re-read when its modification time changes, checked at most once per tick,
 * without blocking; errors are logged once per change of the file, never thrown.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Logger } from '../../common/logger.ts';
import { checkWorkReport, isJobId } from '../../schema/work-check.ts';
import type { WorkReport } from '../../schema/work.ts';

/** How often an unchanged job is reported again. */
export const ATTRIBUTION_EVERY_MS = 60_000;
/** Largest job file read. */
const MAX_JOB_FILE_BYTES = 64 * 1024;

export interface JobInfo {
  job: string;
  labels?: Record<string, string>;
  chips?: string[];
}

export interface JobLabelsOptions {
  jobFile?: string;
  /** Environment variables, in order: the first one set gives the job id. */
  jobEnv?: string[];
  log: Logger;
  env?: NodeJS.ProcessEnv;
}

/** Parse a job file's text; throws an Error saying what is wrong. Null: the file names no job. */
export function parseJobFile(text: string): JobInfo | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  let info: Record<string, unknown>;
  if (trimmed.startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (err) {
      throw new Error(`not valid JSON: ${(err as Error).message}`);
    }
    const { job, labels, chips, ...rest } = value as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length) throw new Error(`unknown key ${JSON.stringify(unknown[0])}: use job, labels, chips`);
    if (job === undefined || job === null || job === '') return null;
    info = { job, ...(labels === undefined ? {} : { labels }), ...(chips === undefined ? {} : { chips }) };
  } else {
    let job: string | null = null;
    const labels: Record<string, string> = {};
    for (const [i, raw] of trimmed.split(/\r?\n/).entries()) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const eq = line.indexOf('=');
      if (eq <= 0) throw new Error(`line ${i + 1}: expected KEY=VALUE`);
      const key = line.slice(0, eq).trim().replace(/^export\s+/, '');
      const value = unquote(line.slice(eq + 1).trim());
      if (key === 'job') job = value;
      else labels[key] = value;
    }
    if (!job) return null;
    info = { job, ...(Object.keys(labels).length ? { labels } : {}) };
  }
  const r = checkWorkReport({ ts: Date.now(), counters: {}, ...info }, Date.now());
  if (!r.ok) throw new Error(`${r.path || 'file'}: ${r.message}`);
  return { job: r.report.job, ...(r.report.labels ? { labels: r.report.labels } : {}), ...(r.report.chips ? { chips: r.report.chips } : {}) };
}

function unquote(v: string): string {
  return v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.at(-1) === v[0] ? v.slice(1, -1) : v;
}

export class JobLabels {
  private fromFile: JobInfo | null = null;
  private readonly fromEnv: JobInfo | null;
  /** The file's mtime (ms) last read, -1: missing, null: never looked. */
  private fileStamp: number | null = null;
  private checking = false;
  private lastError: string | null = null;
  /** The job last reported, as JSON, and when. */
  private reported: { key: string; at: number } | null = null;

  constructor(private readonly opts: JobLabelsOptions) {
    this.fromEnv = this.readEnv(opts.env ?? process.env);
  }

  /** The job known now: the file's, else the environment's. */
  current(): JobInfo | null {
    return this.fromFile ?? this.fromEnv;
  }

  /** Re-read the job file if it changed (at most one check at a time; never blocks, never throws). */
  poll(): Promise<void> {
    const file = this.opts.jobFile;
    if (!file || this.checking) return Promise.resolve();
    this.checking = true;
    return this.check(file).finally(() => {
      this.checking = false;
    });
  }

  /** Wait for the first read of the job file (so the first batch already names the job). */
  async ready(): Promise<void> {
    await this.poll();
  }

  /**
   * The attribution report to put into the batch made now, or null: one when the job changed, or
   * when it was last reported `ATTRIBUTION_EVERY_MS` ago. Call `sent()` once it is in a batch.
   */
  due(now: number): WorkReport | null {
    const info = this.current();
    if (!info) {
      this.reported = null;
      return null;
    }
    const key = JSON.stringify(info);
    if (this.reported && this.reported.key === key && now - this.reported.at < ATTRIBUTION_EVERY_MS) return null;
    return { ts: now, job: info.job, counters: {}, ...(info.chips ? { chips: info.chips } : {}), ...(info.labels ? { labels: info.labels } : {}) };
  }

  /** The report `due` gave is in a batch. */
  sent(report: WorkReport): void {
    const info = this.current();
    if (info && info.job === report.job) this.reported = { key: JSON.stringify(info), at: report.ts };
  }

  private readEnv(env: NodeJS.ProcessEnv): JobInfo | null {
    for (const name of this.opts.jobEnv ?? []) {
      const value = env[name]?.trim();
      if (!value) continue;
      if (!isJobId(value)) {
        this.opts.log.warn('job id from the environment is not valid; ignored', { variable: name, err: 'job must be 1-128 characters: letters, digits, . _ : / @ + = -' });
        continue;
      }
      this.opts.log.info('job from the environment', { variable: name, job: value });
      return { job: value };
    }
    return null;
  }

  private async check(file: string): Promise<void> {
    let stamp: number;
    let size: number;
    try {
      const st = await stat(file);
      stamp = st.mtimeMs;
      size = st.size;
    } catch (err) {
      if (this.fileStamp !== -1) {
        this.fromFile = null;
        this.fileStamp = -1;
        this.report(`cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, file);
      }
      return;
    }
    if (stamp === this.fileStamp) return;
    this.fileStamp = stamp;
    this.lastError = null;
    try {
      if (size > MAX_JOB_FILE_BYTES) throw new Error(`over ${MAX_JOB_FILE_BYTES} bytes`);
      const before = JSON.stringify(this.fromFile);
      this.fromFile = parseJobFile(await readFile(file, 'utf8'));
      if (JSON.stringify(this.fromFile) !== before) this.opts.log.info(this.fromFile ? 'job from the job file' : 'the job file names no job', { file, job: this.fromFile?.job });
    } catch (err) {
      this.fromFile = null;
      this.report((err as Error).message, file);
    }
  }

  /** Log a job file problem once per change of the file. */
  private report(message: string, file: string): void {
    if (message === this.lastError) return;
    this.lastError = message;
    this.opts.log.warn('job file ignored', { file, err: message });
  }
}
