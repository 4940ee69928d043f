/**
 * Prices for /energy costs: per kWh, and per chip-hour by model (`--price-kwh 0.15`,
 * `--price-chip-hour H100=2.5,Trainium2=1.3`). No currency: costs are in whatever unit the prices
 * are. Pure: parsing and lookups.
 */
export interface Prices {
  /** Price of one kWh; null when not configured. */
  kwh: number | null;
  /** Price of one chip-hour by model (model names compared case-insensitively). */
  chipHour: Record<string, number>;
}

export const NO_PRICES: Prices = { kwh: null, chipHour: {} };

function price(text: string, what: string): number {
  const n = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(n)) throw new Error(`${what} must be a non-negative number, got ${JSON.stringify(text)}`);
  return n;
}

/** `0.15` -> 0.15; undefined or '' -> null. Throws on anything else. */
export function parsePriceKwh(text: string | undefined): number | null {
  return text === undefined || text.trim() === '' ? null : price(text, '--price-kwh');
}

/** `H100=2.5,Trainium2=1.3` -> { H100: 2.5, Trainium2: 1.3 }. Throws on a malformed entry. */
export function parsePriceChipHour(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (text === undefined) return out;
  for (const entry of text.split(',').map((e) => e.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    const model = eq < 0 ? '' : entry.slice(0, eq).trim();
    if (!model) throw new Error(`--price-chip-hour takes MODEL=PRICE entries separated by commas (H100=2.5,Trainium2=1.3), got ${JSON.stringify(entry)}`);
    out[model] = price(entry.slice(eq + 1), `--price-chip-hour ${model}`);
  }
  return out;
}

/** The chip-hour price of a model, or null when none is configured. */
export function chipHourPrice(prices: Prices, model: string): number | null {
  const want = model.toLowerCase();
  for (const [m, p] of Object.entries(prices.chipHour)) if (m.toLowerCase() === want) return p;
  return null;
}
