/**
 * A token bucket for the frames of one agent connection: `burst` frames may come at once, then
 * `perSecond` on average. Pure: the clock is passed in (ms, monotonic). Frames are never dropped:
 * the caller handles a frame only once it is due (`take()`), and stops reading the socket until
 * then (see agent-socket-guard.ts), so a flooding agent slows itself down and nobody else.
 */

export interface FrameRate {
  /** Frames per second on average. */
  perSecond: number;
  /** Frames that may come back to back after a quiet spell (the bucket's size). */
  burst: number;
}

/** Default: 50 frames/s, bursts of 200 (an agent sends about one batch per sampling interval). */
export const DEFAULT_FRAME_RATE: FrameRate = { perSecond: 50, burst: 200 };

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: FrameRate,
    now: number,
  ) {
    if (!(rate.perSecond > 0) || !(rate.burst >= 1)) throw new RangeError(`frame rate needs perSecond > 0 and burst >= 1, got ${JSON.stringify(rate)}`);
    this.tokens = rate.burst;
    this.last = now;
  }

  /** Tokens in the bucket at `now` (negative: frames taken on credit, read before the pause took hold). */
  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  /**
   * A frame arrived at `now`: take its token, on credit when the bucket has none (the frame was
   * read already). Returns 0 when it had one, else how long (ms) until the credit is paid back:
   * when the frame may be handled. Successive frames on credit are due 1/perSecond apart.
   */
  take(now: number): number {
    this.refill(now);
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.rate.perSecond) * 1000);
  }

  private refill(now: number): void {
    const dt = now - this.last;
    if (dt > 0) {
      this.tokens = Math.min(this.rate.burst, this.tokens + (dt * this.rate.perSecond) / 1000);
      this.last = now;
    }
  }
}
