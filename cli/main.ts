/** The `fleetscope` executable: dispatches to subcommands. */
import { agentCommand } from './agent-command.ts';
import { UsageError } from '../common/cli-args.ts';
import { benchCommand } from './bench-command.ts';
import { demoCommand } from './demo-command.ts';
import { hubCommand } from './hub-command.ts';
import { tokenCommand } from './token-command.ts';
import { chipsCommand } from './chips-command.ts';
import { FLEETSCOPE_VERSION } from '../schema/version.ts';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<void>; summary: string }> = {
  hub: { run: hubCommand, summary: 'run the hub: ingest, storage, API, live dashboard' },
  agent: { run: agentCommand, summary: 'sample local chips and push them to a hub' },
  demo: { run: demoCommand, summary: 'hub + embedded database + simulated mixed fleet' },
  chips: { run: chipsCommand, summary: 'chip ownership: chips reassign <chipId> --to <agentId>' },
  token: { run: tokenCommand, summary: 'create, list and revoke API tokens' },
  bench: { run: benchCommand, summary: 'run the benchmark suite (npm run bench)' },
};

const USAGE = `fleetscope — live telemetry for fleets of AI accelerators

Usage: fleetscope <command> [options]

Commands:
${Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(8)} ${c.summary}`).join('\n')}

Run 'fleetscope <command> --help' for a command's options.
`;

export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`fleetscope ${FLEETSCOPE_VERSION}\n`);
    return;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`fleetscope: unknown command ${JSON.stringify(name)}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  try {
    await cmd.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`fleetscope ${name}: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`fleetscope ${name}: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  }
}
