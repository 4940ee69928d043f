/**
 * How long work on the hub's event loop shares it: after each `everyMs` of its own work it pauses
 * for one turn, so live frames, acks and other requests go in between.
 */
export interface ReadPacing {
  everyMs: number;
  pause(): Promise<void>;
}

/** About 4 ms of work between turns of the event loop. */
export const EVENT_LOOP_PACING: ReadPacing = { everyMs: 4, pause: () => new Promise((resolve) => setImmediate(resolve)) };

/** A clock for one piece of work: `maybePause()` pauses once `everyMs` have passed since the last pause. */
export interface Pacer {
  maybePause(): Promise<void> | undefined;
}

export function pacer(pacing: ReadPacing = EVENT_LOOP_PACING): Pacer {
  let t0 = performance.now();
  return {
    maybePause() {
      if (performance.now() - t0 < pacing.everyMs) return undefined;
      return pacing.pause().then(() => {
        t0 = performance.now();
      });
    },
  };
}
