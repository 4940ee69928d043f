/**
 * planWrite against a model: the plan a plain pass over every point gives (each host's whole
 * inventory copied, every chip compared), on random bodies and fleets. planWrite itself reads a
 * host's chips only where the lines change them; whatever it skips, the plans must be equal.
 */
import { describe, expect, it } from 'vitest';
import { MAX_CHIPS_PER_AGENT, type ChipView } from '../../schema/protocol.ts';
import type { ChipInfo, Sample } from '../../schema/sample.ts';
import { PUSH_AGENT_INTERVAL_MS } from '../../server/chip-status.ts';
import { FleetState } from '../../server/fleet-state.ts';
import { parseLineProtocol, type LinePoint, type Tags } from '../../server/line-protocol/parse-line-protocol.ts';
import { LINE_PROTOCOL_AGENT_VERSION, planWrite, pushAgentId, type FleetLookup } from '../../server/line-protocol/plan-write.ts';
import { TagCache } from '../../server/line-protocol/tag-cache.ts';
import type { AgentRegistration } from '../../server/store/store.ts';

const NOW = Date.UTC(2026, 11, 5, 12, 0, 0);

type ModelHost = { registration: AgentRegistration; changed: boolean; resumed: boolean; samples: Sample[] };
type ModelPlan = { ok: true; hosts: ModelHost[]; refused: { chipId: string; host: string; owner: string; line: number; lines: number }[] } | { ok: false; line: number; message: string };

const infoOf = (v: ChipView): ChipInfo => ({ chipId: v.chipId, vendor: v.vendor, model: v.model, index: v.index, cores: v.cores, memTotalBytes: v.memTotalBytes, ratedPowerW: v.ratedPowerW });
const sameInfo = (a: ChipInfo, b: ChipInfo) =>
  a.vendor === b.vendor && a.model === b.model && a.index === b.index && a.cores === b.cores && a.memTotalBytes === b.memTotalBytes && a.ratedPowerW === b.ratedPowerW;

/** The plan by a pass over every point, copying each host's inventory first. */
function modelPlan(points: LinePoint[], fleet: FleetLookup): ModelPlan {
  type Acc = { hostname: string; instanceType: string | null; nextIndex: number; known: ChipView[]; chips: Map<string, ChipInfo>; samples: Sample[] };
  const hosts = new Map<string, Acc>();
  const firstSeen = new Map<string, LinePoint>();
  const refused = new Map<string, { chipId: string; host: string; owner: string; line: number; lines: number }>();
  const bad = (line: number, message: string): ModelPlan => ({ ok: false, line, message: `line ${line}: ${message}` });
  for (const p of points) {
    const chipId = p.sample.chipId;
    const agentId = pushAgentId(p.host);
    const owner = fleet.get(chipId)?.agentId;
    if (owner !== undefined && owner !== agentId) {
      const r = refused.get(chipId);
      if (r) r.lines++;
      else refused.set(chipId, { chipId, host: p.host, owner, line: p.line, lines: 1 });
      continue;
    }
    const first = firstSeen.get(chipId);
    if (first === undefined) firstSeen.set(chipId, p);
    else if (first.host !== p.host) return bad(p.line, `chip "${chipId}" is on host "${first.host}" on line ${first.line}, not "${p.host}"`);
    else if (first.vendor !== p.vendor || first.model !== p.model) return bad(p.line, `chip "${chipId}" is ${p.vendor} ${p.model} here but ${first.vendor} ${first.model} on line ${first.line}`);
    let h = hosts.get(agentId);
    if (h === undefined) {
      const known = fleet.agentChips(agentId);
      const nextIndex = known.length === 0 ? 0 : known[known.length - 1].index + 1;
      h = { hostname: p.host, instanceType: known[0]?.instanceType ?? null, nextIndex, known, chips: new Map(known.map((c) => [c.chipId, infoOf(c)])), samples: [] };
      hosts.set(agentId, h);
    }
    if (p.instanceType !== null) h.instanceType = p.instanceType;
    let chip = h.chips.get(chipId);
    if (chip === undefined) {
      if (h.chips.size >= MAX_CHIPS_PER_AGENT) return bad(p.line, `host "${p.host}" has more than ${MAX_CHIPS_PER_AGENT} chips`);
      const index = p.index ?? h.nextIndex;
      h.nextIndex = Math.max(h.nextIndex, index + 1);
      chip = { chipId, vendor: p.vendor, model: p.model, index, cores: null, memTotalBytes: null, ratedPowerW: null };
      h.chips.set(chipId, chip);
    }
    chip.vendor = p.vendor;
    chip.model = p.model;
    if (p.sample.memTotalBytes !== null) chip.memTotalBytes = p.sample.memTotalBytes;
    if (p.sample.powerLimitW !== null) chip.ratedPowerW = p.sample.powerLimitW;
    h.samples.push(p.sample);
  }
  const out: ModelHost[] = [];
  for (const [agentId, h] of hosts) {
    const chips = [...h.chips.values()].sort((a, b) => a.index - b.index);
    const registration: AgentRegistration = {
      agentId, agentVersion: LINE_PROTOCOL_AGENT_VERSION, intervalMs: PUSH_AGENT_INTERVAL_MS,
      host: { hostname: h.hostname, instanceId: null, instanceType: h.instanceType }, chips,
    };
    const inventoryChanged = chips.length !== h.known.length ||
      (h.known[0] !== undefined && h.known[0].instanceType !== h.instanceType) || h.known.some((k) => !sameInfo(k, h.chips.get(k.chipId)!));
    const push = fleet.isPushAgent(agentId);
    out.push({ registration, changed: !push || inventoryChanged, resumed: !push && h.known.length > 0 && !inventoryChanged, samples: h.samples });
  }
  return { ok: true, hosts: out, refused: [...refused.values()] };
}

