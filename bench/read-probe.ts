/**
 * Reads during ingest: what a person or script asking for history sees while the hub ingests at
 * fleet shape. After a warm-up, one chip's last hour of raw samples (`/api/v1/chips/:id/samples`)
 * and the same chip's `/api/v1/series` at a 1-minute step are asked for in turn, one request at
 * a time with a short pause, until the ingest run ends. Every answer must be a 200.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { percentile } from './query-timing.ts';

export interface ReadProbeResult {
  /** The chip asked about. */
  chipId: string;
  samplesMs: number[];
  seriesMs: number[];
  /** Answers other than 200 (status or network error), with what they were. */
  failures: string[];
}

export interface ReadProbeOptions {
  base: string;
  /** A viewer token (the hub runs with auth on). */
  token: string;
  /** Wait this long before the first request: the agents connect and the log fills. */
  warmupMs: number;
  /** Pause between two requests. */
  pauseMs: number;
  /** Resolves when the ingest run is over; the probe stops then. */
  until: Promise<unknown>;
}

export async function readProbe(o: ReadProbeOptions): Promise<ReadProbeResult> {
  let over = false;
  void o.until.then(() => (over = true));
  const res: ReadProbeResult = { chipId: '', samplesMs: [], seriesMs: [], failures: [] };
  const headers = { authorization: `Bearer ${o.token}` };
  await Promise.race([sleep(o.warmupMs), o.until]);
  if (over) return res;
  // a chip the hub knows; the middle of the list, not the first agent to connect
  const chips = (await (await fetch(`${o.base}/api/v1/chips`, { headers })).json()) as { chips: { chipId: string }[] };
  if (chips.chips.length === 0) return { ...res, failures: ['no chips known after the warm-up'] };
  const chipId = chips.chips[chips.chips.length >> 1]!.chipId;
  res.chipId = chipId;
  const id = encodeURIComponent(chipId);
  const asks = [
    { url: `${o.base}/api/v1/chips/${id}/samples`, into: res.samplesMs },
    { url: `${o.base}/api/v1/series?chip=${id}&step=1m`, into: res.seriesMs },
  ];
  for (let k = 0; !over; k++) {
    const ask = asks[k % asks.length]!;
    const t0 = performance.now();
    try {
      const r = await fetch(ask.url, { headers });
      await r.arrayBuffer();
      if (r.status === 200) ask.into.push(performance.now() - t0);
      else res.failures.push(`${r.status} from ${ask.url}`);
    } catch (err) {
      res.failures.push(`${(err as Error).message} from ${ask.url}`);
    }
    await sleep(o.pauseMs);
  }
  return res;
}

/** The p-th percentile of `ms` (nearest rank); NaN when empty. */
export function percentileOf(ms: readonly number[], p: number): number {
  return ms.length === 0 ? NaN : percentile([...ms].sort((a, b) => a - b), p);
}
