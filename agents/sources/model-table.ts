/** Looks up a simulated chip model by name (case-insensitive) in a source's table. */
export function lookupModel<T extends { model: string }>(source: string, table: Readonly<Record<string, T>>, name: string | undefined, fallback: string): T {
  const spec = table[(name ?? fallback).toUpperCase()];
  if (!spec) {
    const names = Object.values(table).map((m) => m.model);
    throw new Error(`${source}: unknown model ${JSON.stringify(name)}; supported: ${names.join(', ')}`);
  }
  return spec;
}
