/**
 * Pure encoders of the hub -> browser live frames. Each is called once per tick and the Buffer
 * it returns goes to every subscriber of that frame as is.
 */
import type { FleetUpdateMessage, LiveServerMessage } from '../../schema/protocol.ts';
import { PROTOCOL_VERSION } from '../../schema/protocol-constants.ts';
import type { Sample } from '../../schema/sample.ts';
import { flagsToBits } from '../../schema/sample-flags.ts';

/** A live frame as JSON bytes. */
export function encode(msg: LiveServerMessage): Buffer {
  return Buffer.from(JSON.stringify(msg));
}

/**
 * The fleet-update message of a tick: each chip once, with its newest sample of `samples`
 * (on equal timestamps the later one wins), in order of first appearance.
 */
export function fleetUpdate(samples: readonly Sample[], sentAt: number): FleetUpdateMessage {
  const newest = new Map<string, Sample>();
  for (const s of samples) {
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
export function encodeFleetUpdate(samples: readonly Sample[], sentAt: number): Buffer {
  return encode(fleetUpdate(samples, sentAt));
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
 * The frames of one tick, each encoded at most once and only when a subscriber needs it:
 * `fleet-update`, the firehose `samples` frames, one `samples` frame per subscribed chip, and
 * the coalesced `status` frame.
 */
export class TickFrames {
  private fleetFrame: Buffer | null = null;
  private firehoseFrames: Buffer[] | null = null;
  private readonly chipFrames = new Map<string, Buffer>();

  constructor(
    readonly samples: readonly Sample[],
    readonly status: Buffer | null,
    readonly sentAt: number,
    chipSubs: ReadonlyMap<string, unknown>,
    private readonly maxFrameSamples: number,
  ) {
    for (const [chipId, s] of groupByChip(samples, chipSubs)) this.chipFrames.set(chipId, encode({ v: PROTOCOL_VERSION, type: 'samples', sentAt, samples: s }));
  }

  /** The fleet-update frame, or null when the tick has no samples. */
  fleet(): Buffer | null {
    if (this.samples.length === 0) return null;
    return (this.fleetFrame ??= encodeFleetUpdate(this.samples, this.sentAt));
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