/** A small deterministic random source (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random body: a few hosts, chips that move between them, models, limits and instance types that change. */
function randomBody(rnd: () => number): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const lines: string[] = [];
  const n = 1 + Math.floor(rnd() * 12);
  // Mostly runs of one host's lines, as collectors send them.
  let host = pick(['h0', 'h1', 'h2', 'h3']);
  for (let i = 0; i < n; i++) {
    if (rnd() < 0.3) host = pick(['h0', 'h1', 'h2', 'h3']);
    const chip = pick(['G0', 'G1', 'G2', 'G3', 'G4', 'G5', 'W0', 'W1']);
    const model = rnd() < 0.9 ? 'H100' : 'H200';
    const it = rnd() < 0.15 ? `,instance_type=${pick(['p5.48xlarge', 'p5e.48xlarge'])}` : '';
    const mem = rnd() < 0.3 ? `,mem_total_bytes=${pick([80e9, 81e9])}` : '';
    const limit = rnd() < 0.3 ? `,power_limit_w=${pick([700, 650])}` : '';
    lines.push(`chip,host=${host},chip=${chip},vendor=nvidia,model=${model}${it} util_pct=${i}${mem}${limit}`);
  }
  return lines.join('\n');
}

describe('planWrite equals a pass over every point', () => {
  it('on 400 random writes against a fleet that the changed hosts register into, restarted every 40 writes (and an agent that owns some chips)', () => {
    const rnd = random(7);
    let fleet = new FleetState();
    const cache = new TagCache<Tags>();
    const w = (chipId: string, index: number) => ({ chipId, vendor: 'nvidia' as const, model: 'H100', index, cores: null, memTotalBytes: null, ratedPowerW: null });
    fleet.agentConnected({ agentId: 'agent-w', agentVersion: 't', intervalMs: 1000, host: { hostname: 'w', instanceId: null, instanceType: null }, chips: [w('W0', 0), w('W1', 1)] });
    const seen = { changed: 0, unchanged: 0, resumed: 0, refused: 0, errors: 0 };
    for (let k = 0; k < 400; k++) {
      if (k % 40 === 39) {
        // A hub restart: the fleet as loaded from the store, no host seen yet since.
        const stored = fleet.list().map(({ status: _s, latest: _l, ...c }) => ({ ...c, intervalMs: 1000, lastSeen: NOW }));
        fleet = new FleetState();
        fleet.load(stored, new Map());
      }
      const parsed = parseLineProtocol(randomBody(rnd), NOW, 'ns', undefined, cache);
      if (!parsed.ok) throw new Error(parsed.message);
      const expected = modelPlan(parsed.points, fleet);
      const got = planWrite(parsed.points, fleet);
      if (!expected.ok || !got.ok) {
        expect(got).toEqual(expected);
        seen.errors++;
        continue;
      }
      expect(got.refused).toEqual(expected.refused);
      expect(got.hosts.map((h) => ({ registration: h.registration, changed: h.changed, resumed: h.resumed, samples: h.samples }))).toEqual(expected.hosts);
      expect(got.hosts.map((h) => h.agentId)).toEqual(expected.hosts.map((h) => h.registration.agentId));
      seen.refused += got.refused.length;
      for (const h of got.hosts) {
        if (h.resumed) seen.resumed++;
        if (h.changed) {
          seen.changed++;
          fleet.pushAgentSeen(h.registration);
        } else seen.unchanged++;
      }
    }
    // The run went through every kind of outcome.
    expect(Math.min(seen.changed, seen.unchanged, seen.refused, seen.errors)).toBeGreaterThan(10);
    expect(seen.resumed).toBeGreaterThan(3);
  });
});
