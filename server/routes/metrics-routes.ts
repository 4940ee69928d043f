/**
 * GET /metrics (the hub's own metrics, Prometheus text from the OpenTelemetry SDK) and
 * GET /metrics/fleet (every chip's latest values; `?names=dcgm|neuron` for dcgm-exporter's or
 * neuron-monitor's names). Both need a viewer token like the API; Prometheus sends it as
 * `authorization: Bearer …`. The fleet text is written in steps of a few ms (the event loop serves
 * live frames and acks in between) and gzipped (fast level, off the event loop) when the
 * scraper accepts it, as Prometheus does: at 10,000 chips that is ~10 MB down to ~0.6 MB.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { Hono } from 'hono';
import type { FleetState } from '../fleet-state.ts';
import { HttpError } from '../http-errors.ts';
import { FLEET_NAME_SETS, renderFleetMetricsPaced, type FleetNameSet } from '../telemetry/fleet-exposition.ts';
import { pacer } from '../event-loop-pacing.ts';
import { PROMETHEUS_CONTENT_TYPE } from '../telemetry/prom-text.ts';

const gzipAsync = promisify(gzip);
/** Smaller bodies go out as they are. */
const GZIP_FROM_BYTES = 4096;

/** Does an Accept-Encoding header take gzip (and not with q=0)? */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding.trim() !== 'gzip') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/** A Buffer as the Uint8Array a response body takes (same memory). */
const bytesOf = (b: Buffer) => new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength);

export function metricsRoutes(fleet: FleetState, ownMetrics: (() => Promise<string>) | null) {
  return new Hono()
    .get('/metrics', async (c) => {
      if (ownMetrics === null) throw new HttpError(404, 'not_found', 'self-metrics are off in this hub');
      return c.body(await ownMetrics(), 200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
    })
    .get('/metrics/fleet', async (c) => {
      const raw = c.req.query('names') ?? 'fleetscope';
      if (!(FLEET_NAME_SETS as readonly string[]).includes(raw)) {
        throw new HttpError(400, 'bad_request', `names must be one of ${FLEET_NAME_SETS.join(', ')}, got ${JSON.stringify(raw)}`);
      }
      // This hub's own agents' chips: with a live bus, other hubs' chips are theirs to expose (no double counts).
      const body = await renderFleetMetricsPaced(fleet.listLocal(), raw as FleetNameSet, pacer());
      const headers: Record<string, string> = { 'content-type': PROMETHEUS_CONTENT_TYPE, vary: 'Accept-Encoding' };
      if (body.length < GZIP_FROM_BYTES || !acceptsGzip(c.req.header('accept-encoding'))) return c.body(bytesOf(body), 200, headers);
      const zipped = await gzipAsync(body, { level: 1 });
      return c.body(bytesOf(zipped), 200, { ...headers, 'content-encoding': 'gzip' });
    });
}
