/**
 * Ownership against a real hub (auth on, port 0): an agent id belongs to the token that first
 * registered it, a chip to the agent that first registered it; only an admin moves a chip
 * (POST /api/v1/chips/:chipId/owner). The abuse a probe found, each tried here: a new agent listing
 * another's chips, a second hello with the same agent id from another token, a line-protocol write
 * of a chip whose agent is reconnecting.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeAnswerSchema, chipViewSchema } from '../../schema/api-answers.ts';
import { startHub } from '../../server/hub.ts';
import { reassignChip } from '../../cli/chips-command.ts';
import { tempDir } from '../../bench/support/temp-dir.ts';
import { runFleetscope } from '../../bench/support/processes.ts';
import { batch, chipInfo, hello, sample } from '../helpers/frames.ts';
import { startTestHub, type TestHub } from '../helpers/test-hub.ts';
import { eventually, TestSocket } from '../helpers/ws-client.ts';

let hub: TestHub;
/** A second agent token (the test hub's own `agent` token is the first). */
let otherAgentToken: string;
beforeEach(async () => {
  hub = await startTestHub();
  otherAgentToken = hub.tokens.create('agent', 'other agent').token;
});
afterEach(async () => {
  await hub.stop();
});

async function connect(agentId: string, chips = [chipInfo(0), chipInfo(1)], token = hub.token.agent, over = {}): Promise<TestSocket> {
  const s = await hub.ws('/ws/agent', token);
  s.send(hello(agentId, chips, over));
  await s.waitFor((f) => f.type === 'welcome' || f.type === 'error');
  return s;
}

/** Send a batch and wait for its answer (ack or error with that seq). */
let lastTs = 0;
async function send(s: TestSocket, seq: number, chipIds: string[]): Promise<any> {
  // Each batch a timestamp of its own (a (chip, ts) pair is stored once).
  const now = (lastTs = Math.max(Date.now(), lastTs + 1));
  s.send(batch(seq, chipIds.map((c) => sample(c, now))));
  return s.waitFor((f) => (f.type === 'ack' || f.type === 'error') && f.seq === seq);
}

