/**
 * Plain constants of the wire protocol (schema/protocol.ts re-exports them). Zod-free, so the
 * browser bundle and the agent can import them without pulling in the validators.
 */

/** The `v` of every frame on /ws/agent and /ws/live. */
export const PROTOCOL_VERSION = 1;

/** Largest number of samples in one batch. */
export const MAX_BATCH_SAMPLES = 10_000;

/**
 * The live window (10 minutes): how much recent history a chip subscription on /ws/live starts
 * with (the hub's `chip-history` frame), and what the browser asks for over HTTP instead when
 * that frame does not come.
 */
export const LIVE_WINDOW_MS = 10 * 60_000;
