/**
 * handleAgentSocket (server/ws/agent-endpoint.ts) tells ingest when the hub is behind with an agent
 * (fleet-state.ts agentReading): more than one of its batches waiting for their commit (its window
 * fills and it stops sending) is being behind; one in flight, the usual state at 1 Hz, is not.
 * A real WebSocket on port 0; ingest is a fake whose commits the test settles.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { handleAgentSocket } from '../../server/ws/agent-endpoint.ts';
import { EventLoopTurns } from '../../server/event-loop-turns.ts';
import { silentLogger } from '../../common/logger.ts';
import type { Ingest } from '../../server/ingest.ts';
import { batch, chipInfo, hello, sample } from '../helpers/frames.ts';
import { eventually, TestSocket } from '../helpers/ws-client.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** A fake ingest: every hello welcomed, every chip owned, each commit settled by the test. */
function fakeIngest() {
  const reading: boolean[] = [];
  const commits: { resolve: () => void; n: number }[] = [];
  const ingest = {
    metrics: { batches: 0, samples: 0, backfillSamples: 0, rejectedFrames: 0 },
    probe: null,
    async hello(reg: { agentId: string; chips: unknown[] }) {
      return { ok: true, registration: { ...reg, tokenId: null }, foreign: [] };
    },
    ownsChip: () => true,
    writerBusy: () => false,
    writerReady: async () => {},
    commit(_agentId: string, _seq: number, samples: unknown[]) {
      return new Promise<{ stored: number }>((resolve) => commits.push({ resolve: () => resolve({ stored: samples.length }), n: samples.length }));
    },
    agentReading(_agentId: string, _session: unknown, on: boolean) {
      reading.push(on);
    },
    agentGone() {},
  };
  return { ingest: ingest as unknown as Ingest, reading, commits };
}

async function start(): Promise<{ agent: TestSocket; fake: ReturnType<typeof fakeIngest> }> {
  const fake = fakeIngest();
  const wss = new WebSocketServer({ port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const turns = new EventLoopTurns();
  wss.on('connection', (ws) => handleAgentSocket(ws, fake.ingest, silentLogger, undefined, undefined, turns));
  closers.push(() => new Promise<void>((r) => wss.close(() => r())));
  const agent = await TestSocket.open(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`);
  closers.unshift(async () => agent.close());
  agent.send(hello('behind', [chipInfo(0)]));
  await agent.waitFor((f) => f.type === 'welcome');
  return { agent, fake };
}

describe('agent endpoint: behind with an agent', () => {
  it('one batch waiting for its commit is not being behind; two are, until the acks go out', async () => {
    const { agent, fake } = await start();
    const t = Date.now();
    agent.send(batch(0, [sample('GPU-test-0', t)]));
    // (A frame that waits a turn of the event loop counts as unread meanwhile: `reading` may hold such a pair.)
    const behind = () => fake.reading.at(-1) === false;
    await eventually(() => fake.commits.length === 1, 2000, 'first commit');
    await new Promise((r) => setTimeout(r, 50));
    expect(behind()).toBe(false);
    fake.commits[0]!.resolve();
    await agent.waitFor((f) => f.type === 'ack' && f.seq === 0);
    expect(behind()).toBe(false);

    agent.send(batch(1, [sample('GPU-test-0', t + 1)]));
    agent.send(batch(2, [sample('GPU-test-0', t + 2)]));
    await eventually(() => fake.commits.length === 3, 2000, 'two more commits');
    await new Promise((r) => setTimeout(r, 50));
    expect(behind()).toBe(true);
    fake.commits[1]!.resolve();
    await agent.waitFor((f) => f.type === 'ack' && f.seq === 1);
    // One still owed: no longer behind.
    await eventually(() => !behind(), 2000, 'reading again');
    fake.commits[2]!.resolve();
    await agent.waitFor((f) => f.type === 'ack' && f.seq === 2);
    expect(behind()).toBe(false);
  });
});
