/** Graceful shutdown on SIGINT/SIGTERM: run the cleanup once, then exit. */
import type { Logger } from '../common/logger.ts';

export function onShutdown(log: Logger, cleanup: () => Promise<unknown>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    cleanup()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error('shutdown failed', { err: String(err) });
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
