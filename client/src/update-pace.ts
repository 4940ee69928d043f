/**
 * How often a view of many chips may change. A fleet of N chips updates at most every N/10 ms
 * (once a second at 10,000 chips, every 100 ms at 1,000, every frame for a few dozen): new values
 * arrive once a second per chip, however the hub's ticks or flapping alerts split that second.
 */
export function minUpdateIntervalMs(chips: number): number {
  return Math.min(1000, chips / 10);
}

/**
 * Runs `flush` at most once per animation frame, and no sooner than `minUpdateIntervalMs(size())`
 * after the previous run: what the fleet and alerts controllers do with a burst of live frames.
 */
export class PacedFlush {
  private frame = 0;
  private timer: ReturnType<typeof setTimeout> | 0 = 0;
  private last = 0;

  constructor(
    private readonly flush: () => void,
    private readonly size: () => number,
  ) {}

  /** Asks for a run (nothing more while one is already due). */
  schedule(): void {
    if (this.frame || this.timer) return;
    const wait = this.last + minUpdateIntervalMs(this.size()) - performance.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = 0;
        this.frame = requestAnimationFrame(this.run);
      }, wait);
    } else this.frame = requestAnimationFrame(this.run);
  }

  /** Drops a run that is due. */
  cancel(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    if (this.timer) clearTimeout(this.timer);
    this.frame = 0;
    this.timer = 0;
  }

  private readonly run = (): void => {
    this.frame = 0;
    this.last = performance.now();
    this.flush();
  };
}
