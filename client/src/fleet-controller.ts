/**
 * FleetController: a Lit ReactiveController holding chipId → ChipView for its host,
 * kept current from the `fleet` topic (snapshot, inventory, fleet-columns / fleet-update, samples,
 * status). It subscribes in the compact form (chips by slot) and with the host's filter
 * (`setFilter`): the hub then sends only the chips the view can show, and a new filter is a new
 * subscription (a fresh snapshot). A chip's view asks for its chip only (`{chipId: [id]}`), a
 * host's for its chips (`{hostExact: [host]}`); `setFilter(null)` drops the subscription (the
 * alerts view needs no chip), keeping the chips last known.
 *
 * Ingest can be thousands of samples a second, so the host is asked to update at
 * most once per animation frame, and for large fleets less often (`minFlushIntervalMs`: once a
 * second at 10,000 chips); `chips` (a new array each flush) and `version` change only on flush,
 * so Lit's change detection sees them. Chips are re-sorted only when the inventory changes.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ChipView, FleetFilter, LiveServerMessage } from '../../schema/protocol.ts';
import type { Sample } from '../../schema/sample.ts';
import { applyFleetColumns, applyFleetUpdate } from './fleet-update.ts';
import { sortChips } from './natural-sort.ts';
import { minUpdateIntervalMs, PacedFlush } from './update-pace.ts';
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

/** Shortest time between two updates of the fleet view for a fleet of `chips` (update-pace.ts). */
export const minFlushIntervalMs = minUpdateIntervalMs;

export function fleetTotals(chips: Iterable<ChipView>): FleetTotals {
  const t: FleetTotals = { total: 0, live: 0, stale: 0, offline: 0, powerW: 0 };
  for (const c of chips) {
    t.total++;
    t[c.status]++;
    if (c.status === 'live' && c.latest?.powerW != null) t.powerW += c.latest.powerW;
  }
  return t;
}

export { compareChips } from './natural-sort.ts';

export class FleetController implements ReactiveController {
  /** All known chips, hosts in natural order then by index. Replaced (never mutated) on each flush. */
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
  private readonly pace = new PacedFlush(() => this.flush(), () => this.map.size);
  private dirty = false;
  /** chip id of each slot the hub gave (compact frames name chips by slot). */
  private slotIds: (string | undefined)[] = [];
  private filter: FleetFilter | undefined | null = undefined;
  private filterKey = '{}';
  private connected = false;
  /** The chip ids in display order; re-sorted only when chips come, go or move (not on samples). */
  private order: string[] = [];
  private reorder = true;

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
      this.pace.schedule();
    });
    this.connected = true;
    this.subscribe();
  }

  /** The filter subscribed with: undefined for every chip, null for none (no subscription). */
  get currentFilter(): FleetFilter | undefined | null {
    return this.filter;
  }

  /** Only the chips matching `filter` (undefined: all; null: no subscription); a change re-subscribes. */
  setFilter(filter: FleetFilter | undefined | null): void {
    const key = filter === null ? 'null' : JSON.stringify(filter ?? {});
    if (key === this.filterKey) return;
    this.filterKey = key;
    this.filter = filter;
    if (!this.connected) return;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.loaded = false;
    this.subscribe();
  }

  private subscribe(): void {
    if (this.filter === null) return;
    const topic = this.filter ? { topic: 'fleet' as const, compact: true as const, filter: this.filter } : { topic: 'fleet' as const, compact: true as const };
    this.unsubscribe = this.conn.subscribe(topic, (msg) => this.ingest(msg));
  }

  hostDisconnected(): void {
    this.connected = false;
    this.unsubscribe?.();
    this.unlisten?.();
    this.unsubscribe = this.unlisten = null;
    this.pace.cancel();
  }

  /** Applies one server message to the map (exposed for tests). */
  ingest(msg: LiveServerMessage): void {
    switch (msg.type) {
      case 'fleet-snapshot':
        this.map.clear();
        this.slotIds = [];
        for (const c of msg.chips) this.map.set(c.chipId, c);
        msg.slots?.forEach((slot, i) => (this.slotIds[slot] = msg.chips[i].chipId));
        this.loaded = true;
        this.reorder = true;
        break;
      case 'inventory':
        msg.slots?.forEach((slot, i) => (this.slotIds[slot] = msg.chips[i].chipId));
        for (const c of msg.chips) {
          const old = this.map.get(c.chipId);
          // keep a newer latest sample than the one the inventory carries
          const latest = old?.latest && (!c.latest || old.latest.ts > c.latest.ts) ? old.latest : c.latest;
          this.map.set(c.chipId, { ...c, latest });
        }
        this.reorder = true;
        break;
      case 'fleet-update':
        if (applyFleetUpdate(this.map, msg) === 0) return;
        break;
      case 'fleet-columns':
        if (applyFleetColumns(this.map, this.slotIds, msg) === 0) return;
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
    this.pace.schedule();
  }

  private flush(): void {
    if (this.dirty) {
      this.dirty = false;
      if (this.reorder || this.order.length !== this.map.size) {
        this.reorder = false;
        this.order = sortChips(this.map.values()).map((c) => c.chipId);
      }
      this.chips = this.order.map((id) => this.map.get(id)!);
      this.totals = fleetTotals(this.chips);
    }
    this.version++;
    this.host.requestUpdate();
  }
}
