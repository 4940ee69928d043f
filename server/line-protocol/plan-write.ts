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
  /** Whether the chip is in its agent's current inventory (not one that left it). */
  isActive(chipId: string): boolean;
  isPushAgent(agentId: string): boolean;
  /** The chips in the agent's current inventory, by index. */
  agentChips(agentId: string): ChipView[];
}

/**
 * One host of a write: its push agent, whether its registration must be (re)written, its samples.
 * An unchanged host's `registration` is built only when read (the route does not read it).
 * `resumed`: changed only in that the agent has not written since the hub started; the fleet
 * (loaded from the store) has its inventory as the lines give it, so nothing needs storing.
 */
export interface HostWrite {
  agentId: string;
  registration: AgentRegistration;
  changed: boolean;
  resumed: boolean;
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

/**
 * A host of the write being planned. Its chips as the fleet has them are read only when needed
 * (a new chip, a chip whose details the lines change, an instance type given): a write that
 * repeats what the fleet knows, the usual one, costs a lookup per line and no copy.
 */
class HostAcc {
  readonly agentId: string;
  /** The last instance type the lines give (null: none given). */
  instanceType: string | null = null;
  /** The inventory's chips, changed by the lines (copies of the fleet's), and new chips. */
  private readonly edited = new Map<string, ChipInfo>();
  private knownChips: ChipView[] | null = null;
  /** Chips the lines add to the inventory. */
  private added = 0;
  private nextIndex = -1;
  readonly samples: Sample[] = [];

  constructor(
    readonly hostname: string,
    private readonly fleet: FleetLookup,
  ) {
    this.agentId = pushAgentId(hostname);
  }

  /** The inventory's chips as the fleet has them, by index. */
  known(): ChipView[] {
    return (this.knownChips ??= this.fleet.agentChips(this.agentId));
  }

  /** Whether the chip (with its fleet view, when the caller has it) is in this host's inventory. */
  private inInventory(chipId: string, view = this.fleet.get(chipId)): view is ChipView {
    return view !== undefined && view.agentId === this.agentId && this.fleet.isActive(chipId);
  }

  /**
   * A line's chip details: nothing to do when they are what the fleet has; else the chip's copy
   * is made (or the new chip added, at the line's index or the next free one) and changed.
   * False when the host would pass MAX_CHIPS_PER_AGENT.
   */
  apply(p: LinePoint, view: ChipView | undefined): boolean {
    const chipId = p.sample.chipId;
    const mem = p.sample.memTotalBytes;
    const limit = p.sample.powerLimitW;
    let chip = this.edited.get(chipId);
    if (chip === undefined) {
      if (this.inInventory(chipId, view)) {
        if (view.vendor === p.vendor && view.model === p.model && (mem === null || mem === view.memTotalBytes) && (limit === null || limit === view.ratedPowerW)) return true;
        chip = infoOf(view);
      } else {
        if (this.known().length + this.added >= MAX_CHIPS_PER_AGENT) return false;
        this.added++;
        if (this.nextIndex < 0) {
          const known = this.known();
          this.nextIndex = known.length === 0 ? 0 : known[known.length - 1].index + 1;
          for (const c of this.edited.values()) this.nextIndex = Math.max(this.nextIndex, c.index + 1);
        }
        // A line may name the chip's index (Telegraf nvidia_smi); else the next free one.
        const index = p.index ?? this.nextIndex;
        this.nextIndex = Math.max(this.nextIndex, index + 1);
        chip = { chipId, vendor: p.vendor, model: p.model, index, cores: null, memTotalBytes: null, ratedPowerW: null };
      }
      this.edited.set(chipId, chip);
    }
    chip.vendor = p.vendor;
    chip.model = p.model;
    if (mem !== null) chip.memTotalBytes = mem;
    if (limit !== null) chip.ratedPowerW = limit;
    return true;
  }

  /** Whether the registration differs from what the fleet has. */
  changed(): boolean {
    return !this.fleet.isPushAgent(this.agentId) || this.inventoryChanged();
  }

