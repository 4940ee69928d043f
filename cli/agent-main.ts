/** Entry point of the standalone agent bundle (`dist/agent/fleetscope-agent.mjs`): plain Node, no loader. */
import { agentCommand } from './agent-command.ts';
import { UsageError } from '../common/cli-args.ts';

const argv = process.argv.slice(2);
const args = argv[0] === 'agent' ? argv.slice(1) : argv;
agentCommand(args).catch((err: unknown) => {
  process.stderr.write(`fleetscope agent: ${err instanceof UsageError ? err.message : ((err as Error).stack ?? String(err))}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
