/**
 * Values that move, for generators whose load must look like a fleet's (alert rules, `for`
 * durations): per chip (u = a fixed per-chip fraction in [0, 1)), utilisation swings 25-95 % on a
 * 60 s sine with a per-chip phase; power = 120 + 5.2 x util W (<= ~93 % of the 700 W limit),
 * temperature = 35 + 0.4 x util C (<= ~77 C), HBM used 50-85 %, each with a little noise. About
 * 3 % of chips ("hot", u < 0.03) run at 690-698 W (98.6-99.7 % of the limit), 86-90 C and 98.5 %
 * HBM, so rules on those fields breach on a few percent of the fleet.
 */
const MEM_TOTAL = 85_520_809_984;
const HOT_FRACTION = 0.03;

/** A fixed fraction in [0, 1) for chip `c` of agent `a` (16 chips an agent; golden-ratio sequence: evenly spread, deterministic). */
export function chipFraction(a: number, c: number): number {
  const x = (a * 16 + c) * 0.6180339887498949;
  return x - Math.floor(x);
}

/** The sample of chip `c` (fraction `u`) at time `t`, its energy counter at `energy` J. */
export function movingSample(chipId: string, c: number, u: number, t: number, energy: number) {
  const hot = u < HOT_FRACTION;
  const noise = () => Math.random() * 2 - 1;
  const util = Math.min(100, Math.max(0, 60 + 35 * Math.sin((2 * Math.PI * t) / 60_000 + 2 * Math.PI * u) + 3 * noise()));
  const powerW = hot ? 694 + 4 * noise() : 120 + 5.2 * util + 8 * noise();
  const tempC = hot ? 88 + 2 * noise() : 35 + 0.4 * util + noise();
  const memPct = hot ? 98.5 : 50 + 30 * u + 5 * Math.sin(t / 20_000 + c);
  return {
    ts: t,
    chipId,
    utilPct: Math.round(util * 10) / 10,
    memUtilPct: Math.round(util * 4) / 10,
    memUsedBytes: Math.round((MEM_TOTAL * memPct) / 100),
    memTotalBytes: MEM_TOTAL,
    powerW: Math.round(powerW * 100) / 100,
    powerLimitW: 700,
    tempC: Math.round(tempC),
    energyJ: energy,
    smClockMhz: 1980,
    eccCorrected: 0,
    eccUncorrected: 0,
  };
}

