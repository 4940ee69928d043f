/**
 * Pure encoders of the hub -> browser live frames. Each is called once per tick and the Buffer
 * it returns goes to every subscriber of that frame as is.
 */
import type { FleetColumnsMessage, FleetUpdateMessage, LiveServerMessage } from '../../schema/protocol.ts';
import { PROTOCOL_VERSION } from '../../schema/protocol-constants.ts';
import type { ChipStatus, Sample } from '../../schema/sample.ts';
import { flagsToBits } from '../../schema/sample-flags.ts';

/** A live frame as JSON bytes. */
export function encode(msg: LiveServerMessage): Buffer {
  return Buffer.from(JSON.stringify(msg));
}

/**
 * The fleet-update message of a tick: each chip once, with its newest sample of `samples`
 * (on equal timestamps the later one wins), in order of first appearance.
 */
export function fleetUpdate(samples: readonly Sample[], sentAt: number, keep?: (chipId: string) => boolean): FleetUpdateMessage {
  const newest = new Map<string, Sample>();
  for (const s of samples) {
    if (keep && !keep(s.chipId)) continue;
    const seen = newest.get(s.chipId);
    if (!seen || s.ts >= seen.ts) newest.set(s.chipId, s);
  }
  const n = newest.size;
  const msg: FleetUpdateMessage = {
    v: PROTOCOL_VERSION,
    type: 'fleet-update',
    sentAt,
    chipIds: new Array<string>(n),
    ts: new Array<number>(n),
    utilPct: new Array<number | null>(n),
    powerW: new Array<number | null>(n),
    tempC: new Array<number | null>(n),
    memUsedBytes: new Array<number | null>(n),
    flags: new Array<number>(n),
  };
  let i = 0;
  for (const s of newest.values()) {
    msg.chipIds[i] = s.chipId;
    msg.ts[i] = s.ts;
    msg.utilPct[i] = s.utilPct;
    msg.powerW[i] = s.powerW;
    msg.tempC[i] = s.tempC;
    msg.memUsedBytes[i] = s.memUsedBytes;
    msg.flags[i] = flagsToBits(s.flags);
    i++;
  }
  return msg;
}

/** `fleetUpdate` as one frame. */
export function encodeFleetUpdate(samples: readonly Sample[], sentAt: number, keep?: (chipId: string) => boolean): Buffer {
  return encode(fleetUpdate(samples, sentAt, keep));
}

/** Full samples as `samples` frames of at most `maxPerFrame` samples each, in order. */
export function encodeSamples(samples: readonly Sample[], sentAt: number, maxPerFrame: number): Buffer[] {
  const frames: Buffer[] = [];
  for (let i = 0; i < samples.length; i += maxPerFrame) {
    const part = i === 0 && samples.length <= maxPerFrame ? (samples as Sample[]) : samples.slice(i, i + maxPerFrame);
    frames.push(encode({ v: PROTOCOL_VERSION, type: 'samples', sentAt, samples: part }));
  }
  return frames;
}

/** The samples of `samples` whose chip is in `chips`, grouped by chip (order kept within a chip). */
export function groupByChip(samples: readonly Sample[], chips: ReadonlyMap<string, unknown>): Map<string, Sample[]> {
  const groups = new Map<string, Sample[]>();
  if (chips.size === 0) return groups;
  for (const s of samples) {
    if (!chips.has(s.chipId)) continue;
    const g = groups.get(s.chipId);
    if (g) g.push(s);
    else groups.set(s.chipId, [s]);
  }
  return groups;
}

/**
 * The frames of one tick, each encoded at most once and only when a subscriber needs it: the
 * fleet frame and the coalesced `status` frame of each distinct fleet subscription (filter and
 * form), the firehose `samples` frames, and one `samples` frame per subscribed chip.
 */
export class TickFrames {
  /** Fleet frames by subscription key (null: nothing of that selection changed). */
  private readonly fleetFrames = new Map<string, Buffer | null>();
  private firehoseFrames: Buffer[] | null = null;
  private readonly chipFrames = new Map<string, Buffer>();

  private readonly statusFrames = new Map<string, Buffer | null>();

