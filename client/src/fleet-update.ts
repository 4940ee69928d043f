/**
 * Applying the hub's columnar `fleet-update` and compact `fleet-columns` frames to the fleet view.
 * Pure: no DOM, no socket.
 */
import type { ChipView, FleetColumnsMessage, FleetUpdateMessage } from '../../schema/protocol.ts';
import type { Sample } from '../../schema/sample.ts';
import { bitsToFlags } from '../../schema/sample-flags.ts';

/**
 * A live sample as the fleet frames carry it: the values sent; the chip's memory size and power
 * limit kept from its previous latest sample (they do not change sample to sample); the rest,
 * which the fleet view does not carry, null.
 */
function liveSample(chipId: string, ts: number, utilPct: number | null, memUsedBytes: number | null, powerW: number | null, tempC: number | null, flagBits: number, prev: Sample | null): Sample {
  const s: Sample = { ts, chipId, utilPct, memUtilPct: null, memUsedBytes, memTotalBytes: prev?.memTotalBytes ?? null, powerW, powerLimitW: prev?.powerLimitW ?? null, tempC, energyJ: null };
  const flags = bitsToFlags(flagBits);
  if (flags) s.flags = flags;
  return s;
}

/** The `latest` sample of entry `i` of an update, shaped like a `Sample` (liveSample). */
export function updateSample(msg: FleetUpdateMessage, i: number, prev: Sample | null): Sample {
  return liveSample(msg.chipIds[i], msg.ts[i], msg.utilPct[i] ?? null, msg.memUsedBytes[i] ?? null, msg.powerW[i] ?? null, msg.tempC[i] ?? null, msg.flags[i] ?? 0, prev);
}

/**
 * Applies an update to `chips` (chipId -> view, replaced never mutated): a chip's entry wins
 * when it is newer than the view's latest sample; unknown chips are ignored (their inventory
 * comes first). Returns how many chips changed.
 */
export function applyFleetUpdate(chips: Map<string, ChipView>, msg: FleetUpdateMessage): number {
  let changed = 0;
  for (let i = 0; i < msg.chipIds.length; i++) {
    const old = chips.get(msg.chipIds[i]);
    if (!old || (old.latest && old.latest.ts >= msg.ts[i])) continue;
    chips.set(old.chipId, { ...old, latest: updateSample(msg, i, old.latest) });
    changed++;
  }
  return changed;
}

const MiB = 1024 * 1024;

/**
 * Applies a compact `fleet-columns` frame to `chips`: `slotIds[slot]` names each entry's chip
 * (from the snapshot and inventory frames' slots). As for `applyFleetUpdate`, the newer sample
 * wins and unknown slots are ignored; memory comes back in bytes (whole MiB). Returns how many chips changed.
 */
export function applyFleetColumns(chips: Map<string, ChipView>, slotIds: readonly (string | undefined)[], msg: FleetColumnsMessage): number {
  let changed = 0;
  for (let i = 0; i < msg.slot.length; i++) {
    const id = slotIds[msg.slot[i]];
    const old = id === undefined ? undefined : chips.get(id);
    if (!old) continue;
    const ts = msg.t0 + msg.dt[i];
    if (old.latest && old.latest.ts >= ts) continue;
    const mem = msg.memUsedMiB[i];
    const s = liveSample(old.chipId, ts, msg.utilPct[i] ?? null, mem == null ? null : mem * MiB, msg.powerW[i] ?? null, msg.tempC[i] ?? null, msg.flags[i] ?? 0, old.latest);
    chips.set(old.chipId, { ...old, latest: s });
    changed++;
  }
  return changed;
}
