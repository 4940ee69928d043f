/**
 * The hub's bounds on what clients may send and ask for, as HubOptions fields (all optional; the
 * defaults below). Resolved once in startHub and handed to the pieces that enforce them.
 */
import { MAX_CHIPS_PER_AGENT } from '../schema/protocol.ts';
import { DEFAULT_MAX_FUTURE_MS } from '../schema/time-window.ts';
import { DEFAULT_MAX_SERIES_CELLS } from './history/tier-choice.ts';
import { DEFAULT_HTTP_TIMEOUTS, type HttpTimeouts } from './http-timeouts.ts';
import { DEFAULT_MAX_AGENTS_PER_TOKEN } from './ws/agent-limits.ts';
import { DEFAULT_FRAME_RATE } from './ws/frame-rate-limit.ts';
import { DEFAULT_HELLO_TIMEOUT_MS, type AgentSocketBounds } from './ws/agent-socket-guard.ts';

export interface HubBounds extends HttpTimeouts {
  /** Samples more than this (ms) ahead of the hub's clock are refused with out_of_range (default 5 s). CLI: --max-future. */
  maxFutureMs: number;
  /** An /ws/agent socket that has not sent hello this long (ms) after the upgrade is closed with 1008 (default 10 s). */
  helloTimeoutMs: number;
  /** Per agent connection: frames per second on average, and bursts (default 50/s, 200). */
  agentFramesPerSec: number;
  agentFrameBurst: number;
  /** Most chips one agent may announce (default and at most 1,024, the protocol's limit). */
  maxChipsPerAgent: number;
  /**
   * Most agent ids one token may register (default 10,000). Not enforced until AgentQuota
   * (ws/agent-limits.ts) is wired where a new agent id is bound (Ingest.hello).
   */
  maxAgentsPerToken: number;
  /** Most values in one /series answer: points × series × fields (default 2,000,000). */
  maxSeriesCells: number;
}

export const DEFAULT_HUB_BOUNDS: HubBounds = {
  maxFutureMs: DEFAULT_MAX_FUTURE_MS,
  helloTimeoutMs: DEFAULT_HELLO_TIMEOUT_MS,
  agentFramesPerSec: DEFAULT_FRAME_RATE.perSecond,
  agentFrameBurst: DEFAULT_FRAME_RATE.burst,
  maxChipsPerAgent: MAX_CHIPS_PER_AGENT,
  maxAgentsPerToken: DEFAULT_MAX_AGENTS_PER_TOKEN,
  maxSeriesCells: DEFAULT_MAX_SERIES_CELLS,
  ...DEFAULT_HTTP_TIMEOUTS,
};

/** The bounds in force: the defaults overridden by the options given; throws on a nonsensical value. */
export function resolveBounds(opts: Partial<HubBounds>): HubBounds {
  const b: HubBounds = { ...DEFAULT_HUB_BOUNDS };
  for (const key of Object.keys(DEFAULT_HUB_BOUNDS) as (keyof HubBounds)[]) {
    const v = opts[key];
    if (v === undefined) continue;
    const min = key === 'maxFutureMs' ? 0 : key === 'agentFramesPerSec' ? Number.MIN_VALUE : 1;
    if (typeof v !== 'number' || !(v >= min) || !Number.isFinite(v)) throw new RangeError(`hub option ${key} must be a number ${min === Number.MIN_VALUE ? '> 0' : `>= ${min}`}, got ${String(v)}`);
    b[key] = v;
  }
  if (b.maxChipsPerAgent > MAX_CHIPS_PER_AGENT) throw new RangeError(`hub option maxChipsPerAgent is at most ${MAX_CHIPS_PER_AGENT} (the protocol's limit), got ${b.maxChipsPerAgent}`);
  return b;
}

/** What each agent connection enforces; `rawRetentionMs`: older samples are refused. */
export function agentSocketBounds(b: HubBounds, rawRetentionMs: number): AgentSocketBounds {
  return {
    window: { maxFutureMs: b.maxFutureMs, maxAgeMs: rawRetentionMs },
    helloTimeoutMs: b.helloTimeoutMs,
    frameRate: { perSecond: b.agentFramesPerSec, burst: b.agentFrameBurst },
    maxChipsPerAgent: b.maxChipsPerAgent,
  };
}
