/**
 * One seeding process of the query benchmark (forked by query-seed.ts with an IPC channel): for its
 * share of the hosts, hour by hour over the 30 days, it makes every chip's minute buckets (minute
 * model; raw hosts in the last 48 h: the simulated source itself at 1 s, samples chunked with
 * encodeChunk and bucketed with bucketize), and sends the parent, hour by hour, the encoded chunks
 * and chip 1m rows to write, its share of the fleet buckets (per model) to merge, and at each UTC
 * day's end the chips' encoded 1h rows. The parent is the only writer: no lock waits.
 * Usage: fork(this file, [JSON {hosts: indices into benchHosts(), frame}]) with serialization 'advanced'.
 */
import type { Sample } from '../schema/sample.ts';
import { encodeChunk } from '../server/store/chunk-codec.ts';
import { bucketize } from '../server/rollups/bucketize.ts';
import type { EnergyReading } from '../server/rollups/energy-pairs.ts';
import { cloneBucket, emptyBucket, mergeBucket, type RollupBucket } from '../server/rollups/rollup-bucket.ts';
import { encodeRollupRow } from '../server/rollups/rollup-codec.ts';
import { fleetKey } from '../server/rollups/rollup-fields.ts';
import type { SimChipSource } from '../agents/sources/workload-model.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS, benchHosts, hostSource, rowStarts, type BenchHost, type TimeFrame } from './query-dataset.ts';
import { HostMinuteModel } from './query-minute-model.ts';

/** Samples per stored chunk, as the hub's compaction makes them (MAX_CHUNK_SAMPLES). */
const CHUNK_SAMPLES = 4096;

/** A chunk row: chip id, start ts, end ts, n, data. */
export type ChunkRow = [string, number, number, number, Uint8Array];
/** A rollup row: key, row start, data. */
export type RollupRow = [string, number, Uint8Array];

export type SeedMessage =
  | { type: 'hour'; rowStart: number; chunks: ChunkRow[]; rows1m: RollupRow[]; fleet: Record<string, RollupBucket[]>; rows1h: RollupRow[]; rawSamples: number }
  | { type: 'done'; chipMinutes: number; rawSamples: number; chunks: number; chipRows1m: number };

interface ChipState {
  id: string;
  fleet: string;
  /** Raw hosts: samples not yet in a chunk, and the last energy reading (for the next hour's first bucket). */
  pending: Sample[];
  energy?: EnergyReading;
  /** Hour buckets of the current UTC day (the chip's 1h row in the making). */
  day: RollupBucket[];
}

interface HostState {
  host: BenchHost;
  model: HostMinuteModel;
  source: SimChipSource | null;
  chips: ChipState[];
}

const args = JSON.parse(process.argv[2]) as { hosts: number[]; frame: TimeFrame };
const { frame } = args;
const send = (m: SeedMessage) =>
  new Promise<void>((resolve, reject) => process.send!(m, undefined, undefined, (err: Error | null) => (err ? reject(err) : resolve())));

const all = benchHosts();
const hosts: HostState[] = args.hosts.map((i) => {
  const host = all[i];
  const fleet = fleetKey(host.chips[0].vendor, host.chips[0].model);
  return { host, model: new HostMinuteModel(host, frame.start), source: null, chips: host.chips.map((c) => ({ id: c.chipId, fleet, pending: [], day: [] })) };
});

const stats = { chipMinutes: 0, rawSamples: 0, chunks: 0, chipRows1m: 0 };
let chunks: ChunkRow[] = [];

function chunkOut(chip: ChipState, upTo: number): void {
  while (chip.pending.length >= upTo && chip.pending.length > 0) {
    const part = chip.pending.splice(0, CHUNK_SAMPLES);
    chunks.push([chip.id, part[0].ts, part[part.length - 1].ts, part.length, encodeChunk(part)]);
    stats.chunks++;
  }
}

/** Minute buckets of every chip of a host for the hour row starting at `rowStart`. */
function hostHour(h: HostState, rowStart: number): RollupBucket[][] {
  const from = Math.max(rowStart, frame.start);
  const to = Math.min(rowStart + HOUR_MS, frame.end);
  const modelTo = h.host.raw ? Math.min(to, frame.rawStart) : to;
  const out: RollupBucket[][] = h.chips.map(() => []);
  for (let m = from; m < modelTo; m += MINUTE_MS) h.model.minute(m).forEach((b, c) => out[c].push(b));
  const rawFrom = Math.max(from, frame.rawStart);
  if (!h.host.raw || rawFrom >= to) return out;
  h.source ??= hostSource(h.host.kind, h.host.model, h.host.host.hostname);
  const hour: Sample[][] = h.chips.map(() => []);
  for (let ts = rawFrom; ts < to; ts += 1000) h.source.read(ts).forEach((s, c) => hour[c].push(s));
  h.chips.forEach((chip, c) => {
    const samples = hour[c];
    stats.rawSamples += samples.length;
    out[c].push(...bucketize(samples, MINUTE_MS, chip.energy));
    for (let i = samples.length - 1; i >= 0; i--) {
      const e = samples[i].energyJ;
      if (e !== null && e !== undefined) {
        chip.energy = { ts: samples[i].ts, e };
        break;
      }
    }
    for (const s of samples) chip.pending.push(s);
    chunkOut(chip, CHUNK_SAMPLES);
  });
  return out;
}

const rows = rowStarts(frame);
// One hour in flight to the parent while the next is made.
let inFlight = Promise.resolve();
for (const rowStart of rows) {
  const fleet = new Map<string, Map<number, RollupBucket>>();
  const rows1m: RollupRow[] = [];
  for (const h of hosts) {
    const perChip = hostHour(h, rowStart);
    h.chips.forEach((chip, c) => {
      const buckets = perChip[c];
      if (buckets.length === 0) return;
      rows1m.push([chip.id, rowStart, encodeRollupRow(rowStart, MINUTE_MS, buckets)]);
      stats.chipMinutes += buckets.length;
      const hourBucket = emptyBucket(rowStart);
      let byStart = fleet.get(chip.fleet);
      if (!byStart) fleet.set(chip.fleet, (byStart = new Map()));
      for (const b of buckets) {
        mergeBucket(hourBucket, b);
        const f = byStart.get(b.start);
        if (f) mergeBucket(f, b);
        else byStart.set(b.start, cloneBucket(b));
      }
      chip.day.push(hourBucket);
    });
  }
  const last = rowStart === rows[rows.length - 1];
  if (last) for (const h of hosts) for (const chip of h.chips) chunkOut(chip, 1);
  const rows1h: RollupRow[] = [];
  if ((rowStart + HOUR_MS) % DAY_MS === 0 || last) {
    const dayStart = rowStart - (rowStart % DAY_MS);
    for (const h of hosts) {
      for (const chip of h.chips) {
        if (chip.day.length) rows1h.push([chip.id, dayStart, encodeRollupRow(dayStart, HOUR_MS, chip.day)]);
        chip.day = [];
      }
    }
  }
  stats.chipRows1m += rows1m.length;
  const fleetBuckets = Object.fromEntries([...fleet].map(([k, m]) => [k, [...m.values()].sort((a, b) => a.start - b.start)]));
  await inFlight;
  inFlight = send({ type: 'hour', rowStart, chunks, rows1m, fleet: fleetBuckets, rows1h, rawSamples: stats.rawSamples });
  chunks = [];
}
await inFlight;
await send({ type: 'done', ...stats });
process.disconnect();
