/**
 * A response body produced piece by piece on the event loop without holding it: pieces are
 * gathered into chunks of about CHUNK_CHARS characters, one chunk per read of the stream, and the
 * work pauses for a turn of the event loop every `pacing.everyMs` (event-loop-pacing.ts), so acks,
 * live frames and other requests go in between. Only what the client has not read yet is held.
 */
import { EVENT_LOOP_PACING, pacer, type ReadPacing } from './event-loop-pacing.ts';

/** Characters gathered per chunk of the body. */
export const CHUNK_CHARS = 64 * 1024;

export function pacedBody(pieces: Iterable<string>, pacing: ReadPacing = EVENT_LOOP_PACING): ReadableStream<Uint8Array> {
  const it = pieces[Symbol.iterator]();
  const encoder = new TextEncoder();
  const pace = pacer(pacing);
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        await pace.maybePause();
        let chunk = '';
        while (chunk.length < CHUNK_CHARS) {
          const next = it.next();
          if (next.done) {
            if (chunk) controller.enqueue(encoder.encode(chunk));
            controller.close();
            return;
          }
          chunk += next.value;
        }
        controller.enqueue(encoder.encode(chunk));
      },
      cancel() {
        it.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}
