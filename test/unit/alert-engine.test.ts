/**
 * The alert engine on a fake clock, with a real FleetState and an in-memory AlertStore: the
 * sequences of transitions for sample rules (for, hysteresis, clear.for, ECC deltas, backfill,
 * out-of-order samples), staleness and agent-offline timers, rule changes, and a restart on the
 * same store. Timers run only when the test calls `tick()`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertRuleInput } from '../../schema/alert-rules.ts';
import type { Sample } from '../../schema/sample.ts';
import type { AlertEvent } from '../../server/alerts/alert-events.ts';
import { AlertEngine } from '../../server/alerts/alert-engine.ts';
import type { AlertStore, StateWrite, StoredAlertEvent, StoredRule, StoredRuleSource, StoredStateRow } from '../../server/alerts/alert-store.ts';
import { FleetState } from '../../server/fleet-state.ts';
import type { AgentRegistration } from '../../server/store/store.ts';
import { chipInfo, sample } from '../helpers/frames.ts';

const T0 = 1_750_000_000_000;
const S = 1000;

class MemoryStore implements AlertStore {
  rules = new Map<string, StoredRule>();
  states = new Map<string, StoredStateRow>();
  events: StoredAlertEvent[] = [];
  loadRules = () => [...this.rules.values()];
  saveRule(id: string, source: StoredRuleSource, body: unknown, now = 0) {
    this.rules.set(id, { id, source, body: JSON.parse(JSON.stringify(body)), updatedAt: now });
  }
  deleteRule = (id: string) => this.rules.delete(id);
  loadStates = () => [...this.states.values()].map((r) => JSON.parse(JSON.stringify(r)) as StoredStateRow);
  write(ws: readonly StateWrite[], events: readonly AlertEvent[], now = 0) {
    for (const w of ws) {
      const key = `${w.ruleId}/${w.chipId}`;
      if (w.state === null) this.states.delete(key);
      else this.states.set(key, { ruleId: w.ruleId, chipId: w.chipId, state: JSON.parse(JSON.stringify(w.state)), labels: { ...w.labels }, updatedAt: now });
    }
    for (const e of events) this.events.push({ ...e, id: this.events.length + 1 });
    return Promise.resolve();
  }
  history = () => [...this.events].reverse();
  pruneEvents = () => 0;
  close() {}
}

interface Rig {
  clock: { now: number };
  fleet: FleetState;
  store: MemoryStore;
  engine: AlertEngine;
  published: AlertEvent[];
  /** Commit samples as ingest does: the fleet first, then the engine. */
  commit(samples: Sample[], backfill?: boolean): void;
  /** Move the clock and run the timers. */
  at(ms: number): void;
  connect(agentId?: string, intervalMs?: number): void;
  disconnect(agentId?: string): void;
  /** `rule:from>to` of the published events, in order. */
  log(): string[];
}

const engines: AlertEngine[] = [];
afterEach(() => {
  for (const e of engines.splice(0)) e.close();
});

const reg = (agentId: string, intervalMs: number): AgentRegistration => ({
  agentId,
  agentVersion: 't',
  host: { hostname: `${agentId}-host`, instanceId: null, instanceType: null },
  intervalMs,
  chips: [chipInfo(0, { chipId: `${agentId}-gpu0` })],
  tokenId: null,
});

function rig(opts: { rules?: AlertRuleInput[]; builtins?: Record<string, unknown>; store?: MemoryStore; fleet?: FleetState; clock?: { now: number } } = {}): Rig {
  const clock = opts.clock ?? { now: T0 };
  const fleet = opts.fleet ?? new FleetState();
  const store = opts.store ?? new MemoryStore();
  const published: AlertEvent[] = [];
  // All built-ins off unless a test turns one on: each test watches only its rules.
  const builtins = Object.fromEntries(['stale', 'agent-offline', 'idle-powered', 'thermal', 'power-at-limit', 'ecc-uncorrected'].map((id) => [id, { enabled: false, ...(opts.builtins?.[id] as object) }]));
  const engine = new AlertEngine({
    store,
    fleet,
    now: () => clock.now,
    sinks: [{ publish: (ev) => published.push(...ev) }],
    file: { builtins, rules: (opts.rules ?? []).map((r) => ({ enabled: true, selector: {}, and: [], for: '0s', clear: {}, severity: 'warning', labels: {}, ...r })) } as never,
  });
  engines.push(engine);
  engine.start();
  const r: Rig = {
    clock,
    fleet,
    store,
    engine,
    published,
    commit(samples, backfill = false) {
      fleet.applySamples(samples, clock.now, backfill);
      engine.onSamples(backfill ? samples.map((s) => ({ ...s, flags: { ...s.flags, backfill: true } })) : samples, { backfill });
    },
    at(ms) {
      clock.now = T0 + ms;
      engine.tick();
    },
    connect(agentId = 'a', intervalMs = S) {
      fleet.agentConnected(reg(agentId, intervalMs));
      engine.onAgentChange(agentId);
    },
    disconnect(agentId = 'a') {
      fleet.agentDisconnected(agentId, clock.now);
      engine.onAgentChange(agentId);
    },
    log: () => published.map((e) => `${e.ruleId}:${e.from}>${e.to}`),
  };
  return r;
}

