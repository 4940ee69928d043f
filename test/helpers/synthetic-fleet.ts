/**
 * A made-up fleet as the dashboard's fleet view sees it (`ChipView`s), for component tests and
 * the browser bench: trn2 hosts of 16 Trainium2 and p5 hosts of 8 H100, values that differ per
 * chip (busy, idle but powered, a few stale and offline), deterministic for a seed.
 */
import type { ChipView } from '../../schema/protocol.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

export interface SyntheticOptions {
  seed?: number;
  /** Share of stale and offline chips (default 0.01 each). */
  stale?: number;
  offline?: number;
  now?: number;
}

/** At least `chips` chips: 60 % on trn2 hosts (16 each), the rest on p5 hosts (8 each). */
export function syntheticFleet(chips: number, opts: SyntheticOptions = {}): ChipView[] {
  const r = rng(opts.seed ?? 1);
  const now = opts.now ?? Date.now();
  const trnHosts = Math.ceil((chips * 0.6) / 16);
  const p5Hosts = Math.max(0, Math.ceil((chips - trnHosts * 16) / 8));
  const out: ChipView[] = [];
  const add = (host: string, type: string, vendor: 'aws' | 'nvidia', model: string, idx: number, memTotal: number, limit: number, hostLoad: number, hostIdle: boolean) => {
    const u = r();
    const status = u < (opts.offline ?? 0.01) ? 'offline' : u < (opts.offline ?? 0.01) + (opts.stale ?? 0.01) ? 'stale' : 'live';
    const util = hostIdle ? r() * 3 : Math.min(100, Math.max(0, hostLoad + (r() - 0.5) * 20));
    const power = (hostIdle ? 0.12 : 0.15 + (0.85 * util) / 100) * limit * (0.95 + r() * 0.1);
    const chipId = vendor === 'aws' ? `${host}-neuron${idx}` : `GPU-${host}-${idx}`;
    out.push({
      chipId,
      vendor,
      model,
      index: idx,
      cores: vendor === 'aws' ? 8 : null,
      memTotalBytes: memTotal,
      ratedPowerW: limit,
      host,
      instanceType: type,
      agentId: host,
      status,
      latest: {
        ts: status === 'live' ? now - Math.floor(r() * 1000) : now - 60_000,
        chipId,
        utilPct: Math.round(util * 10) / 10,
        memUtilPct: null,
        memUsedBytes: Math.round(memTotal * (hostIdle ? 0.02 : 0.4 + r() * 0.55)),
        memTotalBytes: memTotal,
        powerW: Math.round(power * 10) / 10,
        powerLimitW: limit,
        tempC: vendor === 'nvidia' ? Math.round(35 + (util / 100) * 30 + r() * 4) : null,
        energyJ: null,
      },
    });
  };
  for (let h = 1; h <= trnHosts; h++) {
    const load = 40 + r() * 60;
    const idle = r() < 0.06;
    for (let i = 0; i < 16; i++) add(`trn2-sim-${h}`, 'trn2.48xlarge', 'aws', 'Trainium2', i, 96 * 2 ** 30, 500, load, idle);
  }
  for (let h = 1; h <= p5Hosts; h++) {
    const load = 30 + r() * 70;
    const idle = r() < 0.08;
    for (let i = 0; i < 8; i++) add(`p5-sim-${h}`, 'p5.48xlarge', 'nvidia', 'H100', i, 80 * 2 ** 30, 700, load, idle);
  }
  return out;
}
