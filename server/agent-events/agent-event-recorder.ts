/**
 * Records agent connection events (agent-event-rows.ts) without ever holding up or failing
 * ingest: `record` only queues; what arrives within `coalesceMs` (100 ms) goes to the store in one
 * write (10,000 agents reconnecting after a hub restart are a handful of writes, not 10,000), one
 * write at a time; a failed write is logged as a warning and its events are dropped. The queue is
 * bounded (`maxPending`): beyond it new events are dropped and counted in the next warning.
 *
 * On `close` (the hub stopping) the agents still connected get a `disconnected` event with detail
 * `hub-stopped`, everything queued is written, and later events (the sockets closing) are ignored.
 */
import type { Logger } from '../../common/logger.ts';
import type { AgentEventKind, AgentEventWrite } from './agent-event-rows.ts';

/** What ingest tells: a connection of the agent was accepted or ended. */
export interface AgentEventSink {
  record(agentId: string, kind: AgentEventKind, detail?: string): void;
}

export interface AgentEventRecorderOptions {
  store: { recordAgentEvents(events: readonly AgentEventWrite[]): Promise<void> };
  log: Logger;
  /** Events arriving within this long go in one write (default 100 ms). */
  coalesceMs?: number;
  /** Most events queued (default 100,000); beyond, new ones are dropped. */
  maxPending?: number;
}

export const AGENT_EVENTS_COALESCE_MS = 100;

export class AgentEventRecorder implements AgentEventSink {
  /** The hub that sees the events (host:port), stored with each; set once the hub listens. */
  hub: string | null = null;
  /** Writes made and events written (tests, self-observability). */
  readonly stats = { writes: 0, events: 0, failed: 0, dropped: 0 };
  private pending: AgentEventWrite[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private writing: Promise<void> | null = null;
  private closed = false;
  private droppedSinceWarn = 0;
  /** Agents whose last recorded event here is `connected`. */
  private readonly connected = new Set<string>();
  private readonly coalesceMs: number;
  private readonly maxPending: number;

  constructor(private readonly opts: AgentEventRecorderOptions) {
    this.coalesceMs = opts.coalesceMs ?? AGENT_EVENTS_COALESCE_MS;
    this.maxPending = opts.maxPending ?? 100_000;
  }

  record(agentId: string, kind: AgentEventKind, detail?: string, ts = Date.now()): void {
    if (this.closed) return;
    if (kind === 'connected') this.connected.add(agentId);
    else this.connected.delete(agentId);
    this.enqueue({ agentId, ts, kind, hub: this.hub, detail: detail ?? null });
  }

  /** Records `hub-stopped` for the agents still connected, writes everything queued, then ignores further events. */
  async close(): Promise<void> {
    if (this.closed) return;
    const now = Date.now();
    for (const agentId of this.connected) this.enqueue({ agentId, ts: now, kind: 'disconnected', hub: this.hub, detail: 'hub-stopped' });
    this.connected.clear();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.writing || this.pending.length > 0) {
      if (this.writing) await this.writing;
      else this.write();
    }
  }

  private enqueue(e: AgentEventWrite): void {
    if (this.pending.length >= this.maxPending) {
      this.stats.dropped++;
      this.droppedSinceWarn++;
      return;
    }
    this.pending.push(e);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.writing || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.write();
    }, this.coalesceMs);
  }

  private write(): void {
    if (this.pending.length === 0 || this.writing) return;
    const batch = this.pending;
    this.pending = [];
    let run: Promise<void>;
    try {
      run = Promise.resolve(this.opts.store.recordAgentEvents(batch));
    } catch (err) {
      run = Promise.reject(err);
    }
    this.writing = run
      .then(
        () => {
          this.stats.writes++;
          this.stats.events += batch.length;
        },
        (err: unknown) => {
          this.stats.failed += batch.length;
          this.opts.log.warn('recording agent connection events failed (dropped)', { events: batch.length, err: String(err) });
        },
      )
      .finally(() => {
        if (this.droppedSinceWarn > 0) {
          this.opts.log.warn('agent connection events dropped: too many waiting to be written', { dropped: this.droppedSinceWarn });
          this.droppedSinceWarn = 0;
        }
        this.writing = null;
        // What arrived during the write waits its own coalescing window (a burst keeps to few writes).
        if (this.pending.length > 0) this.schedule();
      });
  }
}
