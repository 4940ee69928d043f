/**
 * Live fan-out to browsers: each frame is serialized once and the same buffer goes to every
 * subscriber. A socket whose send buffer is backed up skips frames and, once drained, gets a
 * fresh fleet snapshot instead (latest wins), so a slow browser never holds up the others.
 */
import type { WebSocket } from 'ws';
import type { ChipView, LiveServerMessage } from '../../schema/protocol.ts';
import type { ChipStatus, Sample } from '../../schema/sample.ts';

/** Above this many buffered bytes a socket is lagging and skips frames. */
const HIGH_WATER_BYTES = 1 << 20;
const LOW_WATER_BYTES = 64 << 10;

interface LiveClient {
  fleet: boolean;
  chips: Set<string>;
  lagging: boolean;
}

export class LiveFanout {
  private readonly clients = new Map<WebSocket, LiveClient>();

  constructor(private readonly snapshot: () => ChipView[]) {}

  get size(): number {
    return this.clients.size;
  }

  add(ws: WebSocket): void {
    this.clients.set(ws, { fleet: false, chips: new Set(), lagging: false });
  }

  remove(ws: WebSocket): void {
    this.clients.delete(ws);
  }

  setFleet(ws: WebSocket, on: boolean): void {
    const c = this.clients.get(ws);
    if (!c) return;
    c.fleet = on;
    if (on) this.sendTo(ws, encode({ v: 1, type: 'fleet-snapshot', chips: this.snapshot() }), true);
  }

  setChip(ws: WebSocket, chipId: string, on: boolean): void {
    const c = this.clients.get(ws);
    if (!c) return;
    if (on) c.chips.add(chipId);
    else c.chips.delete(chipId);
  }

  sendTo(ws: WebSocket, frame: Buffer, force = false): void {
    const c = this.clients.get(ws);
    if (!c || ws.readyState !== ws.OPEN) return;
    if (!force && this.isLagging(ws, c)) return;
    ws.send(frame, { binary: false });
  }

  publishSamples(batch: Sample[]): void {
    if (this.clients.size === 0 || batch.length === 0) return;
    let fleetFrame: Buffer | undefined;
    const perChip = new Map<string, Buffer>();
    for (const [ws, c] of this.clients) {
      if (c.fleet) {
        fleetFrame ??= encode({ v: 1, type: 'samples', samples: batch });
        this.deliver(ws, c, fleetFrame);
      } else if (c.chips.size > 0) {
        const key = [...c.chips].sort().join(',');
        let frame = perChip.get(key);
        if (!frame) {
          const mine = batch.filter((s) => c.chips.has(s.chipId));
          if (mine.length === 0) continue;
          frame = encode({ v: 1, type: 'samples', samples: mine });
          perChip.set(key, frame);
        }
        this.deliver(ws, c, frame);
      }
    }
  }

  publishStatus(changes: { chipId: string; status: ChipStatus }[]): void {
    if (changes.length) this.toFleet(encode({ v: 1, type: 'status', changes }));
  }

  publishInventory(chips: ChipView[]): void {
    if (chips.length) this.toFleet(encode({ v: 1, type: 'inventory', chips }));
  }

  private toFleet(frame: Buffer): void {
    for (const [ws, c] of this.clients) if (c.fleet) this.deliver(ws, c, frame);
  }

  private deliver(ws: WebSocket, c: LiveClient, frame: Buffer): void {
    if (ws.readyState !== ws.OPEN || this.isLagging(ws, c)) return;
    ws.send(frame, { binary: false });
  }

  /** Lagging sockets skip frames; when drained they get a fresh snapshot and rejoin. */
  private isLagging(ws: WebSocket, c: LiveClient): boolean {
    if (!c.lagging) {
      if (ws.bufferedAmount <= HIGH_WATER_BYTES) return false;
      c.lagging = true;
      return true;
    }
    if (ws.bufferedAmount > LOW_WATER_BYTES) return true;
    c.lagging = false;
    if (c.fleet) ws.send(encode({ v: 1, type: 'fleet-snapshot', chips: this.snapshot() }), { binary: false });
    return false;
  }
}

export function encode(msg: LiveServerMessage): Buffer {
  return Buffer.from(JSON.stringify(msg));
}
