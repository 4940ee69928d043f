/** Types of cli-bundle.js (plain JavaScript, run before any TypeScript loader). */
export function ensureBundle(opts: { root: string; entry: string; outDir: string; name: string }): Promise<string>;
export function ensureCliBundle(): Promise<string>;
export function loadCli(): Promise<{ main(argv: string[]): Promise<void> }>;
