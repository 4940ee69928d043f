/**
 * Turns of the hub's event loop for agent frames while connections arrive, shared by every
 * /ws/agent connection.
 *
 * Node accepts one new connection per turn of its event loop (libuv's uv__server_io), and a turn
 * lasts as long as the work queued in it. Under full ingest every frame read in a turn was handled
 * in that same turn: turns of 200–400 ms, so a few connections were accepted a second, and agents
 * connecting while others sent (a restart's reconnections) waited 20 s and more for their welcome.
 *
 * For `arrivalsMs` after an agent connects, frames are handled at once only while the current
 * turn has used less than `sliceMs` of frame work; beyond that they wait in one queue, in arrival
 * order, and the next turns release them a few at a time. How many a turn releases adapts to the
 * turns' length (halved when a turn ran over `turnTargetMs`, grown while they are shorter than
 * half of it), so turns stay short and the listening socket gets its turn often. Otherwise frames
 * are handled as they come (each connection paces itself, agent-socket-guard.ts), and frames still
 * waiting are released at the next turn.
 */

export interface FrameTurnOptions {
  /** While connections arrive: frame work (ms) a turn takes at once before frames wait for later turns. */
  sliceMs: number;
  /** While connections arrive: a turn of the event loop longer than this releases fewer frames next time. */
  turnTargetMs: number;
  /** Connections arrive while the last one came less than this ago (ms). */
  arrivalsMs: number;
  /** Bounds on frames released per turn. */
  minPerTurn: number;
  maxPerTurn: number;
}

export const DEFAULT_FRAME_TURNS: FrameTurnOptions = { sliceMs: 4, turnTargetMs: 10, arrivalsMs: 500, minPerTurn: 1, maxPerTurn: 1024 };

export class FrameTurns {
  private readonly waiting: (() => void)[] = [];
  private head = 0;
  private scheduled = false;
  /** When the current slice of frame work began (a turn's first frame, or the last release). */
  private sliceStart = 0;
  /** When the last release ran while frames were still waiting (0: none): the turn's length is measured from it. */
  private lastRunAt = 0;
  private perTurn: number;
  private lastArrival = -Infinity;

  constructor(
    private readonly opts: FrameTurnOptions = DEFAULT_FRAME_TURNS,
    private readonly now: () => number = () => performance.now(),
  ) {
    // From the fewest: frames may be expensive (a turn of many 30 ms frames is what this avoids).
    this.perTurn = opts.minPerTurn;
  }

  /** An agent connected: more may be waiting to be accepted, one a turn; turns are kept short meanwhile. */
  arrived(): void {
    this.lastArrival = this.now();
  }

  /** Frames waiting for a turn. */
  get queued(): number {
    return this.waiting.length - this.head;
  }

  /** Frames released per turn now (adapted to the turns' length). */
  get releasing(): number {
    return this.perTurn;
  }

  /**
   * Undefined when the frame may be handled now; else a promise that resolves at its turn
   * (frames wait in arrival order).
   */
  turn(): Promise<void> | undefined {
    const t = this.now();
    if (!this.arriving(t)) return undefined;
    if (this.queued === 0) {
      if (!this.scheduled) {
        // The first frame since the queue ran dry: a slice starts, and ends with this turn.
        this.sliceStart = t;
        this.schedule();
      }
      if (t - this.sliceStart < this.opts.sliceMs) return undefined;
    }
    return new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
  }

  private arriving(t: number): boolean {
    return t - this.lastArrival < this.opts.arrivalsMs;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.run);
  }

  /** Once a turn (the check phase): adapt to the last turn's length, release the next frames. */
  private readonly run = (): void => {
    this.scheduled = false;
    const t = this.now();
    const turnMs = this.lastRunAt === 0 ? 0 : t - this.lastRunAt;
    const target = this.opts.turnTargetMs;
    if (turnMs > target) this.perTurn = Math.max(this.opts.minPerTurn, Math.floor(this.perTurn / 2));
    else if (turnMs > 0 && turnMs < target / 2) this.perTurn = Math.min(this.opts.maxPerTurn, this.perTurn + Math.ceil(this.perTurn / 4));
    this.sliceStart = t;
    // Arrivals over: everything waiting goes now (new frames no longer wait).
    const n = this.arriving(t) ? Math.min(this.perTurn, this.queued) : this.queued;
    for (let i = 0; i < n; i++) {
      const resolve = this.waiting[this.head]!;
      this.waiting[this.head++] = noop;
      resolve();
    }
    if (this.head === this.waiting.length) {
      this.waiting.length = 0;
      this.head = 0;
    } else if (this.head >= 4096) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
    // Frames still waiting: the next turn releases more (and measures this one). Frames released
    // now run after this, in this turn: a run stays scheduled so that frames asking meanwhile
    // count this turn's slice as begun, not a fresh one.
    this.lastRunAt = this.queued > 0 ? t : 0;
    if (this.queued > 0 || n > 0) this.schedule();
  };
}

const noop = () => {};
