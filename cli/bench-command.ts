/** `fleetscope bench [part]`: the benchmark suite (lives in bench/). */
import { helpText, intOption, parseCommand, UsageError, type CommandSpec } from '../common/cli-args.ts';

const spec = {
  name: 'bench',
  summary: 'run the benchmark suite (all parts, or the one named)',
  usage: 'fleetscope bench [part] [--duration SECONDS] [--chips N] [--rate HZ] [--out DIR]',
  options: {
    duration: { type: 'string' },
    chips: { type: 'string' },
    rate: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  help: {
    duration: 'measuring time per part in seconds (default per part)',
    chips: 'ingest: this many chips instead of the curve (1,000 / 10,000 / 100,000); fold, metrics, browser: instead of 10,000; pg: instead of 1,024; live: this many chips at 1 Hz',
    rate: 'ingest: every chip at this many Hz (default: as fast as acks allow)',
    out: 'directory for the JSON result file (default ./bench-results)',
    help: 'show this help',
  },
  examples: ['npm run bench', 'npm run bench -- agent --duration 30', 'npm run bench -- ingest --chips 100000 --rate 1'],
} satisfies CommandSpec<Record<string, { type: 'string' | 'boolean'; short?: string }>>;

export async function benchCommand(argv: string[]): Promise<void> {
  const positional = argv.filter((a, i) => !a.startsWith('-') && !(i > 0 && ['--duration', '--out', '--chips', '--rate'].includes(argv[i - 1])));
  const o = parseCommand(spec, argv.filter((a) => !positional.includes(a)));
  const { BENCH_PARTS, runBench } = await import('../bench/run-bench.ts');
  if (o.help) {
    process.stdout.write(helpText(spec) + `\nParts:\n${Object.entries(BENCH_PARTS).map(([k, v]) => `  ${k.padEnd(10)} ${v.describe}`).join('\n')}\n`);
    return;
  }
  for (const p of positional) if (!BENCH_PARTS[p]) throw new UsageError(`unknown bench part ${JSON.stringify(p)}; parts: ${Object.keys(BENCH_PARTS).join(', ')}`);
  const parts = positional.length ? positional : Object.keys(BENCH_PARTS);
  const durationS = o.duration === undefined ? undefined : intOption('duration', o.duration as string, 60, 1, 3600);
  const chips = o.chips === undefined ? undefined : intOption('chips', o.chips as string, 10_000, 16, 1_000_000);
  const rate = o.rate === undefined ? undefined : Number(o.rate);
  if (rate !== undefined && !(rate > 0 && rate <= 100)) throw new UsageError(`--rate: a number of Hz in (0, 100], got ${JSON.stringify(o.rate)}`);
  await runBench(parts, { durationS, chips, rate, outDir: (o.out as string | undefined) ?? 'bench-results' });
}