const GPU = 'a-gpu0';
const temp = (ms: number, tempC: number, over: Partial<Sample> = {}) => sample(GPU, T0 + ms, { tempC, ...over });
const hot: AlertRuleInput = { id: 'hot', name: 'Hot', field: 'tempC', op: '>=', threshold: 85, for: '60s', clear: { threshold: 80 } };

describe('alert engine: sample rules', () => {
  it.each([
    {
      name: 'fires after `for` by the timer, holds in the band, resolves past the clear threshold',
      steps: (r: Rig) => {
        r.commit([temp(0, 90)]);
        r.at(30 * S);
        r.commit([temp(30 * S, 91)]);
        r.at(59 * S);
        expect(r.log()).toEqual(['hot:inactive>pending']);
        r.at(60 * S);
        r.commit([temp(61 * S, 82)]);
        r.commit([temp(62 * S, 79)]);
        r.commit([temp(63 * S, 70)]);
      },
      expected: ['inactive>pending', 'pending>firing', 'firing>resolved', 'resolved>inactive'],
    },
    {
      name: 'a breach that ends before `for` never fires',
      steps: (r: Rig) => {
        r.commit([temp(0, 90)]);
        r.commit([temp(10 * S, 82)]);
        r.at(120 * S);
      },
      expected: ['inactive>pending', 'pending>inactive'],
    },
    {
      name: 'a flapping alert goes pending and inactive again and again, and never fires on a breach that ended',
      steps: (r: Rig) => {
        for (let k = 0; k < 3; k++) {
          r.commit([temp(20 * k * S, 90)]);
          r.commit([temp((20 * k + 10) * S, 82)]);
        }
        r.at(200 * S);
        expect(r.engine.activeAlerts()).toEqual([]);
      },
      expected: ['inactive>pending', 'pending>inactive', 'inactive>pending', 'pending>inactive', 'inactive>pending', 'pending>inactive'],
    },
    {
      name: 'a missing value breaks a pending run',
      steps: (r: Rig) => {
        r.commit([temp(0, 90)]);
        r.commit([temp(10 * S, 0, { tempC: null })]);
        r.at(120 * S);
      },
      expected: ['inactive>pending', 'pending>inactive'],
    },
    {
      name: 'backfill can make an alert pending, never fire it; a later live breach does',
      steps: (r: Rig) => {
        r.commit([temp(0, 90), temp(70 * S, 90)], true);
        r.at(200 * S);
        expect(r.log()).toEqual(['hot:inactive>pending']);
        r.commit([temp(201 * S, 90)]);
      },
      expected: ['inactive>pending', 'pending>firing'],
    },
    {
      name: 'samples older than the latest are dropped',
      steps: (r: Rig) => {
        r.commit([temp(100 * S, 70)]);
        r.commit([temp(50 * S, 95)]);
        r.commit([temp(100 * S, 95)]);
        r.at(300 * S);
      },
      expected: [],
    },
  ])('$name', ({ steps, expected }) => {
    const r = rig({ rules: [hot] });
    r.connect();
    steps(r);
    expect(r.log()).toEqual(expected.map((t) => `hot:${t}`));
  });

  it('ecc-uncorrected: new errors fire at once, resolve an hour without new ones (clear.for on the timer)', () => {
    const r = rig({ builtins: { 'ecc-uncorrected': { enabled: true } } });
    r.connect();
    r.commit([temp(0, 50, { eccUncorrected: 2 })]);
    r.commit([temp(S, 50, { eccUncorrected: 3 })]);
    const firing = r.published.at(-1)!;
    expect(firing).toMatchObject({ ruleId: 'ecc-uncorrected', to: 'firing', value: 1, severity: 'critical', startsAt: T0 + S, endsAt: null });
    expect(firing.annotations.summary).toBe(`${GPU} on a-host: 1 new uncorrected ECC errors`);
    r.commit([temp(2 * S, 50, { eccUncorrected: 3 })]);
    r.at(3601 * S);
    expect(r.log().at(-1)).toBe('ecc-uncorrected:pending>firing');
    r.at(3602 * S);
    expect(r.log().at(-1)).toBe('ecc-uncorrected:firing>resolved');
    expect(r.published.at(-1)).toMatchObject({ to: 'resolved', at: T0 + 3602 * S, endsAt: T0 + 3602 * S, fingerprint: firing.fingerprint });
  });

  it('ECC delta: each sample against the one before it', () => {
    const r = rig({ rules: [{ id: 'ecc', name: 'ECC', field: 'eccUncorrectedDelta', op: '>=', threshold: 1 }] });
    r.connect();
    const counters = [2, 3, 3, 3, 5, 5];
    counters.forEach((ecc, i) => r.commit([temp(i * S, 50, { eccUncorrected: ecc })]));
    const seen = r.published.map((e) => `${e.from}>${e.to}@${(e.at - T0) / S}:${e.value}`);
    expect(seen).toEqual(['inactive>pending@1:1', 'pending>firing@1:1', 'firing>resolved@2:0', 'resolved>inactive@3:0', 'inactive>pending@4:2', 'pending>firing@4:2', 'firing>resolved@5:0']);
  });

  it('labels a power alert on an estimated reading with powerEstimated', () => {
    const r = rig({ rules: [{ id: 'watts', name: 'Watts', field: 'powerW', op: '>', threshold: 300 }] });
    r.connect();
    r.commit([temp(0, 50, { flags: { powerEstimated: true } })]);
    expect(r.published[0]!.labels).toMatchObject({ powerEstimated: 'true', alertname: 'Watts', chip: GPU });
  });
});

