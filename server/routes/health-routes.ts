/** GET /healthz: the process is up; reports what it has ingested so far. */
import { Hono } from 'hono';
import type { HealthAnswer } from '../../schema/api-answers.ts';
import type { IngestMetrics } from '../ingest.ts';

export function healthRoutes(startedAt: number, metrics: IngestMetrics) {
  return new Hono().get('/healthz', (c) =>
    c.json({ status: 'ok', uptimeS: Math.round((Date.now() - startedAt) / 1000), ingested: { ...metrics } } satisfies HealthAnswer),
  );
}
