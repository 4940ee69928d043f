/**
 * GET /readyz on a real hub: ready with its checks, no token needed; when the database file is
 * gone (deleted under the running hub), 503 with the reason, while /healthz still says the
 * process is up.
 */
import { unlinkSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';

let hub: TestHub;
beforeEach(async () => {
  hub = await startTestHub();
});
afterEach(async () => {
  await hub.stop();
});

describe('GET /readyz', () => {
  it('is ready with every check ok, without a token', async () => {
    const res = await fetch(`${hub.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', checks: { database: 'ok', writer: 'ok' }, reasons: [] });
  });

  it('answers 503 with the reason when the database cannot be written; /healthz stays 200', async () => {
    unlinkSync(hub.dbPath);
    const res = await fetch(`${hub.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      status: 'not_ready',
      checks: { database: 'the database file is not writable (ENOENT)', writer: 'ok' },
      reasons: ['database: the database file is not writable (ENOENT)'],
    });
    expect((await fetch(`${hub.url}/healthz`)).status).toBe(200);
  });

  it('is in the OpenAPI document with /metrics and /metrics/fleet', async () => {
    const doc = (await (await fetch(`${hub.url}/api/v1/openapi.json`)).json()) as { paths: Record<string, any> };
    expect(Object.keys(doc.paths['/readyz'].get.responses)).toEqual(['200', '503']);
    expect(doc.paths['/metrics/fleet'].get.parameters[0]).toMatchObject({ name: 'names', schema: { enum: ['fleetscope', 'dcgm', 'neuron'] } });
    expect(doc.paths['/metrics']).toBeDefined();
  });
});
