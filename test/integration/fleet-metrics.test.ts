/**
 * GET /metrics/fleet on a real hub: the chips an agent registered, their latest values with the
 * samples' timestamps; once the agent is gone its chips are `fleetscope_chip_up 0` with no values;
 * `?names=` picks the name set (400 for another); gzip when asked, the same text inflated.
 */
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batch, chipInfo, hello, sample } from '../helpers/frames.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';
import { eventually } from '../helpers/ws-client.ts';

let hub: TestHub;
beforeEach(async () => {
  hub = await startTestHub();
});
afterEach(async () => {
  await hub.stop();
});

const get = async (path: string) => {
  const res = await fetch(`${hub.url}${path}`, { headers: hub.auth('viewer') });
  return { status: res.status, text: await res.text() };
};

/** The raw bytes and headers of a gzip scrape (no decoding on the way). */
function rawGzip(path: string): Promise<{ encoding: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${hub.url}${path}`, { headers: { ...hub.auth('viewer'), 'accept-encoding': 'gzip' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GET /metrics/fleet', () => {
  it("writes live chips' values with their timestamps; a chip whose agent left is up 0 without values", async () => {
    const chips = Array.from({ length: 40 }, (_, i) => chipInfo(i, { chipId: `GPU-fm-${i}` }));
    const agent = await hub.ws('/ws/agent');
    agent.send(hello('fm-a', chips));
    await agent.waitFor((f) => f.type === 'welcome');
    const ts = Date.now() - 500;
    agent.send(batch(1, chips.map((c, i) => sample(c.chipId, ts, { powerW: 100 + i, tempC: i === 0 ? null : 50 }))));
    await agent.waitFor((f) => f.type === 'ack');

    const live = await get('/metrics/fleet');
    expect(live.status).toBe(200);
    const l0 = 'host="fm-a-host",chip="GPU-fm-0",vendor="nvidia",model="H100",instance_type="p5.48xlarge"';
    expect(live.text).toContain(`fleetscope_chip_power_watts{${l0}} 100 ${ts}\n`);
    expect(live.text).toContain(`fleetscope_chip_up{${l0}} 1\n`);
    expect(live.text).not.toContain(`fleetscope_chip_temperature_celsius{${l0}}`);
    expect(live.text.match(/^fleetscope_chip_power_watts\{/gm)).toHaveLength(40);

    const gz = await rawGzip('/metrics/fleet');
    expect(gz.encoding).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toBe(live.text);

    const dcgm = await get('/metrics/fleet?names=dcgm');
    expect(dcgm.text).toContain(`DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="GPU-fm-0",device="nvidia0",modelName="H100",Hostname="fm-a-host"} 100 ${ts}\n`);
    expect((await get('/metrics/fleet?names=neuron')).text).toBe('');
    const bad = await get('/metrics/fleet?names=influx');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({ code: 'bad_request', message: 'names must be one of fleetscope, dcgm, neuron, got "influx"' });

    agent.close();
    await eventually(async () => (await get('/metrics/fleet')).text.includes(`fleetscope_chip_up{${l0}} 0`), 5000, 'the chip to turn offline');
    const gone = await get('/metrics/fleet');
    expect(gone.text).not.toMatch(/^fleetscope_chip_power_watts/m);
    expect(gone.text.match(/^fleetscope_chip_up\{.*\} 0$/gm)).toHaveLength(40);
  });
});
