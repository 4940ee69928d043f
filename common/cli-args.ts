/** Shared command-line plumbing: parseArgs with friendly errors, --help text, env fallbacks. */
import { readFileSync } from 'node:fs';
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
    return `  ${flag.padEnd(38)} ${spec.help[name as keyof O & string]}`;
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

type OptionValue = string | boolean | string[] | undefined;

/** Environment variable for an option: `--spool-max` -> `FLEETSCOPE_SPOOL_MAX`. */
export function envName(option: string): string {
  return `FLEETSCOPE_${option.replace(/-/g, '_').toUpperCase()}`;
}

/**
 * Merge option values: command-line flags, then `FLEETSCOPE_*` environment variables, then the
 * optional JSON config file (keys are the long flag names), then defaults (left to the caller).
 * Repeatable options take comma-separated lists from the environment.
 */
export function resolveOptions<O extends NonNullable<ParseArgsConfig['options']>>(
  spec: CommandSpec<O>,
  flags: Record<string, OptionValue>,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, OptionValue> {
  const configPath = (flags.config as string | undefined) ?? env.FLEETSCOPE_CONFIG;
  let config: Record<string, unknown> = {};
  if (configPath) {
    try {
      config = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new UsageError(`cannot read config file ${configPath}: ${(err as Error).message}`);
    }
    if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new UsageError(`config file ${configPath} must hold a JSON object`);
    for (const key of Object.keys(config)) {
      if (!Object.hasOwn(spec.options, key)) throw new UsageError(`config file ${configPath}: unknown option ${JSON.stringify(key)}`);
    }
  }
  const out: Record<string, OptionValue> = {};
  for (const [name, o] of Object.entries(spec.options)) {
    const fromEnv = env[envName(name)];
    const envValue = fromEnv === undefined || fromEnv === '' ? undefined : o.multiple ? fromEnv.split(',').map((s) => s.trim()).filter(Boolean) : o.type === 'boolean' ? /^(1|true|yes)$/i.test(fromEnv) : fromEnv;
    const cfg = config[name];
    const cfgValue = cfg === undefined ? undefined : o.multiple ? (Array.isArray(cfg) ? cfg.map(String) : [String(cfg)]) : o.type === 'boolean' ? Boolean(cfg) : String(cfg);
    out[name] = flags[name] ?? envValue ?? cfgValue;
  }
  return out;
}
