/**
 * GET /healthz: the process is up; reports what it has ingested so far.
 * GET /readyz: the hub can take work (server/readiness.ts); 503 with the reasons otherwise.
 * Both are open (no token): load balancers and orchestrators probe them.
 */
import { Hono } from 'hono';
import type { HealthAnswer } from '../../schema/api-answers.ts';
import type { IngestMetrics } from '../ingest.ts';
import { readiness, type ReadinessCheck } from '../readiness.ts';

export function healthRoutes(startedAt: number, metrics: IngestMetrics, checks: readonly ReadinessCheck[] = []) {
  return new Hono()
    .get('/healthz', (c) => c.json({ status: 'ok', uptimeS: Math.round((Date.now() - startedAt) / 1000), ingested: { ...metrics } } satisfies HealthAnswer))
    .get('/readyz', async (c) => {
      const answer = await readiness(checks);
      return c.json(answer, answer.status === 'ready' ? 200 : 503, { 'cache-control': 'no-store' });
    });
}
