/** GET /readyz's `database` check on PostgreSQL: `select 1` answers within a short timeout. */
import type pg from 'pg';
import type { ReadinessCheck } from '../../readiness.ts';

export function pgDatabaseCheck(pool: pg.Pool, server: string, timeoutMs = 2000): ReadinessCheck {
  return {
    name: 'database',
    async run() {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), timeoutMs);
      });
      try {
        const res = await Promise.race([pool.query('SELECT 1'), late]);
        return res === 'late' ? { ok: false, reason: `PostgreSQL at ${server} did not answer within ${timeoutMs} ms` } : { ok: true };
      } catch (err) {
        return { ok: false, reason: `PostgreSQL at ${server}: ${(err as Error).message}` };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
