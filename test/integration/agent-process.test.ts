import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';
import { eventually } from '../helpers/ws-client.ts';
import { runFleetscope } from '../../bench/support/processes.ts';

let hub: TestHub;
beforeEach(async () => {
  hub = await startTestHub();
});
afterEach(async () => {
  await hub.stop();
});

describe('real agent process -> hub -> SQLite and /ws/live', () => {
  it('stores exactly the samples the agent sent, and a live client receives every one', async () => {
    const live = await hub.ws('/ws/live');
    live.send({ v: 1, type: 'subscribe', sub: { topic: 'samples' } });
    // Frames of one socket are handled in order: the snapshot means the firehose is on too.
    live.send({ v: 1, type: 'subscribe', sub: { topic: 'fleet' } });
    await live.waitFor((f) => f.type === 'fleet-snapshot');

    const agent = runFleetscope(['agent', '--hub', `ws://127.0.0.1:${hub.port}`, '--source', 'sim-nvml', '--interval', '1s', '--seed', '3', '--spool', 'none', '--token', hub.token.agent, '--log-format', 'json']);
    await eventually(async () => (await hub.store.countSamples()) >= 8 * 4, 15_000, '4 batches stored');
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);

    const stopped = agent.jsonLogs().find((l) => l.msg === 'agent stopped');
    expect(stopped, agent.stderr()).toBeDefined();
    const sent = stopped.samplesSent;
    expect(sent % 8).toBe(0);
    expect(stopped.samplesStored).toBe(sent);
    expect(stopped.batchesAcked).toBe(stopped.batchesSent);
    expect(stopped.pendingBatches).toBe(0);
    expect(await hub.store.countSamples()).toBe(sent);
    // The hub's welcome offered binary batch frames, so the batches went as binary frames; the
    // source health they carry in their tail reached the hub.
    expect(agent.jsonLogs().find((l) => l.msg === 'connected to hub')?.batches).toBe('binary');
    const agents = (await hub.get('/api/v1/agents')).body.agents;
    expect(agents[0].health).toMatchObject([{ kind: 'sim-nvml', state: 'ok' }]);

    const received = () => live.frames.filter((f) => f.type === 'samples').flatMap((f) => f.samples);
    await eventually(() => received().length === sent, 3000, 'live client to receive every sample');
    const chips = await hub.get('/api/v1/chips');
    expect(chips.body.chips).toHaveLength(8);
    expect(new Set(received().map((s: any) => s.chipId))).toEqual(new Set(chips.body.chips.map((c: any) => c.chipId)));
    // Every chip reports one sample per tick, each with the canonical units.
    for (const c of chips.body.chips) {
      expect(c).toMatchObject({ vendor: 'nvidia', model: 'H100', status: 'offline' });
      const hist = await hub.get(`/api/v1/chips/${c.chipId}/samples?from=0`);
      expect(hist.body.samples).toHaveLength(sent / 8);
      const s = hist.body.samples[0];
      expect(s.powerLimitW).toBe(700);
      expect(s.memTotalBytes).toBe(81559 * 1048576);
    }
  });

  it('runs several sources as one host, configured from a config file and the environment', async () => {
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tempDir } = await import('../../bench/support/temp-dir.ts');
    const tmp = tempDir();
    const config = join(tmp.dir, 'agent.json');
    writeFileSync(config, JSON.stringify({ source: ['sim-neuron', 'sim-nvml:H200'], interval: '500ms', spool: join(tmp.dir, 'spool'), hostname: 'mixed-host-1', frames: 'json' }));
    const agent = runFleetscope(['agent', '--config', config, '--log-format', 'json'], { FLEETSCOPE_HUB: `ws://127.0.0.1:${hub.port}`, FLEETSCOPE_TOKEN: hub.token.agent });
    await eventually(async () => (await hub.get('/api/v1/chips')).body.chips.filter((c: any) => c.status === 'live').length === 24, 15_000, '24 live chips');
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    const chips = (await hub.get('/api/v1/chips')).body.chips as any[];
    expect(new Set(chips.map((c) => c.host))).toEqual(new Set(['mixed-host-1']));
    expect(chips.filter((c) => c.model === 'Trainium2')).toHaveLength(16);
    expect(chips.filter((c) => c.model === 'H200')).toHaveLength(8);
    const agents = (await hub.get('/api/v1/agents')).body.agents;
    expect(agents).toHaveLength(1);
    expect(agents[0].health.map((h: any) => h.kind)).toEqual(['sim-neuron', 'sim-nvml']);
    expect(agent.jsonLogs().find((l) => l.msg === 'connected to hub')?.batches).toBe('json');
    tmp.cleanup();
  });

  it('fails over to the next --hub when the first is unreachable', async () => {
    const { freePort } = await import('../../bench/support/free-port.ts');
    const dead = await freePort();
    const agent = runFleetscope(['agent', '--hub', `ws://127.0.0.1:${dead}`, '--hub', `ws://127.0.0.1:${hub.port}`, '--source', 'sim-nvml', '--interval', '200ms', '--spool', 'none', '--token', hub.token.agent, '--log-format', 'json']);
    await eventually(async () => (await hub.store.countSamples()) >= 8 * 3, 15_000, 'samples via the second hub');
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    const stopped = agent.jsonLogs().find((l) => l.msg === 'agent stopped');
    expect(stopped.pendingBatches).toBe(0);
    expect(await hub.store.countSamples()).toBe(stopped.samplesSent);
  });

  it('explains bad arguments and shows --help', async () => {
    const help = runFleetscope(['agent', '--help']);
    expect(await help.exited).toBe(0);
    expect(help.stdout()).toContain('--hub');
    expect(help.stdout()).toContain('sim-neuron');
    expect(help.stdout()).toContain('--frames');
    const bad = runFleetscope(['agent', '--hub', 'ws://127.0.0.1:1', '--source', 'sim-amd']);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toMatch(/unknown source "sim-amd"/);
    const noHub = runFleetscope(['agent', '--source', 'sim-nvml'], { FLEETSCOPE_HUB: '' });
    expect(await noHub.exited).toBe(2);
    expect(noHub.stderr()).toMatch(/--hub is required/);
    const badInterval = runFleetscope(['agent', '--hub', 'ws://127.0.0.1:1', '--source', 'sim-nvml', '--interval', 'fast']);
    expect(await badInterval.exited).toBe(2);
    expect(badInterval.stderr()).toMatch(/--interval: invalid duration "fast"/);
    const badFrames = runFleetscope(['agent', '--hub', 'ws://127.0.0.1:1', '--source', 'sim-nvml', '--frames', 'xml']);
    expect(await badFrames.exited).toBe(2);
    expect(badFrames.stderr()).toMatch(/--frames must be auto or json, got "xml"/);
    const badConfig = runFleetscope(['agent', '--config', '/nonexistent/agent.json']);
    expect(await badConfig.exited).toBe(2);
    expect(badConfig.stderr()).toMatch(/cannot read config file/);
    const hubHelp = runFleetscope(['hub', '--help']);
    expect(await hubHelp.exited).toBe(0);
    expect(hubHelp.stdout()).toContain('--db');
  });
});
