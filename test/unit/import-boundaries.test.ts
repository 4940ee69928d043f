/**
 * The folders keep the boundaries they promise: each source file's relative imports (static,
 * dynamic and `new URL(…, import.meta.url)`) may only reach the folders its own folder allows.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SOURCE = /\.(ts|js|mjs|cjs)$/;

/** Folder (or sub-folder) of the importing file -> folders it may import from. Longest prefix wins. */
const ALLOWED: Record<string, string[]> = {
  // package.json: schema/version.ts reads the version from it (inlined by the bundlers).
  'schema': ['schema', 'package.json'],
  'common': ['common', 'schema'],
  'agents': ['agents', 'schema', 'common'],
  'client': ['client', 'schema'],
  // The build configuration, not client code: it names the output folder.
  'client/vite.config.ts': ['client', 'schema', 'dist'],
  'server': ['server', 'schema', 'common', 'dist'],
  // The rollup core knows nothing of storage; history queries know nothing of HTTP.
  'server/rollups': ['server/rollups', 'server/codec', 'schema', 'common'],
  'server/history': ['server/history', 'server/rollups', 'server/codec', 'server/store', 'server/event-loop-pacing.ts', 'schema', 'common'],
  'cli': ['cli', 'server', 'agents', 'bench', 'schema', 'common', 'dist'],
  // Builds the browser client from the repository root.
  'cli/client-build.ts': ['.', 'common'],
  'bench': ['bench', 'cli', 'server', 'agents', 'schema', 'common', 'bin'],
  'bin': ['bin', 'cli', 'dist'],
};

/** Files the rules leave to themselves: tests may import anything. */
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', 'test', 'test-artifacts', 'bench-results', 'data', 'docs']);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) out.push(...sourceFiles(rel));
    } else if (SOURCE.test(e.name)) out.push(rel);
  }
  return out;
}

/** Relative specifiers a file imports or resolves next to itself. */
export function relativeImports(text: string): string[] {
  const specs: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\bnew URL\(\s*|\brequire\(\s*)(['"])(\.\.?\/[^'"]*)\1/g;
  for (const m of text.matchAll(re)) specs.push(m[2]!);
  return specs;
}

function rulesFor(file: string): { prefix: string; allowed: string[] } | null {
  const prefix = Object.keys(ALLOWED)
    .filter((p) => file === p || file.startsWith(p + '/'))
    .sort((a, b) => b.length - a.length)[0];
  return prefix ? { prefix, allowed: ALLOWED[prefix]! } : null;
}

const inside = (target: string, folder: string) => folder === '.' || target === folder || target.startsWith(folder + '/');

describe('import boundaries', () => {
  const files = ['schema', 'common', 'agents', 'client', 'server', 'cli', 'bench', 'bin'].flatMap(sourceFiles);

  it('finds the source files and their imports', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(relativeImports(`import { a } from '../x.ts';\nconst m = await import('./y.ts');\nnew URL('../dist/z', import.meta.url)`)).toEqual(['../x.ts', './y.ts', '../dist/z']);
  });

  it('every file has a rule', () => {
    expect(files.filter((f) => !rulesFor(f))).toEqual([]);
  });

  it('every relative import stays inside the folders its folder allows', () => {
    const violations: string[] = [];
    for (const file of files) {
      const rule = rulesFor(file)!;
      for (const spec of relativeImports(readFileSync(path.join(ROOT, file), 'utf8'))) {
        const target = path.normalize(path.join(path.dirname(file), spec));
        if (target.startsWith('..')) violations.push(`${file} reaches outside the repository: ${spec}`);
        else if (!rule.allowed.some((f) => inside(target, f))) violations.push(`${file} (${rule.prefix}/) imports ${target}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('nothing outside test/ imports test/', () => {
    const offenders = files.filter((f) =>
      relativeImports(readFileSync(path.join(ROOT, f), 'utf8')).some((s) => inside(path.normalize(path.join(path.dirname(f), s)), 'test')),
    );
    expect(offenders).toEqual([]);
  });

  it('no test or script reads outside the repository', () => {
    const all = [...files, ...sourceFilesUnder('test')];
    const offenders = all.filter((f) => /\.\.\/shared\b|\bshared\/fixtures\b/.test(readFileSync(path.join(ROOT, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});

function sourceFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'fixtures') out.push(...sourceFilesUnder(rel));
    } else if (/\.(ts|js|mjs|cjs|sh)$/.test(e.name) && e.name !== 'import-boundaries.test.ts') out.push(rel);
  }
  return out;
}
