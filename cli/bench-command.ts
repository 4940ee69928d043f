/** `fleetscope bench [part]`: the benchmark suite (lives in bench/). */
import { helpText, intOption, parseCommand, UsageError, type CommandSpec } from '../common/cli-args.ts';

const spec = {
  name: 'bench',
  summary: 'run the benchmark suite (all parts, or the one named)',
  usage: 'fleetscope bench [part] [--duration SECONDS] [--out DIR]',
  options: {
    duration: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  help: {
    duration: 'measuring time per part in seconds (default per part)',
    out: 'directory for the JSON result file (default ./bench-results)',
    help: 'show this help',
  },
  examples: ['npm run bench', 'npm run bench -- agent --duration 30'],
} satisfies CommandSpec<Record<string, { type: 'string' | 'boolean'; short?: string }>>;

export async function benchCommand(argv: string[]): Promise<void> {
  const positional = argv.filter((a, i) => !a.startsWith('-') && !(i > 0 && ['--duration', '--out'].includes(argv[i - 1])));
  const o = parseCommand(spec, argv.filter((a) => !positional.includes(a)));
  const { BENCH_PARTS, runBench } = await import('../bench/run-bench.ts');
  if (o.help) {
    process.stdout.write(helpText(spec) + `\nParts:\n${Object.entries(BENCH_PARTS).map(([k, v]) => `  ${k.padEnd(10)} ${v.describe}`).join('\n')}\n`);
    return;
  }
  for (const p of positional) if (!BENCH_PARTS[p]) throw new UsageError(`unknown bench part ${JSON.stringify(p)}; parts: ${Object.keys(BENCH_PARTS).join(', ')}`);
  const parts = positional.length ? positional : Object.keys(BENCH_PARTS);
  const durationS = o.duration === undefined ? undefined : intOption('duration', o.duration as string, 60, 1, 3600);
  await runBench(parts, { durationS, outDir: (o.out as string | undefined) ?? 'bench-results' });
}