describe('alert engine: liveness', () => {
  it('stale: fires `threshold` intervals after the last sample, not while the agent is away; resolves on a sample', () => {
    const r = rig({ builtins: { stale: { enabled: true } } });
    r.connect('a', S);
    r.commit([temp(0, 50)]);
    r.at(3 * S);
    expect(r.log()).toEqual([]);
    r.at(3 * S + 250);
    expect(r.log()).toEqual(['stale:inactive>pending', 'stale:pending>firing']);
    expect(r.published[1]!.value).toBeGreaterThan(3);
    r.commit([temp(4 * S, 50)]);
    expect(r.log().at(-1)).toBe('stale:firing>resolved');
    r.commit([temp(5 * S, 50)]);
    r.disconnect();
    r.at(60 * S);
    expect(r.log().at(-1)).toBe('stale:resolved>inactive');
  });

  it("stale: each of an agent's chips on its own deadline, one that goes silent alone too; a chip moved to another agent is timed there", () => {
    const r = rig({ builtins: { stale: { enabled: true } } });
    const chips = (agentId: string, n: number) => Array.from({ length: n }, (_, i) => chipInfo(i, { chipId: `${agentId}-gpu${i}` }));
    r.fleet.agentConnected({ ...reg('a', S), chips: chips('a', 3) });
    r.engine.onAgentChange('a');
    r.fleet.agentConnected({ ...reg('b', 5 * S), chips: chips('b', 1) });
    r.engine.onAgentChange('b');
    const s = (chipId: string, ms: number) => sample(chipId, T0 + ms, { tempC: 50 });
    r.commit([s('a-gpu0', 0), s('a-gpu1', 0), s('a-gpu2', 0), s('b-gpu0', 0)]);
    // a-gpu1 goes silent after 1 s; the others keep reporting every second.
    for (let t = 1; t <= 6; t++) {
      r.at(t * S);
      r.commit([s('a-gpu0', t * S), ...(t === 1 ? [s('a-gpu1', S)] : []), s('a-gpu2', t * S)]);
    }
    const stale = () => r.published.filter((e) => e.to === 'firing').map((e) => e.chipId);
    expect(stale()).toEqual(['a-gpu1']);
    expect(r.published.find((e) => e.chipId === 'a-gpu1')!.at).toBe(T0 + 4 * S + 1);
    // a-gpu2 moves to b (5 s interval) and is heard at 6.5 s: stale 15 s later, with b's chip long before.
    r.fleet.moveChip({ ...chipInfo(2, { chipId: 'a-gpu2' }), agentId: 'b', host: 'b-host', instanceType: null, intervalMs: 5 * S, lastSeen: 0 }, T0 + 6 * S);
    r.engine.onAgentChange('a');
    r.engine.onAgentChange('b');
    r.clock.now = T0 + 6500;
    r.commit([s('a-gpu2', 6500)]);
    for (let t = 7; t <= 21; t++) {
      r.at(t * S);
      r.commit([s('a-gpu0', t * S)]);
    }
    expect(stale()).toEqual(['a-gpu1', 'b-gpu0']);
    r.at(21 * S + 750);
    expect(stale()).toEqual(['a-gpu1', 'b-gpu0', 'a-gpu2']);
  });

  it("stale: not while the hub is not reading the agent's socket; counted again from when it reads", () => {
    const r = rig({ builtins: { stale: { enabled: true } } });
    r.connect('a', S);
    r.commit([temp(0, 50)]);
    // The hub holds the socket from 2 s to 20 s (writer backlog): no sample gets in, and no alert.
    r.at(2 * S);
    r.fleet.agentReading('a', false, r.clock.now);
    for (let t = 3; t <= 20; t++) r.at(t * S + 250);
    expect(r.log()).toEqual([]);
    r.fleet.agentReading('a', true, T0 + 20 * S);
    r.at(23 * S);
    expect(r.log()).toEqual([]);
    // Silent over 3 intervals while the hub read (the 18 s it did not are taken off): stale.
    r.at(23 * S + 500);
    expect(r.log()).toEqual(['stale:inactive>pending', 'stale:pending>firing']);
  });

  it('stale: a check the hub runs over a second late (behind its sockets) is put off to a timely tick', () => {
    const r = rig({ builtins: { stale: { enabled: true } } });
    r.connect('a', S);
    r.commit([temp(0, 50)]);
    // The loop was blocked from 1 s to 10 s: the check due at ~3 s runs at 10 s, and waits.
    r.at(10 * S);
    expect(r.log()).toEqual([]);
    r.at(10 * S + 250);
    expect(r.log()).toEqual(['stale:inactive>pending', 'stale:pending>firing']);
  });

  it('agent-offline: pending at the disconnect, firing after `for`, resolved by the reconnect', () => {
    const r = rig({ builtins: { 'agent-offline': { enabled: true } } });
    r.connect();
    r.at(10 * S);
    r.disconnect();
    r.at(69 * S);
    expect(r.log()).toEqual(['agent-offline:inactive>pending']);
    r.at(70 * S);
    expect(r.published.at(-1)).toMatchObject({ to: 'firing', at: T0 + 70 * S, startsAt: T0 + 10 * S });
    r.at(80 * S);
    r.connect();
    expect(r.log().at(-1)).toBe('agent-offline:firing>resolved');
  });

  it('after a start, chips whose agent does not come back go pending as of the start', () => {
    const fleet = new FleetState();
    fleet.load([{ ...chipInfo(0, { chipId: GPU }), agentId: 'a', host: 'a-host', instanceType: null, intervalMs: S, lastSeen: T0 }], new Map());
    const r = rig({ fleet, builtins: { 'agent-offline': { enabled: true, for: '30s' } } });
    r.at(29 * S);
    expect(r.log()).toEqual([]);
    r.at(30 * S);
    expect(r.log()).toEqual(['agent-offline:inactive>pending', 'agent-offline:pending>firing']);
    expect(r.published[0]!.at).toBe(T0);
  });
});

