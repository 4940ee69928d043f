/**
 * Bounds on one /ws/agent connection, kept out of the protocol logic of agent-endpoint.ts:
 * - hello within `helloTimeoutMs` of the upgrade, or the socket is closed (1008, the reason says
 *   why; terminated if the peer does not finish the close handshake soon);
 * - a frame rate (token bucket, frame-rate-limit.ts): beyond it frames are handled only as tokens
 *   refill, and the hub stops reading the socket meanwhile; nothing is dropped, the flooder only
 *   slows itself;
 * - reading paused for several reasons at once (rate, writer backlog): the socket resumes only when
 *   no reason holds it any more; the endpoint is told whenever the hub stops or goes back to
 *   reading it, a frame waiting to be handled counting as not read.
 */
import type { WebSocket } from 'ws';
import type { Logger } from '../../common/logger.ts';
import { formatSpanMs, type TimeWindow } from '../../schema/time-window.ts';
import { MAX_CHIPS_PER_AGENT } from '../../schema/protocol.ts';
import { DEFAULT_FRAME_RATE, TokenBucket, type FrameRate } from './frame-rate-limit.ts';
import type { EventLoopTurns } from '../event-loop-turns.ts';
import { pacer } from '../event-loop-pacing.ts';

/** What the hub bounds on each agent connection (resolved from HubOptions, see server/hub-bounds.ts). */
export interface AgentSocketBounds {
  /** Accepted sample timestamps around the hub's clock. */
  window: TimeWindow;
  helloTimeoutMs: number;
  frameRate: FrameRate;
  /** Most chips in one hello or inventory (at most the protocol's MAX_CHIPS_PER_AGENT). */
  maxChipsPerAgent: number;
}

/** Default: an agent socket must say hello within this (ms) of the upgrade. */
export const DEFAULT_HELLO_TIMEOUT_MS = 10_000;

/** The defaults (no age bound on samples: the hub passes its raw retention). */
export const DEFAULT_AGENT_SOCKET_BOUNDS: AgentSocketBounds = {
  window: {},
  helloTimeoutMs: DEFAULT_HELLO_TIMEOUT_MS,
  frameRate: DEFAULT_FRAME_RATE,
  maxChipsPerAgent: MAX_CHIPS_PER_AGENT,
};

/** After the hub's close frame, how long the peer has to answer it before the socket is destroyed. */
const CLOSE_GRACE_MS = 2_000;

export interface AgentSocketGuard {
  /**
   * Call on every frame received: takes its token. When it had to take it on credit, reading the
   * socket stops until the credit is paid back, and the frame may only be handled once the
   * returned promise resolves (frames already read keep arriving for a moment).
   */
  frame(): Promise<void> | undefined;
  /**
   * Before handling a frame (in the connection's chain): wait until it is `due` (what frame()
   * answered for it); when it is due already, while connections arrive, for its turn among every
   * connection's frames (event-loop-turns.ts), else for a turn of the event loop once this connection's
   * frames have held it a few ms (frames read in one go are otherwise handled back to back in
   * microtasks: 15 frames of 3 MB held the loop 150-200 ms).
   */
  turn(due: Promise<void> | undefined): Promise<void> | undefined;
  /** Stop reading the socket for `reason` until `release(reason)`. */
  hold(reason: string): void;
  release(reason: string): void;
  /**
   * The hub ends the connection: close (1008, `reason`), read again (the peer's close reply must
   * get in; frames still owed time are due at once, to be ignored), destroy it if the close does
   * not finish soon.
   */
  close(reason: string): void;
}

/** Close with 1008 and `reason`; destroy the socket if the close handshake does not finish. */
export function closePolicy(ws: WebSocket, reason: string): void {
  ws.close(1008, reason);
  const t = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
  t.unref();
  ws.once('close', () => clearTimeout(t));
}

/**
 * Arm the bounds on a new agent socket. `helloDone()` says whether hello was accepted (asked when
 * the hello timer fires); `reading(false)` is called when the hub stops reading the socket (a
 * hold, or a frame waiting to be handled), `reading(true)` when it reads again; `turns`: the hub's
 * turns of agent frames (none: frames only pace themselves).
 */
export function guardAgentSocket(ws: WebSocket, bounds: AgentSocketBounds, log: Logger, helloDone: () => boolean, reading: (on: boolean) => void = () => {}, turns?: EventLoopTurns): AgentSocketGuard {
  const holds = new Map<string, number>();
  let rateTimer: NodeJS.Timeout | null = null;
  const bucket = new TokenBucket(bounds.frameRate, performance.now());
  /** Frames waiting for their token: resolved when due, or at once when the connection ends. */
  const owed = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  let ending = false;
  const pace = pacer();
  /** Frames waiting to be handled (their turn, the event loop's, or their frame-rate token): the connection counts as unread meanwhile. */
  let waits = 0;
  const payAll = () => {
    for (const o of owed) {
      clearTimeout(o.timer);
      o.resolve();
    }
    owed.clear();
    if (rateTimer) clearTimeout(rateTimer);
    rateTimer = null;
  };

  const helloTimer = setTimeout(() => {
    if (helloDone() || ws.readyState !== ws.OPEN) return;
    const reason = `no hello within ${formatSpanMs(bounds.helloTimeoutMs)} of connecting`;
    log.warn('agent socket closed: no hello', { timeoutMs: bounds.helloTimeoutMs });
    closePolicy(ws, reason);
  }, bounds.helloTimeoutMs);

  ws.once('close', () => {
    clearTimeout(helloTimer);
    payAll();
  });

  /** Whether the hub reads this connection: no hold, and no frame waiting for its turn. */
  let read = true;
  const updateReading = () => {
    const on = holds.size === 0 && waits === 0;
    if (on === read) return;
    read = on;
    reading(on);
  };
  const hold = (reason: string) => {
    const n = holds.get(reason) ?? 0;
    holds.set(reason, n + 1);
    if (holds.size === 1 && n === 0) {
      ws.pause();
      updateReading();
    }
  };
  const release = (reason: string) => {
    const n = holds.get(reason) ?? 0;
    if (n <= 1) holds.delete(reason);
    else holds.set(reason, n - 1);
    if (holds.size === 0 && n > 0) {
      ws.resume();
      updateReading();
    }
  };

  return {
    frame() {
      const wait = bucket.take(performance.now());
      if (wait <= 0 || ending) return undefined;
      // Frames read before the pause took hold keep arriving, each due later: read again after the last.
      if (rateTimer) clearTimeout(rateTimer);
      else {
        hold('rate');
        log.debug('agent frame rate exceeded: reading paused', { waitMs: wait });
      }
      rateTimer = setTimeout(() => {
        rateTimer = null;
        release('rate');
      }, wait);
      return new Promise<void>((resolve) => {
        const o = { resolve, timer: setTimeout(() => (owed.delete(o), resolve()), wait) };
        owed.add(o);
      });
    },
    turn(due) {
      const wait = due ?? turns?.turn() ?? pace.maybePause();
      if (!wait) return undefined;
      if (waits++ === 0) updateReading();
      return wait.then(() => {
        if (--waits === 0) updateReading();
      });
    },
    hold,
    release,
    close(reason) {
      if (ending) return;
      ending = true;
      payAll();
      holds.clear();
      ws.resume();
      updateReading();
      closePolicy(ws, reason);
    },
  };
}
