/**
 * From parsed line-protocol points to what the hub does with them: one push agent per host
 * (`lp-<host>`), its chip inventory (the chips it already has, plus new ones in order of first
 * appearance) and whether that registration changed, plus the samples to commit. Points of a chip
 * that another agent owns (a /ws/agent agent, or another host's `lp-` agent; server/ownership.ts)
 * are refused, not moved: the plan lists those chips and the rest is written. Pure apart from
 * reading the fleet through `FleetLookup`.
 */
import { MAX_CHIPS_PER_AGENT, type ChipView } from '../../schema/protocol.ts';
import type { ChipInfo, Sample } from '../../schema/sample.ts';
import { PUSH_AGENT_INTERVAL_MS } from '../chip-status.ts';
import type { AgentRegistration } from '../store/store.ts';
import type { LinePoint } from './parse-line-protocol.ts';

/** Agent version reported for line-protocol hosts (GET /api/v1/agents). */
export const LINE_PROTOCOL_AGENT_VERSION = 'line-protocol';

/** The virtual agent id of a line-protocol host. */
export function pushAgentId(host: string): string {
  return `lp-${host}`;
}

/** What the plan reads from the fleet (FleetState satisfies it). */
export interface FleetLookup {
  get(chipId: string): ChipView | undefined;
  isPushAgent(agentId: string): boolean;
  agentsChips(agentIds: ReadonlySet<string>): Map<string, ChipView[]>;
}

/** One host of a write: its registration, whether it must be (re)registered, its samples. */
export interface HostWrite {
  registration: AgentRegistration;
  changed: boolean;
  samples: Sample[];
}

/** A chip whose points were refused because another agent owns it. */
export interface RefusedChip {
  chipId: string;
  /** The host its first refused line names. */
  host: string;
  /** The agent that owns the chip. */
  owner: string;
  /** The first refused line, and how many were refused. */
  line: number;
  lines: number;
}

/**
 * Every host of a write and the chips refused (owned by other agents, in order of first line), or
 * the first line that cannot be applied (`line N: …`).
 */
export type WritePlan = { ok: true; hosts: HostWrite[]; refused: RefusedChip[] } | { ok: false; line: number; message: string };

interface HostAcc {
  hostname: string;
  instanceType: string | null;
  nextIndex: number;
  known: ChipView[];
  chips: Map<string, ChipInfo>;
  samples: Sample[];
}

/** Group points by host and build each host's registration against what the fleet knows. */
export function planWrite(points: LinePoint[], fleet: FleetLookup): WritePlan {
  const hosts = new Map<string, HostAcc>();
  /** chipId -> the first line naming it, with its host/vendor/model */
  const firstSeen = new Map<string, LinePoint>();
  const refused = new Map<string, RefusedChip>();
  const bad = (line: number, message: string): WritePlan => ({ ok: false, line, message: `line ${line}: ${message}` });
  const knownChips = fleet.agentsChips(new Set(points.map((p) => pushAgentId(p.host))));

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
    if (first === undefined) {
      firstSeen.set(chipId, p);
    } else if (first.host !== p.host) {
      return bad(p.line, `chip "${chipId}" is on host "${first.host}" on line ${first.line}, not "${p.host}"`);
    } else if (first.vendor !== p.vendor || first.model !== p.model) {
      return bad(p.line, `chip "${chipId}" is ${p.vendor} ${p.model} here but ${first.vendor} ${first.model} on line ${first.line}`);
    }

    let h = hosts.get(agentId);
    if (h === undefined) {
      const known = knownChips.get(agentId) ?? [];
      const nextIndex = known.length === 0 ? 0 : known[known.length - 1].index + 1;
      h = { hostname: p.host, instanceType: known[0]?.instanceType ?? null, nextIndex, known, chips: new Map(known.map((c) => [c.chipId, infoOf(c)])), samples: [] };
      hosts.set(agentId, h);
    }
    if (p.instanceType !== null) h.instanceType = p.instanceType;
    let chip = h.chips.get(chipId);
    if (chip === undefined) {
      if (h.chips.size >= MAX_CHIPS_PER_AGENT) return bad(p.line, `host "${p.host}" has more than ${MAX_CHIPS_PER_AGENT} chips`);
      // A line may name the chip's index (Telegraf nvidia_smi); else the next free one.
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

  const out: HostWrite[] = [];
  for (const [agentId, h] of hosts) {
    const chips = [...h.chips.values()].sort((a, b) => a.index - b.index);
    const registration: AgentRegistration = {
      agentId,
      agentVersion: LINE_PROTOCOL_AGENT_VERSION,
      intervalMs: PUSH_AGENT_INTERVAL_MS,
      host: { hostname: h.hostname, instanceId: null, instanceType: h.instanceType },
      chips,
    };
    const changed =
      !fleet.isPushAgent(agentId) ||
      chips.length !== h.known.length ||
      (h.known[0] !== undefined && h.known[0].instanceType !== h.instanceType) ||
      h.known.some((k) => !sameInfo(k, h.chips.get(k.chipId)!));
    out.push({ registration, changed, samples: h.samples });
  }
  return { ok: true, hosts: out, refused: [...refused.values()] };
}

function infoOf(v: ChipView): ChipInfo {
  return { chipId: v.chipId, vendor: v.vendor, model: v.model, index: v.index, cores: v.cores, memTotalBytes: v.memTotalBytes, ratedPowerW: v.ratedPowerW };
}

function sameInfo(a: ChipInfo, b: ChipInfo): boolean {
  return a.vendor === b.vendor && a.model === b.model && a.index === b.index && a.cores === b.cores && a.memTotalBytes === b.memTotalBytes && a.ratedPowerW === b.ratedPowerW;
}
