/**
 * Turns of the hub's event loop for pieces of work of one kind: agent frames while connections
 * arrive (shared by every /ws/agent connection), and the work after each commit (always).
 *
 * A turn lasts as long as the work queued in it. Under full ingest every frame read in a turn was
 * handled in that same turn, and a commit of the writer resolved hundreds of batches at once, whose
 * fleet state, fan-out and alerting then ran in one go: turns of 200–400 ms. Node accepts one new
 * connection per turn (libuv's uv__server_io), so agents connecting while others sent (a restart's
 * reconnections) waited 20 s and more for their welcome; and every HTTP request waited a turn or
 * two (docs/benchmarks.md, "Turns for the work after commits").
 *
 * While turns are taken (with `arrivalsMs`: for that long after an agent connects; without:
 * always), a piece of work runs at once only while the current turn has used less than `sliceMs`
 * of such work; beyond that it waits in one queue, in order, and the next turns release them a few
 * at a time. How many a turn releases adapts to the turns' length (halved when a turn ran over
 * `turnTargetMs`, grown while they are shorter than half of it), so turns stay short and the
 * listening socket and other requests get their turn often; with `maxWaitMs`, what has waited
 * that long goes at the next turn regardless. Once arrivals stop, what waits is released at the
 * next turn and frames are handled as they come (each connection paces itself,
 * agent-socket-guard.ts).
 */

export interface TurnOptions {
  /** Work (ms) a turn takes at once before work waits for later turns. */
  sliceMs: number;
  /** A turn of the event loop longer than this releases fewer pieces of work next time. */
  turnTargetMs: number;
  /** Turns are taken only while the last connection arrived less than this ago (ms); absent: always. */
  arrivalsMs?: number;
  /** Bounds on the pieces of work released per turn. */
  minPerTurn: number;
  maxPerTurn: number;
  /**
   * Pieces that have waited this long (ms) go at the next turn, however many: where other work
   * makes the turns long, releasing fewer a turn would otherwise starve them. Absent: no bound.
   */
  maxWaitMs?: number;
}

/** Agent frames, while agents connect. */
export const FRAME_TURNS: TurnOptions = { sliceMs: 4, turnTargetMs: 10, arrivalsMs: 500, minPerTurn: 1, maxPerTurn: 1024 };
/**
 * The work after each commit, always: slices of 10 ms, turns near 25 ms, and none of it waits over
 * 400 ms (without the bound, at 100,000 chips the agents' frames made the turns long and each
 * released one commit's work; docs/benchmarks.md, "Turns for the work after commits").
 */
export const COMMIT_TURNS: TurnOptions = { sliceMs: 10, turnTargetMs: 25, minPerTurn: 1, maxPerTurn: 1024, maxWaitMs: 400 };

export class EventLoopTurns {
  private readonly waiting: (() => void)[] = [];
  /** When each waiting piece asked (with maxWaitMs). */
  private readonly askedAt: number[] = [];
  private head = 0;
  private scheduled = false;
  /** When the current slice of work began (a turn's first piece, or the last release). */
  private sliceStart = 0;
  /** When the last release ran while pieces were still waiting (0: none): the turn's length is measured from it. */
  private lastRunAt = 0;
  private perTurn: number;
  private lastArrival = -Infinity;

  constructor(
    private readonly opts: TurnOptions = FRAME_TURNS,
    private readonly now: () => number = () => performance.now(),
  ) {
    // From the fewest: a piece may be expensive (a turn of many 30 ms frames is what this avoids).
    this.perTurn = opts.minPerTurn;
  }

  /** An agent connected: more may be waiting to be accepted, one a turn; turns are kept short meanwhile (with `arrivalsMs`). */
  arrived(): void {
    this.lastArrival = this.now();
  }

  /** Pieces of work waiting for a turn. */
  get queued(): number {
    return this.waiting.length - this.head;
  }

  /** Pieces released per turn now (adapted to the turns' length). */
  get releasing(): number {
    return this.perTurn;
  }

  /**
   * Undefined when the piece of work may run now; else a promise that resolves at its turn
   * (pieces wait in the order they asked).
   */
  turn(): Promise<void> | undefined {
    const t = this.now();
    if (!this.taking(t)) return undefined;
    if (this.queued === 0) {
      if (!this.scheduled) {
        // The first piece since the queue ran dry: a slice starts, and ends with this turn.
        this.sliceStart = t;
        this.schedule();
      }
      if (t - this.sliceStart < this.opts.sliceMs) return undefined;
    }
    return new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      if (this.opts.maxWaitMs !== undefined) this.askedAt.push(t);
      this.schedule();
    });
  }

  /** Whether turns are taken at `t`. */
  private taking(t: number): boolean {
    return this.opts.arrivalsMs === undefined || t - this.lastArrival < this.opts.arrivalsMs;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.run);
  }

  /** Once a turn (the check phase): adapt to the last turn's length, release the next pieces. */
  private readonly run = (): void => {
    this.scheduled = false;
    const t = this.now();
    const turnMs = this.lastRunAt === 0 ? 0 : t - this.lastRunAt;
    const target = this.opts.turnTargetMs;
    if (turnMs > target) this.perTurn = Math.max(this.opts.minPerTurn, Math.floor(this.perTurn / 2));
    else if (turnMs > 0 && turnMs < target / 2) this.perTurn = Math.min(this.opts.maxPerTurn, this.perTurn + Math.ceil(this.perTurn / 4));
    this.sliceStart = t;
    // Arrivals over: everything waiting goes now (new pieces no longer wait).
    let n = this.taking(t) ? Math.min(this.perTurn, this.queued) : this.queued;
    const maxWait = this.opts.maxWaitMs;
    if (maxWait !== undefined) while (n < this.queued && t - this.askedAt[this.head + n]! >= maxWait) n++;
    for (let i = 0; i < n; i++) {
      const resolve = this.waiting[this.head]!;
      this.waiting[this.head++] = noop;
      resolve();
    }
    if (this.head === this.waiting.length) {
      this.waiting.length = 0;
      this.askedAt.length = 0;
      this.head = 0;
    } else if (this.head >= 4096) {
      this.waiting.splice(0, this.head);
      if (maxWait !== undefined) this.askedAt.splice(0, this.head);
      this.head = 0;
    }
    // Pieces still waiting: the next turn releases more (and measures this one). Pieces released
    // now run after this, in this turn: a run stays scheduled so that pieces asking meanwhile
    // count this turn's slice as begun, not a fresh one.
    this.lastRunAt = this.queued > 0 ? t : 0;
    if (this.queued > 0 || n > 0) this.schedule();
  };
}

const noop = () => {};