const chip = async (chipId: string) => (await hub.get('/api/v1/chips')).body.chips.find((c: any) => c.chipId === chipId);
const agentView = async (agentId: string) => (await hub.get('/api/v1/agents')).body.agents.find((a: any) => a.agentId === agentId);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function moveChip(chipId: string, body: unknown, token: string | null = hub.token.admin): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${hub.port}/api/v1/chips/${encodeURIComponent(chipId)}/owner`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function write(body: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${hub.port}/api/v1/write`, { method: 'POST', body, headers: { 'content-type': 'text/plain', ...hub.auth('agent') } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

describe('chips belong to the agent that first registered them', () => {
  it('a new agent listing another agent\'s chips gets chip_owned for them; the owner keeps streaming and keeps its chips after it leaves', async () => {
    const a = await connect('agent-a');
    expect(await send(a, 0, ['GPU-test-0', 'GPU-test-1'])).toMatchObject({ type: 'ack', stored: 2 });

    const evil = await connect('agent-evil', [chipInfo(0), chipInfo(1), chipInfo(5, { chipId: 'GPU-evil-5' })], otherAgentToken);
    expect(evil.frames[0].type).toBe('welcome');
    const err = await evil.waitFor((f) => f.type === 'error');
    expect(err).toMatchObject({ code: 'chip_owned', chipIds: ['GPU-test-0', 'GPU-test-1'] });
    expect(err.message).toContain('GPU-test-0 (agent agent-a)');
    expect(evil.frames.filter((f) => f.type === 'error')).toHaveLength(1);

    // The hello otherwise succeeded: its own chip is registered and written; the owner's are refused.
    expect(await send(evil, 0, ['GPU-evil-5'])).toMatchObject({ type: 'ack', stored: 1 });
    // Its batches naming them are acked with those samples left out (not stored), so its own data keeps flowing.
    expect(await send(evil, 1, ['GPU-test-0'])).toMatchObject({ type: 'ack', stored: 0 });
    expect(await send(evil, 2, ['GPU-evil-5', 'GPU-test-1'])).toMatchObject({ type: 'ack', stored: 1 });
    expect(await send(evil, 3, ['GPU-never-announced'])).toMatchObject({ type: 'error', code: 'unknown_chip' });
    expect(await agentView('agent-evil')).toMatchObject({ chips: 1, connected: true });

    // The owner's batches go on being acked and stored, every one of them.
    for (let seq = 1; seq <= 5; seq++) expect(await send(a, seq, ['GPU-test-0', 'GPU-test-1'])).toMatchObject({ type: 'ack', stored: 2 });
    expect((await hub.store.chipSamples('GPU-test-0', 0, Date.now(), 100)).length).toBe(6);

    // An inventory naming them is told the same, once; the chips stay where they are.
    evil.send({ v: 1, type: 'inventory', chips: [chipInfo(1), chipInfo(5, { chipId: 'GPU-evil-5' })] });
    await eventually(() => evil.frames.filter((f) => f.type === 'error' && f.code === 'chip_owned').length === 2, 3000, 'chip_owned for the inventory');
    expect(evil.frames.filter((f) => f.code === 'chip_owned').at(-1).chipIds).toEqual(['GPU-test-1']);

    evil.close();
    await eventually(async () => (await agentView('agent-evil'))?.connected === false, 3000, 'attacker gone');
    expect(await chip('GPU-test-0')).toMatchObject({ agentId: 'agent-a', host: 'agent-a-host', status: 'live' });
    expect(await chip('GPU-test-1')).toMatchObject({ agentId: 'agent-a', status: 'live' });
    expect(await send(a, 6, ['GPU-test-0', 'GPU-test-1'])).toMatchObject({ type: 'ack', stored: 2 });
    const stored = await hub.store.listChips();
    expect(stored.filter((c) => c.chipId.startsWith('GPU-test-')).map((c) => c.agentId)).toEqual(['agent-a', 'agent-a']);
  });

  it('two agents claiming the same new chip at once: one gets it, the other chip_owned', async () => {
    const [x, y] = await Promise.all([hub.ws('/ws/agent'), hub.ws('/ws/agent', otherAgentToken)]);
    x.send(hello('agent-x', [chipInfo(3)]));
    y.send(hello('agent-y', [chipInfo(3)]));
    await Promise.all([x.waitFor((f) => f.type === 'welcome'), y.waitFor((f) => f.type === 'welcome')]);
    const owner = (await chip('GPU-test-3')).agentId;
    const [winner, loser] = owner === 'agent-x' ? [x, y] : [y, x];
    await loser.waitFor((f) => f.type === 'error' && f.code === 'chip_owned');
    expect(winner.frames.some((f) => f.type === 'error')).toBe(false);
    expect(await send(winner, 0, ['GPU-test-3'])).toMatchObject({ type: 'ack' });
    expect(await send(loser, 0, ['GPU-test-3'])).toMatchObject({ type: 'ack', stored: 0 });
  });

  it('a storm of hellos (200 agents at once, pairs claiming a shared new chip): all welcomed, each shared chip to exactly one, every other chip to its agent', async () => {
    // Hellos are decided one at a time but commit together: many are decided before the first commits.
    const n = 200;
    const chipsOf = (i: number) => [chipInfo(0, { chipId: `STORM-${i}-a` }), chipInfo(1, { chipId: `STORM-${i}-b` }), chipInfo(2, { chipId: `STORM-shared-${i >> 1}` })];
    const sockets = await Promise.all(Array.from({ length: n }, (_, i) => hub.ws('/ws/agent', i % 2 ? otherAgentToken : hub.token.agent)));
    sockets.forEach((s, i) => s.send(hello(`storm-${i}`, chipsOf(i))));
    await Promise.all(sockets.map((s) => s.waitFor((f) => f.type === 'welcome', 20_000)));
    const res = await hub.get('/api/v1/chips');
    const owners = new Map<string, string>((res.body.chips as { chipId: string; agentId: string }[]).map((c) => [c.chipId, c.agentId]));
    for (let i = 0; i < n; i++) {
      expect(owners.get(`STORM-${i}-a`)).toBe(`storm-${i}`);
      expect(owners.get(`STORM-${i}-b`)).toBe(`storm-${i}`);
    }
    for (let k = 0; k < n / 2; k++) {
      const owner = owners.get(`STORM-shared-${k}`);
      expect([`storm-${2 * k}`, `storm-${2 * k + 1}`]).toContain(owner);
      const loser = sockets[owner === `storm-${2 * k}` ? 2 * k + 1 : 2 * k]!;
      await loser.waitFor((f) => f.type === 'error' && f.code === 'chip_owned' && f.chipIds.includes(`STORM-shared-${k}`));
    }
    for (const s of sockets) s.close();
  }, 60_000);
});

describe('the store keeps owners', () => {
  const reg = (agentId: string, chipIds: string[], tokenId?: string | null) => ({
    agentId, agentVersion: 't', intervalMs: 1000, host: { hostname: `${agentId}-host`, instanceId: null, instanceType: null },
    chips: chipIds.map((chipId, i) => chipInfo(i, { chipId })), ...(tokenId === undefined ? {} : { tokenId }),
  });

  it('binds a new agent id to its token for good (a null binding is claimed once), and never moves a chip on registration', async () => {
    const now = Date.now();
    await hub.store.registerAgent(reg('agent-a', ['G-1'], 'tok_a'), now);
    await hub.store.registerAgent(reg('agent-a', ['G-1'], 'tok_b'), now);
    expect(await hub.store.getAgent('agent-a')).toMatchObject({ agentId: 'agent-a', tokenId: 'tok_a', hostname: 'agent-a-host' });
    await hub.store.registerAgent(reg('agent-n', [], null), now);
    expect((await hub.store.getAgent('agent-n'))?.tokenId).toBe(null);
    await hub.store.registerAgent(reg('agent-n', [], 'tok_c'), now);
    await hub.store.registerAgent(reg('agent-n', [], null), now);
    expect((await hub.store.getAgent('agent-n'))?.tokenId).toBe('tok_c');
    expect(await hub.store.getAgent('agent-none')).toBe(null);

    await hub.store.registerAgent(reg('agent-b', ['G-1', 'G-2']), now);
    const owners = async () => Object.fromEntries((await hub.store.listChips()).map((c) => [c.chipId, c.agentId]));
    expect(await owners()).toEqual({ 'G-1': 'agent-a', 'G-2': 'agent-b' });
    expect(await hub.store.moveChip('G-1', 'agent-b', now)).toMatchObject({ chipId: 'G-1', agentId: 'agent-b', host: 'agent-b-host' });
    expect(await hub.store.moveChip('G-1', 'agent-none', now)).toBe(null);
    expect(await hub.store.moveChip('G-none', 'agent-b', now)).toBe(null);
    expect(await owners()).toEqual({ 'G-1': 'agent-b', 'G-2': 'agent-b' });
  });
});

describe('an agent id belongs to the token that first registered it', () => {
  it("another token's hello for a connected agent id is refused (agent_owned, 1008); the agent keeps streaming on its host", async () => {
    const a = await connect('agent-a');
    expect(await send(a, 0, ['GPU-test-0'])).toMatchObject({ type: 'ack' });

    const thief = await connect('agent-a', [chipInfo(0), chipInfo(1)], otherAgentToken, { host: { hostname: 'thief-host', instanceId: null, instanceType: null } });
    expect(thief.frames[0]).toMatchObject({ type: 'error', code: 'agent_owned' });
    expect(await thief.waitClosed()).toBe(1008);

    expect(await agentView('agent-a')).toMatchObject({ host: 'agent-a-host', connected: true });
    expect(await chip('GPU-test-0')).toMatchObject({ agentId: 'agent-a', host: 'agent-a-host' });
    for (let seq = 1; seq <= 3; seq++) expect(await send(a, seq, ['GPU-test-0', 'GPU-test-1'])).toMatchObject({ type: 'ack', stored: 2 });
    expect(a.closeCode).toBe(null);

    // Also while the agent is away, and after a hub restart (the binding is stored).
    a.close();
    await eventually(async () => (await agentView('agent-a')).connected === false, 3000, 'agent-a gone');
    const again = await connect('agent-a', [chipInfo(0)], otherAgentToken);
    expect(again.frames[0]).toMatchObject({ type: 'error', code: 'agent_owned' });
  });

  it('the binding survives a hub restart; the owning token is still let in', async () => {
    const tmp = tempDir();
    const db = join(tmp.dir, 'hub.db');
    try {
      let h = await startHub({ port: 0, host: '127.0.0.1', db });
      const tokA = h.tokens.create('agent', 'a').token;
      const tokB = h.tokens.create('agent', 'b').token;
      const open = (token: string) => TestSocket.open(`ws://127.0.0.1:${h.port}/ws/agent`, { authorization: `Bearer ${token}` });
      const a = await open(tokA);
      a.send(hello('agent-a', [chipInfo(0)]));
      await a.waitFor((f) => f.type === 'welcome');
      a.close();
      await a.waitClosed();
      await h.close();

      h = await startHub({ port: 0, host: '127.0.0.1', db });
      try {
        const b = await open(tokB);
        b.send(hello('agent-a', [chipInfo(0)]));
        expect(await b.waitFor((f) => f.type === 'error')).toMatchObject({ code: 'agent_owned' });
        const b2 = await open(tokB);
        b2.send(hello('agent-b', [chipInfo(0)]));
        expect(await b2.waitFor((f) => f.type === 'error')).toMatchObject({ code: 'chip_owned', chipIds: ['GPU-test-0'] });
        const a2 = await open(tokA);
        a2.send(hello('agent-a', [chipInfo(0)]));
        await a2.waitFor((f) => f.type === 'welcome');
        a2.send(batch(0, [sample('GPU-test-0', Date.now())]));
        expect(await a2.waitFor((f) => f.type === 'ack' || f.type === 'error')).toMatchObject({ type: 'ack', stored: 1 });
        a2.close();
        b2.close();
      } finally {
        await h.close();
      }
    } finally {
      tmp.cleanup();
    }
  });

  it('a hello with the same token replaces the older connection; the agent stays connected and live', async () => {
    const a1 = await connect('agent-a');
    expect(await send(a1, 0, ['GPU-test-0', 'GPU-test-1'])).toMatchObject({ type: 'ack' });

    const a2 = await connect('agent-a');
    expect(a2.frames[0].type).toBe('welcome');
    expect(await a1.waitClosed()).toBe(1000);
    // Past the close of the older connection and a few status ticks: still connected, still live.
    await sleep(700);
    expect(await agentView('agent-a')).toMatchObject({ connected: true });
    expect(await send(a2, 1, ['GPU-test-0', 'GPU-test-1'])).toMatchObject({ type: 'ack', stored: 2 });
    expect(await chip('GPU-test-0')).toMatchObject({ agentId: 'agent-a', status: 'live' });
    expect(hub.fleet.hasConnection('agent-a')).toBe(true);

    // And when the newer one goes, the agent is disconnected (no connection left counted).
    a2.close();
    await eventually(async () => (await agentView('agent-a')).connected === false, 3000, 'agent-a disconnected');
    expect((await chip('GPU-test-0')).status).toBe('offline');
  });
});

describe('line protocol follows the same rules', () => {
  it('cannot take a chip from a /ws/agent agent during its reconnect gap; the other lines are stored', async () => {
    const a = await connect('agent-a', [chipInfo(0)]);
    expect(await send(a, 0, ['GPU-test-0'])).toMatchObject({ type: 'ack' });
    a.close();
    await eventually(async () => (await agentView('agent-a')).connected === false, 3000, 'agent-a gone');

    const ts = Date.now() - 1000;
    const line = (chipId: string, host = 'gpu-node-1') => `chip,host=${host},chip=${chipId},vendor=nvidia,model=H100 util_pct=12 ${ts}000000`;
    const res = await write([line('GPU-test-0'), line('GPU-lp-1'), line('GPU-test-0')].join('\n'));
    expect(res.status).toBe(200);
    expect(writeAnswerSchema.parse(res.body)).toEqual({
      stored: 1,
      refused: [{ chipId: 'GPU-test-0', host: 'gpu-node-1', agentId: 'agent-a', code: 'chip_owned', line: 1, lines: 2, message: expect.stringMatching(/^line 1 \(and 1 more line\): chip "GPU-test-0" belongs to agent "agent-a"/) }],
    });
    expect(await hub.store.chipSamples('GPU-lp-1', ts, ts, 10)).toHaveLength(1);
    expect(await hub.store.chipSamples('GPU-test-0', ts, ts, 10)).toHaveLength(0);
    expect(await chip('GPU-test-0')).toMatchObject({ agentId: 'agent-a', host: 'agent-a-host' });

    // Nothing storable: 400 chip_owned.
    const none = await write(line('GPU-test-0'));
    expect(none.status).toBe(400);
    expect(none.body).toMatchObject({ code: 'chip_owned', message: expect.stringContaining('GPU-test-0 (agent agent-a)') });
    // Nor may another host's lp- agent take the lp- chip.
    const moved = await write(line('GPU-lp-1', 'gpu-node-2'));
    expect(moved.body).toMatchObject({ code: 'chip_owned' });
    expect(await chip('GPU-lp-1')).toMatchObject({ agentId: 'lp-gpu-node-1' });

    // The agent comes back and writes its chip as before.
    const back = await connect('agent-a', [chipInfo(0)]);
    expect(back.frames.some((f) => f.type === 'error')).toBe(false);
    expect(await send(back, 1, ['GPU-test-0'])).toMatchObject({ type: 'ack', stored: 1 });
  });

  it("a /ws/agent hello cannot use a line-protocol host's agent id", async () => {
    expect((await write(`chip,host=n1,chip=GPU-lp-9,vendor=nvidia,model=H100 util_pct=1`)).status).toBe(204);
    const s = await connect('lp-n1', [chipInfo(9, { chipId: 'GPU-lp-9' })]);
    expect(s.frames[0]).toMatchObject({ type: 'error', code: 'agent_owned' });
    expect(await s.waitClosed()).toBe(1008);
    expect(await chip('GPU-lp-9')).toMatchObject({ agentId: 'lp-n1' });
  });
});

describe('an admin moves chips', () => {
  it('POST /api/v1/chips/:chipId/owner moves a chip; the new owner can then write it, the former cannot', async () => {
    const a = await connect('agent-a');
    const b = await connect('agent-b', [chipInfo(1)], otherAgentToken);
    expect(await b.waitFor((f) => f.type === 'error')).toMatchObject({ code: 'chip_owned', chipIds: ['GPU-test-1'] });
    expect(await send(b, 0, ['GPU-test-1'])).toMatchObject({ type: 'ack', stored: 0 });

    const res = await moveChip('GPU-test-1', { agentId: 'agent-b' });
    expect(res.status).toBe(200);
    expect(chipViewSchema.parse(res.body)).toMatchObject({ chipId: 'GPU-test-1', agentId: 'agent-b', host: 'agent-b-host' });
    expect(await chip('GPU-test-1')).toMatchObject({ agentId: 'agent-b', host: 'agent-b-host' });
    expect((await hub.store.listChips()).find((c) => c.chipId === 'GPU-test-1')).toMatchObject({ agentId: 'agent-b', host: 'agent-b-host' });

    expect(await send(b, 1, ['GPU-test-1'])).toMatchObject({ type: 'ack', stored: 1 });
    expect(await chip('GPU-test-1')).toMatchObject({ status: 'live' });
    expect(await send(a, 0, ['GPU-test-0', 'GPU-test-1'])).toMatchObject({ type: 'error', code: 'unknown_chip' });
    expect(await send(a, 1, ['GPU-test-0'])).toMatchObject({ type: 'ack', stored: 1 });
    expect(await agentView('agent-a')).toMatchObject({ chips: 1 });
    expect(await agentView('agent-b')).toMatchObject({ chips: 1 });

    // A later hello of the former owner listing it is told chip_owned.
    a.close();
    const a2 = await connect('agent-a');
    expect(await a2.waitFor((f) => f.type === 'error')).toMatchObject({ code: 'chip_owned', chipIds: ['GPU-test-1'] });
  });

  it('answers 404 for an unknown chip or agent, 400 for a bad body, 401/403 without an admin token', async () => {
    await connect('agent-a');
    expect(await moveChip('GPU-nope', { agentId: 'agent-a' })).toMatchObject({ status: 404, body: { code: 'not_found', message: 'unknown chip "GPU-nope"' } });
    expect(await moveChip('GPU-test-0', { agentId: 'agent-nope' })).toMatchObject({ status: 404, body: { code: 'not_found', message: 'unknown agent "agent-nope"' } });
    for (const bad of ['not json', {}, { agentId: '' }, { agentId: 'a b' }, { agentId: 'agent-a', extra: 1 }]) {
      const r = await moveChip('GPU-test-0', bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.body.code).toBe('bad_request');
    }
    expect((await moveChip('GPU-test-0', { agentId: 'agent-a' }, null)).status).toBe(401);
    expect((await moveChip('GPU-test-0', { agentId: 'agent-a' }, hub.token.agent)).status).toBe(403);
    expect(await chip('GPU-test-0')).toMatchObject({ agentId: 'agent-a' });
  });

  it('fleetscope chips reassign calls the endpoint and explains refusals', async () => {
    await connect('agent-a');
    await connect('agent-b', [chipInfo(7, { chipId: 'GPU-b-7' })], otherAgentToken);
    const req = { hub: `http://127.0.0.1:${hub.port}`, chipId: 'GPU-test-0', agentId: 'agent-b' };
    await expect(reassignChip(req)).rejects.toThrow('the hub needs an admin token (401): pass --token or set FLEETSCOPE_TOKEN');
    await expect(reassignChip({ ...req, token: 'fst_not-a-real-token-at-all' })).rejects.toThrow(/^the hub did not accept the token \(401\)/);
    await expect(reassignChip({ ...req, token: hub.token.viewer })).rejects.toThrow(/^the token may not move chips \(403\)/);
    await expect(reassignChip({ ...req, chipId: 'GPU-nope', token: hub.token.admin })).rejects.toThrow('unknown chip "GPU-nope" (404)');
    await expect(reassignChip({ ...req, hub: 'http://127.0.0.1:1' })).rejects.toThrow(/^cannot reach the hub at http:\/\/127\.0\.0\.1:1/);
    // The real command, as a person runs it.
    const cli = runFleetscope(['chips', 'reassign', 'GPU-test-0', '--to', 'agent-b', '--hub', req.hub], { FLEETSCOPE_TOKEN: hub.token.admin });
    expect(await cli.exited, cli.stderr()).toBe(0);
    expect(await chip('GPU-test-0')).toMatchObject({ agentId: 'agent-b' });
  });
});
