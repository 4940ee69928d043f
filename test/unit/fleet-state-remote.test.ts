/**
 * FleetState's remote chips (the live bus): other hubs' chips come and change status by their
 * summaries and status messages, never by this hub's own derivation; a local agent's chip stays
 * local; a hub gone quiet leaves its chips offline.
 */
import { describe, expect, it } from 'vitest';
import { FleetState } from '../../server/fleet-state.ts';
import type { RemoteChip } from '../../server/bus/bus-messages.ts';
import type { AgentRegistration } from '../../server/store/store.ts';
import { chipInfo, sample } from '../helpers/frames.ts';

const T = 1_764_900_000_000;
const remote = (i: number, over: Partial<RemoteChip> = {}): RemoteChip => ({ ...chipInfo(i), host: 'a-host', instanceType: null, agentId: 'agent-on-a', status: 'live', ...over });
const reg = (agentId: string, idx: number[]): AgentRegistration => ({ agentId, agentVersion: 'test', intervalMs: 1000, host: { hostname: `${agentId}-host`, instanceId: null, instanceType: null }, chips: idx.map((i) => chipInfo(i)) });
const statuses = (f: FleetState) => Object.fromEntries(f.list().map((c) => [c.chipId, `${c.status}${f.isRemote(c.chipId) ? ` @${f.remoteHub(c.chipId)}` : ''}`]));

describe('FleetState remote chips', () => {
  it.each([
    ['new chips of hub a', (f: FleetState) => f.applyRemoteChips('a', [remote(0), remote(1, { status: 'stale' })]).map((c) => c.chipId), ['GPU-test-0', 'GPU-test-1'], { 'GPU-test-0': 'live @a', 'GPU-test-1': 'stale @a' }],
    ['the same again changes nothing', (f: FleetState) => {
      f.applyRemoteChips('a', [remote(0)]);
      return f.applyRemoteChips('a', [remote(0)]).map((c) => c.chipId);
    }, [], { 'GPU-test-0': 'live @a' }],
    ['a status change by summary', (f: FleetState) => {
      f.applyRemoteChips('a', [remote(0)]);
      return f.applyRemoteChips('a', [remote(0, { status: 'offline' })]).map((c) => c.status);
    }, ['offline'], { 'GPU-test-0': 'offline @a' }],
    ["a connected local agent's chip stays local", (f: FleetState) => {
      f.agentConnected(reg('local', [0]), T);
      return f.applyRemoteChips('a', [remote(0), remote(1)]).map((c) => c.chipId);
    }, ['GPU-test-1'], { 'GPU-test-0': 'stale', 'GPU-test-1': 'live @a' }],
    ["a disconnected local agent's chip becomes the other hub's (the agent moved there)", (f: FleetState) => {
      f.agentConnected(reg('local', [0]), T);
      f.agentDisconnected('local', T);
      const changed = f.applyRemoteChips('a', [remote(0)]).map((c) => c.chipId);
      expect(f.agentChips('local')).toEqual([]);
      return changed;
    }, ['GPU-test-0'], { 'GPU-test-0': 'live @a' }],
    ['a local hello takes a remote chip back', (f: FleetState) => {
      f.applyRemoteChips('a', [remote(0)]);
      return f.agentConnected(reg('local', [0]), T).map((c) => c.chipId);
    }, ['GPU-test-0'], { 'GPU-test-0': 'stale' }],
    ['a chip moves from hub a to hub b', (f: FleetState) => {
      f.applyRemoteChips('a', [remote(0)]);
      return f.applyRemoteChips('b', [remote(0, { status: 'stale' })]).map((c) => c.chipId);
    }, ['GPU-test-0'], { 'GPU-test-0': 'stale @b' }],
  ])('%s', (_name, run, changed, after) => {
    const f = new FleetState();
    expect(run(f)).toEqual(changed);
    expect(statuses(f)).toEqual(after);
  });

  it.each([
    ['its own hub', 'a', 'GPU-test-0', 'stale', { chipId: 'GPU-test-0', status: 'stale' }],
    ['no change', 'a', 'GPU-test-0', 'live', null],
    ['another hub', 'b', 'GPU-test-0', 'offline', null],
    ['a local chip', 'a', 'GPU-test-5', 'offline', null],
    ['an unknown chip', 'a', 'GPU-x', 'offline', null],
  ] as const)('status message from %s', (_name, hub, chipId, status, change) => {
    const f = new FleetState();
    f.agentConnected(reg('local', [5]), T);
    f.applyRemoteChips('a', [remote(0)]);
    expect(f.applyRemoteStatus(hub, chipId, status)).toEqual(change);
  });

  it("samples of a hub's chips become their latest (newest wins); others are left out", () => {
    const f = new FleetState();
    f.agentConnected(reg('local', [5]), T);
    f.applyRemoteChips('a', [remote(0), remote(1)]);
    const kept = f.applyRemoteSamples('a', [sample('GPU-test-0', T + 2), sample('GPU-test-0', T + 1), sample('GPU-test-1', T), sample('GPU-test-5', T), sample('GPU-x', T)]);
    expect(kept.map((s) => `${s.chipId}@${s.ts - T}`)).toEqual(['GPU-test-0@2', 'GPU-test-0@1', 'GPU-test-1@0']);
    expect(f.get('GPU-test-0')!.latest!.ts).toBe(T + 2);
    expect(f.get('GPU-test-5')!.latest).toBeNull();
    expect(f.applyRemoteSamples('b', [sample('GPU-test-0', T + 9)])).toEqual([]);
    // The latest survives a summary that changes the chip.
    f.applyRemoteChips('a', [remote(0, { status: 'stale' })]);
    expect(f.get('GPU-test-0')!.latest!.ts).toBe(T + 2);
    // Local ingest never touches a remote chip.
    expect(f.applySamples([sample('GPU-test-0', T + 50)], T)).toEqual([]);
    expect(f.get('GPU-test-0')!.latest!.ts).toBe(T + 2);
  });

  it("a hub gone quiet: its chips turn offline, others' stay; the status timer never re-derives remote chips", () => {
    const f = new FleetState();
    f.agentConnected(reg('local', [5]), T);
    f.applySamples([sample('GPU-test-5', T)], T);
    f.applyRemoteChips('a', [remote(0), remote(1, { status: 'offline' })]);
    f.applyRemoteChips('b', [remote(2)]);
    expect(f.remoteHubGone('a')).toEqual([{ chipId: 'GPU-test-0', status: 'offline' }]);
    expect(statuses(f)).toEqual({ 'GPU-test-0': 'offline @a', 'GPU-test-1': 'offline @a', 'GPU-test-2': 'live @b', 'GPU-test-5': 'live' });
    // Long after: the local chip went stale, the remote live one is still what its hub said.
    expect(f.refreshStatuses(T + 60_000)).toEqual([{ chipId: 'GPU-test-5', status: 'stale' }]);
    expect(f.get('GPU-test-2')!.status).toBe('live');
    expect(f.listLocal().map((c) => c.chipId)).toEqual(['GPU-test-5']);
    expect(f.chipLiveness('GPU-test-2')!.agentConnected).toBe(false);
  });

  it('a local live chip that becomes remote is not turned stale by the status timer', () => {
    const f = new FleetState();
    f.agentConnected(reg('local', [0]), T);
    f.applySamples([sample('GPU-test-0', T)], T);
    f.agentDisconnected('local', T);
    f.applyRemoteChips('a', [remote(0)]);
    expect(f.refreshStatuses(T + 60_000)).toEqual([]);
    expect(f.get('GPU-test-0')!.status).toBe('live');
  });
});
