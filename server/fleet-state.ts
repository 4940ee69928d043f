/**
 * In-memory view of the fleet: every known chip with its host, latest sample and derived status.
 * Loaded from the store at start (chips seen before show as offline until their agent returns).
 */
import type { ChipView } from '../schema/protocol.ts';
import type { ChipStatus, Sample } from '../schema/sample.ts';
import { deriveStatus } from './chip-status.ts';
import type { AgentRegistration, StoredChip } from './store/store.ts';

interface ChipEntry {
  view: ChipView;
  intervalMs: number;
  lastSampleAt: number | null;
}

export class FleetState {
  private readonly chips = new Map<string, ChipEntry>();
  /** agentId -> number of open connections of that agent */
  private readonly connected = new Map<string, number>();

  load(stored: StoredChip[], latest: Map<string, Sample>): void {
    for (const c of stored) {
      const { intervalMs, lastSeen: _lastSeen, ...info } = c;
      this.chips.set(c.chipId, { view: { ...info, status: 'offline', latest: latest.get(c.chipId) ?? null }, intervalMs, lastSampleAt: null });
    }
  }

  /** An agent said hello: (re)register its chips. Returns the chip views that changed. */
  agentConnected(reg: AgentRegistration): ChipView[] {
    this.connected.set(reg.agentId, (this.connected.get(reg.agentId) ?? 0) + 1);
    return reg.chips.map((info) => {
      const prev = this.chips.get(info.chipId);
      const view: ChipView = {
        ...info,
        host: reg.host.hostname,
        instanceType: reg.host.instanceType,
        agentId: reg.agentId,
        status: 'stale',
        latest: prev?.view.latest ?? null,
      };
      this.chips.set(info.chipId, { view, intervalMs: reg.intervalMs, lastSampleAt: null });
      return view;
    });
  }

  /** An agent's connection closed. Returns chip status changes. */
  agentDisconnected(agentId: string, now: number): { chipId: string; status: ChipStatus }[] {
    const n = (this.connected.get(agentId) ?? 1) - 1;
    if (n > 0) this.connected.set(agentId, n);
    else this.connected.delete(agentId);
    return this.refreshStatuses(now);
  }

  isAgentChip(agentId: string, chipId: string): boolean {
    return this.chips.get(chipId)?.view.agentId === agentId;
  }

  /** Record committed samples; returns status changes (e.g. stale -> live). */
  applySamples(batch: Sample[], now: number): { chipId: string; status: ChipStatus }[] {
    const changes: { chipId: string; status: ChipStatus }[] = [];
    for (const s of batch) {
      const e = this.chips.get(s.chipId);
      if (!e) continue;
      if (!e.view.latest || s.ts >= e.view.latest.ts) e.view.latest = s;
      e.lastSampleAt = now;
      if (e.view.status !== 'live') {
        e.view.status = 'live';
        changes.push({ chipId: s.chipId, status: 'live' });
      }
    }
    return changes;
  }

  /** Re-derive every chip's status; returns the ones that changed. */
  refreshStatuses(now: number): { chipId: string; status: ChipStatus }[] {
    const changes: { chipId: string; status: ChipStatus }[] = [];
    for (const [chipId, e] of this.chips) {
      const status = deriveStatus({ agentConnected: this.connected.has(e.view.agentId), lastSampleAt: e.lastSampleAt, intervalMs: e.intervalMs }, now);
      if (status !== e.view.status) {
        e.view.status = status;
        changes.push({ chipId, status });
      }
    }
    return changes;
  }

  get(chipId: string): ChipView | undefined {
    return this.chips.get(chipId)?.view;
  }

  list(): ChipView[] {
    return [...this.chips.values()]
      .map((e) => e.view)
      .sort((a, b) => a.host.localeCompare(b.host) || a.index - b.index || a.chipId.localeCompare(b.chipId));
  }
}