describe('alert engine: rules and restarts', () => {
  it('a rule that goes away ends its alerts: firing resolves, pending goes inactive', () => {
    const r = rig({ rules: [hot, { ...hot, id: 'warm', name: 'Warm', threshold: 60, for: '0s', clear: {} }] });
    r.connect();
    r.commit([temp(0, 90)]);
    expect(r.log()).toEqual(['hot:inactive>pending', 'warm:inactive>pending', 'warm:pending>firing']);
    expect(r.engine.setRulesFile(null)).toEqual({ ok: true, rules: 6 });
    expect(r.log().slice(3).sort()).toEqual(['hot:pending>inactive', 'warm:firing>resolved']);
    expect(r.engine.activeAlerts()).toEqual([]);
    r.at(S);
    expect(r.store.states.size).toBe(0);
  });

  it('a restart restores a firing alert without firing it again; its clear countdown carries on', () => {
    const store = new MemoryStore();
    const fleet = new FleetState();
    const clock = { now: T0 };
    const rules = [{ ...hot, clear: { threshold: 80, for: '10s' } }];
    const first = rig({ rules, store, fleet, clock });
    first.connect();
    first.commit([temp(0, 90)]);
    first.at(60 * S);
    first.commit([temp(61 * S, 70)]);
    const before = first.engine.activeAlerts();
    expect(before).toMatchObject([{ phase: 'firing', firedAt: T0 + 60 * S }]);
    first.engine.close();

    const second = rig({ rules, store, fleet, clock });
    expect(second.published).toEqual([]);
    expect(second.engine.activeAlerts()).toEqual(before);
    expect(second.engine.firingEvents()).toMatchObject([{ ruleId: 'hot', to: 'firing', at: T0 + 60 * S, fingerprint: before[0]!.fingerprint }]);
    second.at(71 * S);
    expect(second.log()).toEqual(['hot:firing>resolved']);
    expect(store.events.filter((e) => e.to === 'firing')).toHaveLength(1);
  });

  it('a restored pending alert fires only on new evidence', () => {
    const store = new MemoryStore();
    const fleet = new FleetState();
    const clock = { now: T0 };
    const first = rig({ rules: [hot], store, fleet, clock });
    first.connect();
    first.commit([temp(0, 90)]);
    first.engine.close();
    const second = rig({ rules: [hot], store, fleet, clock });
    second.at(120 * S);
    expect(second.log()).toEqual([]);
    second.commit([temp(121 * S, 90)]);
    expect(second.log()).toEqual(['hot:pending>firing']);
  });

  it('a running hub taking over an agent from another on a shared store continues its firing alert: no second firing, resolved once', async () => {
    /** A store other hubs write too (PostgreSQL): states of given chips can be read as they are now. */
    class SharedStore extends MemoryStore {
      loadChipStates = async (ids: readonly string[]) => this.loadStates().filter((r) => ids.includes(r.chipId));
    }
    const store = new SharedStore();
    const clock = { now: T0 };
    const a = rig({ rules: [hot], store, clock });
    const b = rig({ rules: [hot], store, clock });
    a.connect();
    a.commit([temp(0, 90)]);
    a.at(60 * S);
    a.commit([temp(61 * S, 91)]);
    expect(a.log()).toEqual(['hot:inactive>pending', 'hot:pending>firing']);
    a.at(62 * S); // written to the store on the tick

    // Hub A dies (no close: nothing more written); the agent says hello to hub B.
    b.fleet.agentConnected(reg('a', S));
    await b.engine.takeOver([GPU]);
    b.engine.onAgentChange('a');
    b.commit([temp(63 * S, 92)]);
    b.at(64 * S);
    expect(b.log()).toEqual([]);
    expect(b.engine.activeAlerts()).toMatchObject([{ ruleId: 'hot', chipId: GPU, phase: 'firing', firedAt: T0 + 60 * S }]);
    b.commit([temp(65 * S, 70)]);
    b.at(66 * S);
    expect(b.log()).toEqual(['hot:firing>resolved']);
    expect(store.events.map((e) => `${e.from}>${e.to}`)).toEqual(['inactive>pending', 'pending>firing', 'firing>resolved']);
  });

  it("takeOver does not bring back from the store an alert this hub ended a moment ago (its write still pending)", async () => {
    class SharedStore extends MemoryStore {
      loadChipStates = async (ids: readonly string[]) => this.loadStates().filter((r) => ids.includes(r.chipId));
    }
    const store = new SharedStore();
    const a = rig({ rules: [{ ...hot, for: '0s', clear: {} }], store });
    a.connect();
    a.commit([temp(0, 90)]);
    a.at(1 * S); // firing, written
    a.commit([temp(2 * S, 70)]);
    a.at(2500); // resolved, written
    a.commit([temp(3 * S, 70)]); // back to inactive: the row's deletion not written yet (no tick)
    const ended = ['hot:inactive>pending', 'hot:pending>firing', 'hot:firing>resolved', 'hot:resolved>inactive'];
    expect(a.log()).toEqual(ended);
    a.disconnect();
    a.fleet.agentConnected(reg('a', S));
    await a.engine.takeOver([GPU]);
    a.engine.onAgentChange('a');
    expect(a.engine.activeAlerts()).toEqual([]);
    a.commit([temp(4 * S, 70)]);
    a.at(5 * S);
    expect(a.log()).toEqual(ended);
    expect(store.states.size).toBe(0);
  });

  it('takeOver waits for nothing where the store is only this hub\'s (SQLite)', () => {
    const b = rig({ rules: [hot] });
    b.connect();
    expect(b.engine.takeOver([GPU])).toBeNull();
  });
});