  /** Changed only in that the push agent has not been seen since the hub started (its chips are in the fleet as the lines give them). */
  resumed(): boolean {
    return !this.fleet.isPushAgent(this.agentId) && this.known().length > 0 && !this.inventoryChanged();
  }

  /** Whether the lines' chips (or instance type) differ from the agent's inventory in the fleet. */
  private inventoryChanged(): boolean {
    if (this.instanceType !== null) {
      const first = this.known()[0];
      if (first !== undefined && first.instanceType !== this.instanceType) return true;
    }
    for (const c of this.edited.values()) {
      const view = this.fleet.get(c.chipId);
      if (!this.inInventory(c.chipId, view) || !sameInfo(view, c)) return true;
    }
    return false;
  }

  registration(): AgentRegistration {
    const known = this.known();
    const byId = new Map<string, ChipInfo>(known.map((v) => [v.chipId, infoOf(v)]));
    for (const c of this.edited.values()) byId.set(c.chipId, c);
    return {
      agentId: this.agentId,
      agentVersion: LINE_PROTOCOL_AGENT_VERSION,
      intervalMs: PUSH_AGENT_INTERVAL_MS,
      host: { hostname: this.hostname, instanceId: null, instanceType: this.instanceType ?? known[0]?.instanceType ?? null },
      chips: [...byId.values()].sort((a, b) => a.index - b.index),
    };
  }
}

/** Group points by host and build each host's registration against what the fleet knows. */
export function planWrite(points: LinePoint[], fleet: FleetLookup): WritePlan {
  const hosts = new Map<string, HostAcc>();
  /** chipId -> the first line naming it, with its host/vendor/model */
  const firstSeen = new Map<string, LinePoint>();
  const refused = new Map<string, RefusedChip>();
  const bad = (line: number, message: string): WritePlan => ({ ok: false, line, message: `line ${line}: ${message}` });
  /** Hosts in the order of their first line that is not refused. */
  const order: HostAcc[] = [];
  // A body names a host's chips on consecutive lines: the host is looked up when it changes.
  let h: HostAcc | undefined;

  for (const p of points) {
    const chipId = p.sample.chipId;
    if (h === undefined || h.hostname !== p.host) {
      h = hosts.get(p.host);
      if (h === undefined) hosts.set(p.host, (h = new HostAcc(p.host, fleet)));
    }
    const view = fleet.get(chipId);
    if (view !== undefined && view.agentId !== h.agentId) {
      const r = refused.get(chipId);
      if (r) r.lines++;
      else refused.set(chipId, { chipId, host: p.host, owner: view.agentId, line: p.line, lines: 1 });
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
    if (p.instanceType !== null) h.instanceType = p.instanceType;
    if (!h.apply(p, view)) return bad(p.line, `host "${p.host}" has more than ${MAX_CHIPS_PER_AGENT} chips`);
    if (h.samples.push(p.sample) === 1) order.push(h);
  }

  const out: HostWrite[] = [];
  for (const acc of order) {
    // A changed host's registration is made now, from the fleet as the plan saw it.
    if (acc.changed()) {
      out.push({ agentId: acc.agentId, changed: true, resumed: acc.resumed(), samples: acc.samples, registration: acc.registration() });
      continue;
    }
    let registration: AgentRegistration | undefined;
    out.push({
      agentId: acc.agentId,
      changed: false,
      resumed: false,
      samples: acc.samples,
      get registration() {
        return (registration ??= acc.registration());
      },
    });
  }
  return { ok: true, hosts: out, refused: [...refused.values()] };
}

function infoOf(v: ChipView): ChipInfo {
  return { chipId: v.chipId, vendor: v.vendor, model: v.model, index: v.index, cores: v.cores, memTotalBytes: v.memTotalBytes, ratedPowerW: v.ratedPowerW };
}

function sameInfo(a: ChipInfo, b: ChipInfo): boolean {
  return a.vendor === b.vendor && a.model === b.model && a.index === b.index && a.cores === b.cores && a.memTotalBytes === b.memTotalBytes && a.ratedPowerW === b.ratedPowerW;
}
