/** Looks up a simulated chip model by name (case-insensitive) in a source's table. */
export function lookupModel<T extends { model: string }>(source: string, table: Readonly<Record<string, T>>, name: string | undefined, fallback: string): T {
  const spec = table[(name ?? fallback).toUpperCase()];
  if (!spec) {
    const names = Object.values(table).map((m) => m.model);
    throw new Error(`${source}: unknown model ${JSON.stringify(name)}; supported: ${names.join(', ')}`);
  }
  return spec;
}

/** A simulated model name with an optional power cap: `H100`, `H100@400W`, `@400W` (default model, capped). */
export interface ModelWithCap {
  /** The model name (undefined: the source's default). */
  model: string | undefined;
  /** The power cap, W, when the name carries one. */
  powerCapW?: number;
}

/**
 * Split `H100@400W` (case-insensitive, the `W` optional) into model and power cap. A name without
 * `@` is returned as is. Throws a clear Error for a malformed cap.
 */
export function parseModelCap(source: string, name: string | undefined): ModelWithCap {
  if (name === undefined || !name.includes('@')) return { model: name };
  const at = name.indexOf('@');
  const model = name.slice(0, at).trim() || undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*w?\s*$/i.exec(name.slice(at + 1));
  if (!m) throw new Error(`${source}: cannot read the power cap in ${JSON.stringify(name)}: expected MODEL@WATTS, e.g. H100@400W`);
  return { model, powerCapW: Number(m[1]) };
}
