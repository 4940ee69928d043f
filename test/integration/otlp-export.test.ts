/**
 * A real hub process (`fleetscope hub`, the executable) with OTEL_EXPORTER_OTLP_ENDPOINT pointing
 * at a small HTTP receiver in the test: it sends OTLP/JSON metrics (its ingest counter and the
 * history query histogram, with the resource's service name) and a span for a history query.
 * The samples come in as a Telegraf nvidia_smi line, so the same run checks that way in end to end.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../bench/support/free-port.ts';
import { runFleetscope, type Proc } from '../../bench/support/processes.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';
import { startHttpReceiver, type HttpReceiver } from '../helpers/http-receiver.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const UUID = 'GPU-5f1c2d3e-0000-1111-2222-333344445555';

/** Every value of `key` anywhere in a parsed JSON document. */
function collect(doc: unknown, key: string, out: unknown[] = []): unknown[] {
  if (Array.isArray(doc)) for (const d of doc) collect(d, key, out);
  else if (doc && typeof doc === 'object') for (const [k, v] of Object.entries(doc)) (k === key ? out.push(v) : collect(v, key, out));
  return out;
}

describe('OTLP export from a hub process', () => {
  let otlp: HttpReceiver;
  let hub: Proc;
  let url: string;
  let tmp: ReturnType<typeof tempDir>;

  beforeAll(async () => {
    tmp = tempDir();
    otlp = await startHttpReceiver();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    hub = runFleetscope(['hub', '--port', String(port), '--host', '127.0.0.1', '--db', join(tmp.dir, 'hub.db'), '--open', '--log-format', 'json'], {
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_METRIC_EXPORT_INTERVAL: '300',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_SERVICE_NAME: 'hub-under-test',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=fleet%20a',
    });
    const end = Date.now() + 60_000;
    while (!(await fetch(`${url}/healthz`).then((r) => r.ok, () => false))) {
      if (Date.now() > end) throw new Error(`hub did not start: ${hub.stderr()}`);
      await sleep(100);
    }
  }, 90_000);

  afterAll(async () => {
    hub?.child.kill('SIGTERM');
    await hub?.exited;
    await otlp?.close();
    tmp?.cleanup();
  });

  it('stores a Telegraf nvidia_smi line, then exports metrics and a history query span', async () => {
    const ts = Date.now() - 1000;
    const line = `nvidia_smi,compute_mode=Default,host=gpu-node-7,index=3,name=NVIDIA\\ H100\\ 80GB\\ HBM3,pstate=P0,uuid=${UUID} driver_version="580.159.04",memory_total=81559i,memory_used=74227i,power_draw=612.45,power_limit=700,temperature_gpu=61i,utilization_gpu=97i ${ts}000000`;
    const w = await fetch(`${url}/api/v1/write`, { method: 'POST', body: line });
    expect(w.status).toBe(204);
    const chips = (await (await fetch(`${url}/api/v1/chips`)).json()) as { chips: any[] };
    expect(chips.chips).toEqual([expect.objectContaining({ chipId: UUID, model: 'H100', index: 3, host: 'gpu-node-7', latest: expect.objectContaining({ powerW: 612.45, memUsedBytes: 74227 * 1048576, tempC: 61, utilPct: 97 }) })]);
    const q = await fetch(`${url}/api/v1/series?chip=${UUID}&from=${ts - 60_000}&to=${ts + 1000}`);
    expect(q.status).toBe(200);
    await q.text();

    await otlp.waitFor((reqs) => reqs.some((r) => r.path === '/v1/traces' && r.body.includes('history series')), 15_000, 'a history span');
    await otlp.waitFor((reqs) => reqs.some((r) => r.path === '/v1/metrics' && r.body.includes('fleetscope_history_query_duration_seconds') && r.body.includes('fleetscope_ingest_samples')), 15_000, 'the metrics');

    const traces = otlp.requests.filter((r) => r.path === '/v1/traces').map((r) => JSON.parse(r.body));
    const span = traces.flatMap((t) => collect(t, 'spans').flat() as any[]).find((s) => s.name === 'history series');
    expect(span).toBeDefined();
    const attrs = Object.fromEntries((span.attributes as any[]).map((a) => [a.key, Object.values(a.value)[0]]));
    expect(attrs).toMatchObject({ 'fleetscope.history.endpoint': 'series', 'fleetscope.history.tier': 'raw' });
    expect(Number(attrs['http.response.status_code'])).toBe(200);

    const metricsReq = otlp.requests.find((r) => r.path === '/v1/metrics' && r.body.includes('fleetscope_ingest_samples'))!;
    expect(metricsReq.headers['content-type']).toMatch(/application\/json/);
    expect(metricsReq.headers['x-tenant']).toBe('fleet a');
    const doc = JSON.parse(metricsReq.body);
    expect(collect(doc, 'attributes').flat().some((a: any) => a.key === 'service.name' && a.value.stringValue === 'hub-under-test')).toBe(true);
    const ingest = (collect(doc, 'metrics').flat() as any[]).find((m) => m.name === 'fleetscope_ingest_samples');
    const point = ingest.sum.dataPoints.find((p: any) => p.attributes.some((a: any) => a.key === 'way' && a.value.stringValue === 'line_protocol'));
    expect(Number(point.asInt ?? point.asDouble)).toBe(1);
  }, 40_000);
});
