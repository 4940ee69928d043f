/** Shared command-line plumbing: parseArgs with friendly errors, --help text, env fallbacks. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

export interface CommandSpec<O extends NonNullable<ParseArgsConfig['options']>> {
  name: string;
  summary: string;
  usage: string;
  options: O;
  /** One help line per option, keyed by option name. */
  help: Record<keyof O & string, string>;
  examples?: string[];
}

export function helpText<O extends NonNullable<ParseArgsConfig['options']>>(spec: CommandSpec<O>): string {
  const rows = Object.entries(spec.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ' <value>' : ''}`;
    return `  ${flag.padEnd(28)} ${spec.help[name as keyof O & string]}`;
  });
  const ex = spec.examples?.length ? `\nExamples:\n${spec.examples.map((e) => `  ${e}`).join('\n')}\n` : '';
  return `fleetscope ${spec.name} — ${spec.summary}\n\nUsage: ${spec.usage}\n\nOptions:\n${rows.join('\n')}\n${ex}`;
}

export function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(spec: CommandSpec<O>, argv: string[]) {
  try {
    return parseArgs({ args: argv, options: spec.options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\nRun 'fleetscope ${spec.name} --help' for usage.`);
  }
}

export function envList(name: string): string[] | undefined {
  const v = process.env[name];
  return v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
}

export function intOption(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return n;
}
