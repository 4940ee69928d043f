/**
 * Live-client load process of the live benchmarks: CLIENTS /ws/live clients, all on the fleet
 * overview (as `fleet-update` frames, or with `compact` as the dashboard gets them: `fleet-columns`);
 * client i also subscribes to chip `chipSubs[i]` when given. Each frame is stamped
 * after it is decoded (`SharedFrameDecoder`: the hub sends every fleet subscriber the same
 * bytes, so a frame byte-identical to one another client of this process just decoded is not
 * parsed again — in production each client parses on its own machine) with
 * `performance.timeOrigin + performance.now()` (same clock as the generator's send times on this
 * machine) and latencies are histogrammed:
 * fleet = received - sample ts (whole ms: over-states by < 1 ms), chip = received -
 * `extras.sentAt` (exact), hub = received - frame `sentAt` (the hub -> client part), toFrame =
 * frame `sentAt` - sample ts (the agent -> hub part, first client only: the same for all).
 *
 * Usage: node --import tsx bench/live-clients.ts '<ClientsConfig JSON>'
 * Prints `ready` once every client has its snapshot, then, after `stop` on stdin, one JSON line
 * (`ClientsReport`).
 */
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { LatencyHistogram, preciseNow } from './latency-histogram.ts';
import { PROTOCOL_VERSION } from '../schema/protocol-constants.ts';

/** What the bench tells a client process (absolute times are epoch ms). */
export interface ClientsConfig {
  url: string;
  /** Viewer token, sent as Authorization: Bearer. */
  token: string;
  clients: number;
  /** Client i also subscribes to chip chipSubs[i]. */
  chipSubs: string[];
  /** Most distinct chips expected (sizes the per-chip arrays). */
  chipCapacity: number;
  /** Track the longest gap between two updates of a chip (costs a map lookup per entry). */
  trackGaps: boolean;
  windowFrom: number;
  windowTo: number;
  /** Latest stop (normally `stop` on stdin comes first). */
  stopAt: number;
  /** Subscribe to the fleet as the dashboard does: compact `fleet-columns` frames. */
  compact?: boolean;
}

/**
 * JSON decoding shared by the clients of one process: a frame whose bytes equal one of the last
 * few distinct frames decoded returns that frame's (read-only) object; any other is parsed.
 * Every client still receives, and is stamped for, its own copy.
 */
export class SharedFrameDecoder {
  private readonly bufs: Buffer[] = [];
  private readonly msgs: unknown[] = [];
  private next = 0;
  parsed = 0;
  reused = 0;

  constructor(private readonly size = 4) {}

  decode(data: Buffer): any {
    for (let i = 0; i < this.bufs.length; i++) {
      const b = this.bufs[i]!;
      if (b.length === data.length && b.equals(data)) {
        this.reused++;
        return this.msgs[i];
      }
    }
    const m = JSON.parse(data.toString());
    this.parsed++;
    this.bufs[this.next] = data;
    this.msgs[this.next] = m;
    this.next = (this.next + 1) % this.size;
    return m;
  }
}

type Sparse = ReturnType<LatencyHistogram['toSparse']>;

/** A client process's result line. */
export interface ClientsReport {
  fleet: Sparse;
  chip: Sparse;
  hub: Sparse;
  /** Per fleet entry: frame `sentAt` - sample ts (agent send -> hub frame built). */
  toFrame: Sparse;
  /** Per client: fleet-update entries with ts in the window. */
  fleetInWindow: number[];
  /** Per client: samples of its chip with ts in the window (-1 without a chip). */
  chipInWindow: number[];
  /** Largest time between two fleet updates of one chip at one client, within the window (ms; 0 unless trackGaps). */
  maxGapMs: number;
  frames: Record<string, number>;
  /** Bytes received within the window. */
  bytes: number;
  /** Snapshots after the first (a lagging socket that drained), all clients. */
  resnapshots: number;
  /** Frames parsed / frames that were byte-identical to a recently parsed one (`SharedFrameDecoder`). */
  decoded: { parsed: number; reused: number };
  errors: string[];
}