  constructor(
    readonly samples: readonly Sample[],
    /** The tick's status changes (the last change of each chip). */
    readonly statusChanges: readonly { chipId: string; status: ChipStatus }[],
    readonly sentAt: number,
    chipSubs: ReadonlyMap<string, unknown>,
    private readonly maxFrameSamples: number,
    /** What the fleet frames are built from: `samples`, and other hubs' newest values with a live bus. */
    readonly fleetSamples: readonly Sample[] = samples,
  ) {
    for (const [chipId, s] of groupByChip(samples, chipSubs)) this.chipFrames.set(chipId, encode({ v: PROTOCOL_VERSION, type: 'samples', sentAt, samples: s }));
  }

  /**
   * The fleet frame of a subscription (`fleet-update`, or `fleet-columns` when compact) holding
   * the chips `keep` passes, built once per key; null when none of them changed.
   */
  fleet(key = 'u', compact = false, keep?: (chipId: string) => boolean, slotOf?: (chipId: string) => number | undefined): Buffer | null {
    if (this.fleetSamples.length === 0) return null;
    let f = this.fleetFrames.get(key);
    if (f === undefined) {
      if (compact) {
        const m = fleetColumns(this.fleetSamples, this.sentAt, slotOf ?? (() => undefined), keep);
        f = m.slot.length ? encode(m) : null;
      } else {
        const m = fleetUpdate(this.fleetSamples, this.sentAt, keep);
        f = m.chipIds.length ? encode(m) : null;
      }
      this.fleetFrames.set(key, f);
    }
    return f;
  }

  /** The `status` frame of a subscription's chips (those `keep` passes), once per key; null when none changed. */
  status(key = 'u', keep?: (chipId: string) => boolean): Buffer | null {
    if (this.statusChanges.length === 0) return null;
    let f = this.statusFrames.get(key);
    if (f === undefined) {
      const changes = keep ? this.statusChanges.filter((c) => keep(c.chipId)) : (this.statusChanges as { chipId: string; status: ChipStatus }[]);
      f = changes.length ? encode({ v: PROTOCOL_VERSION, type: 'status', changes }) : null;
      this.statusFrames.set(key, f);
    }
    return f;
  }

  /** The firehose frames (none when the tick has no samples). */
  firehose(): Buffer[] {
    return (this.firehoseFrames ??= this.samples.length ? encodeSamples(this.samples, this.sentAt, this.maxFrameSamples) : []);
  }

  /** The frame of one chip's samples, if it had any this tick (and subscribers when the tick began). */
  chip(chipId: string): Buffer | undefined {
    return this.chipFrames.get(chipId);
  }
}

const MiB = 1024 * 1024;
const tenth = (v: number | null): number | null => (v == null ? null : Math.round(v * 10) / 10);

/**
 * The compact fleet frame of a tick (`fleet-columns`): each chip of `samples` that has a slot and
 * passes `keep`, once, with its newest sample; values rounded as FleetColumnsMessage says.
 */
export function fleetColumns(samples: readonly Sample[], sentAt: number, slotOf: (chipId: string) => number | undefined, keep?: (chipId: string) => boolean): FleetColumnsMessage {
  const newest = new Map<string, Sample>();
  for (const s of samples) {
    if (keep && !keep(s.chipId)) continue;
    const seen = newest.get(s.chipId);
    if (!seen || s.ts >= seen.ts) newest.set(s.chipId, s);
  }
  let t0 = Infinity;
  for (const s of newest.values()) if (s.ts < t0) t0 = s.ts;
  const msg: FleetColumnsMessage = { v: PROTOCOL_VERSION, type: 'fleet-columns', sentAt, t0: Number.isFinite(t0) ? t0 : 0, slot: [], dt: [], utilPct: [], powerW: [], tempC: [], memUsedMiB: [], flags: [] };
  for (const s of newest.values()) {
    const slot = slotOf(s.chipId);
    if (slot === undefined) continue;
    msg.slot.push(slot);
    msg.dt.push(s.ts - msg.t0);
    msg.utilPct.push(tenth(s.utilPct));
    msg.powerW.push(tenth(s.powerW));
    msg.tempC.push(tenth(s.tempC));
    msg.memUsedMiB.push(s.memUsedBytes == null ? null : Math.round(s.memUsedBytes / MiB));
    msg.flags.push(flagsToBits(s.flags));
  }
  return msg;
}
