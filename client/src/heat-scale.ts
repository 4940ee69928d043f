/**
 * The heatmap's colour scale: a sequential, perceptually ordered ramp (viridis: dark violet for
 * low, through blue and green, to yellow for high) that reads the same for colour-blind eyes and
 * never says "busy = alarm". Pure: numbers in, CSS colours out.
 */

/** Viridis at nine stops, RGB 0..255. */
const STOPS: readonly (readonly [number, number, number])[] = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 74, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [110, 206, 88],
  [253, 231, 37],
];

/** Colours in the precomputed palette (the scale is drawn from it, not recomputed per cell). */
export const PALETTE_SIZE = 64;

/** The scale's RGB at `t` in [0, 1] (clamped; NaN counts as 0). */
export function rampRgb(t: number): [number, number, number] {
  const x = Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
  const pos = x * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(pos));
  const f = pos - i;
  const a = STOPS[i];
  const b = STOPS[i + 1];
  return [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * f)) as [number, number, number];
}

/** `PALETTE_SIZE` CSS colours evenly along the ramp. */
export const PALETTE: readonly string[] = Array.from({ length: PALETTE_SIZE }, (_, i) => {
  const [r, g, b] = rampRgb(i / (PALETTE_SIZE - 1));
  return `rgb(${r},${g},${b})`;
});

/** Palette index of `value` on the domain [min, max] (clamped; a flat domain maps to the bottom). */
export function paletteIndex(value: number, min: number, max: number): number {
  if (!(max > min)) return 0;
  const t = (value - min) / (max - min);
  return Math.round(Math.min(1, Math.max(0, t)) * (PALETTE_SIZE - 1));
}

/** "Nice" tick values for a legend: `count` evenly spaced values from min to max. */
export function legendTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min) || count < 2) return [min];
  return Array.from({ length: count }, (_, i) => min + ((max - min) * i) / (count - 1));
}

/** Rounds `v` up to a round number (1, 2, 2.5, 5 × a power of ten), for a scale's top. */
export function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v - 1e-9) return m * p;
  return 10 * p;
}