async function main(cfg: ClientsConfig): Promise<void> {
  const fleet = new LatencyHistogram();
  const chip = new LatencyHistogram();
  const hub = new LatencyHistogram();
  const toFrame = new LatencyHistogram();
  const chipIndex = new Map<string, number>();
  const report: ClientsReport = { fleet: fleet.toSparse(), chip: chip.toSparse(), hub: hub.toSparse(), toFrame: toFrame.toSparse(), fleetInWindow: [], chipInWindow: [], maxGapMs: 0, frames: {}, bytes: 0, resnapshots: 0, decoded: { parsed: 0, reused: 0 }, errors: [] };
  const decoder = new SharedFrameDecoder();
  const idx = (id: string) => {
    let i = chipIndex.get(id);
    if (i === undefined) chipIndex.set(id, (i = chipIndex.size));
    return i;
  };
  let ready = 0;
  const sockets: WebSocket[] = [];

  const open = (c: number) =>
    new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(`${cfg.url}/ws/live`, { perMessageDeflate: false, headers: { authorization: `Bearer ${cfg.token}` } });
      sockets.push(ws);
      const lastRecv = new Float64Array(cfg.trackGaps ? cfg.chipCapacity : 0);
      const myChip = cfg.chipSubs[c];
      report.fleetInWindow[c] = 0;
      report.chipInWindow[c] = myChip ? 0 : -1;
      let snapshots = 0;
      ws.on('open', () => {
        ws.send(JSON.stringify({ v: PROTOCOL_VERSION, type: 'subscribe', sub: cfg.compact ? { topic: 'fleet', compact: true } : { topic: 'fleet' } }));
        if (myChip) ws.send(JSON.stringify({ v: PROTOCOL_VERSION, type: 'subscribe', sub: { topic: 'chip', chipId: myChip } }));
      });
      ws.on('message', (data: Buffer) => {
        const m = decoder.decode(data);
        const t = preciseNow();
        report.frames[m.type] = (report.frames[m.type] ?? 0) + 1;
        const inWindow = t >= cfg.windowFrom && t < cfg.windowTo;
        if (inWindow) report.bytes += data.length;
        if (m.type === 'fleet-update') {
          if (inWindow) hub.add(t - m.sentAt);
          for (let i = 0; i < m.chipIds.length; i++) {
            const ts = m.ts[i];
            if (ts < cfg.windowFrom || ts >= cfg.windowTo) continue;
            fleet.add(t - ts);
            if (c === 0) toFrame.add(m.sentAt - ts);
            report.fleetInWindow[c]++;
            if (!cfg.trackGaps) continue;
            const k = idx(m.chipIds[i]);
            if (inWindow && lastRecv[k] >= cfg.windowFrom) report.maxGapMs = Math.max(report.maxGapMs, t - lastRecv[k]);
            lastRecv[k] = t;
          }
        } else if (m.type === 'fleet-columns') {
          // The dashboard's form: chips by slot, sample time as t0 + dt.
          if (inWindow) hub.add(t - m.sentAt);
          for (let i = 0; i < m.slot.length; i++) {
            const ts = m.t0 + m.dt[i];
            if (ts < cfg.windowFrom || ts >= cfg.windowTo) continue;
            fleet.add(t - ts);
            if (c === 0) toFrame.add(m.sentAt - ts);
            report.fleetInWindow[c]++;
            if (!cfg.trackGaps) continue;
            const k = m.slot[i];
            if (k >= lastRecv.length) continue;
            if (inWindow && lastRecv[k] >= cfg.windowFrom) report.maxGapMs = Math.max(report.maxGapMs, t - lastRecv[k]);
            lastRecv[k] = t;
          }
        } else if (m.type === 'samples') {
          if (m.sentAt && inWindow) hub.add(t - m.sentAt);
          for (const s of m.samples) {
            if (s.ts < cfg.windowFrom || s.ts >= cfg.windowTo || s.chipId !== myChip) continue;
            chip.add(t - s.extras.sentAt);
            report.chipInWindow[c]++;
          }
        } else if (m.type === 'fleet-snapshot') {
          if (++snapshots === 1) {
            ready++;
            resolve();
          } else report.resnapshots++;
        } else if (m.type === 'error') report.errors.push(`${m.code}: ${m.message}`);
      });
      ws.on('error', (err) => {
        report.errors.push(err.message);
        reject(err);
      });
    });

  await Promise.all(Array.from({ length: cfg.clients }, (_, c) => open(c)));
  process.stdout.write(`ready ${ready}\n`);
  // Runs until told `stop` on stdin (the bench does so once every sent batch was acked and
  // published, plus a drain), or until stopAt at the latest.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, cfg.stopAt - Date.now()));
    process.stdin.on('data', (d) => {
      if (String(d).includes('stop')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  process.stdin.destroy();
  for (const ws of sockets) ws.terminate();
  report.fleet = fleet.toSparse();
  report.chip = chip.toSparse();
  report.hub = hub.toSparse();
  report.toFrame = toFrame.toSparse();
  report.decoded = { parsed: decoder.parsed, reused: decoder.reused };
  process.stdout.write(JSON.stringify(report) + '\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main(JSON.parse(process.argv[2]!) as ClientsConfig);
