/**
 * FleetController: a Lit ReactiveController holding chipId → ChipView for its host,
 * kept current from the `fleet` topic (snapshot, inventory, fleet-update, samples, status).
 *
 * Ingest can be thousands of samples a second, so the host is asked to update at
 * most once per animation frame; `chips` (a new array each flush) and `version`
 * change only on flush, so Lit's change detection sees them.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ChipView, LiveServerMessage } from '../../schema/protocol.ts';
import type { Sample } from '../../schema/sample.ts';
import { applyFleetUpdate } from './fleet-update.ts';
import { getLiveConnection, type ConnectionState, type LiveConnection } from './live-connection.ts';

export interface FleetTotals {
  total: number;
  live: number;
  stale: number;
  offline: number;
  /** Sum of the latest power of live chips, W. */
  powerW: number;
}

/** Newest sample wins; an older or equal one (duplicate, backfill) keeps the current view. */
export function applySample(view: ChipView, s: Sample): ChipView {
  if (view.latest && view.latest.ts >= s.ts) return view;
  return { ...view, latest: s };
}

export function fleetTotals(chips: Iterable<ChipView>): FleetTotals {
  const t: FleetTotals = { total: 0, live: 0, stale: 0, offline: 0, powerW: 0 };
  for (const c of chips) {
    t.total++;
    t[c.status]++;
    if (c.status === 'live' && c.latest?.powerW != null) t.powerW += c.latest.powerW;
  }
  return t;
}

/** Hosts by name, chips by index within a host. */
export function compareChips(a: ChipView, b: ChipView): number {
  return a.host === b.host ? a.index - b.index || (a.chipId < b.chipId ? -1 : 1) : a.host < b.host ? -1 : 1;
}

export class FleetController implements ReactiveController {
  /** All known chips, sorted by host then index. Replaced (never mutated) on each flush. */
  chips: readonly ChipView[] = [];
  /** Counts and power over `chips`. */
  totals: FleetTotals = fleetTotals([]);
  /** Connection state of the live socket. */
  connection: ConnectionState = 'closed';
  /** True once a fleet snapshot has arrived. */
  loaded = false;
  /** Increments on every flush. */
  version = 0;

  private readonly map = new Map<string, ChipView>();
  private readonly conn: LiveConnection;
  private unsubscribe: (() => void) | null = null;
  private unlisten: (() => void) | null = null;
  private frame = 0;
  private dirty = false;

  constructor(
    private readonly host: ReactiveControllerHost,
    conn: LiveConnection = getLiveConnection(),
  ) {
    this.conn = conn;
    host.addController(this);
  }

  /** The chip with this id, as of the last flush. */
  get(chipId: string): ChipView | undefined {
    return this.map.get(chipId);
  }

  hostConnected(): void {
    this.unlisten = this.conn.onStateChange((s) => {
      this.connection = s;
      this.schedule();
    });
    this.unsubscribe = this.conn.subscribe({ topic: 'fleet' }, (msg) => this.ingest(msg));
  }

  hostDisconnected(): void {
    this.unsubscribe?.();
    this.unlisten?.();
    this.unsubscribe = this.unlisten = null;
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
  }

  /** Applies one server message to the map (exposed for tests). */
  ingest(msg: LiveServerMessage): void {
    switch (msg.type) {
      case 'fleet-snapshot':
        this.map.clear();
        for (const c of msg.chips) this.map.set(c.chipId, c);
        this.loaded = true;
        break;
      case 'inventory':
        for (const c of msg.chips) {
          const old = this.map.get(c.chipId);
          // keep a newer latest sample than the one the inventory carries
          const latest = old?.latest && (!c.latest || old.latest.ts > c.latest.ts) ? old.latest : c.latest;
          this.map.set(c.chipId, { ...c, latest });
        }
        break;
      case 'fleet-update':
        if (applyFleetUpdate(this.map, msg) === 0) return;
        break;
      case 'samples':
        for (const s of msg.samples) {
          const old = this.map.get(s.chipId);
          if (old) this.map.set(s.chipId, applySample(old, s));
        }
        break;
      case 'status':
        for (const { chipId, status } of msg.changes) {
          const old = this.map.get(chipId);
          if (old && old.status !== status) this.map.set(chipId, { ...old, status });
        }
        break;
      case 'error':
        console.warn(`fleetscope: hub error ${msg.code}: ${msg.message}`);
        return;
      default:
        return;
    }
    this.dirty = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => this.flush());
  }

  private flush(): void {
    this.frame = 0;
    if (this.dirty) {
      this.dirty = false;
      this.chips = [...this.map.values()].sort(compareChips);
      this.totals = fleetTotals(this.chips);
    }
    this.version++;
    this.host.requestUpdate();
  }
}
