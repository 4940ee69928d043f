/**
 * `fleetscope chips reassign <chipId> --to <agentId>`: give a chip to another agent (a chip
 * belongs to the agent that first registered it; only an admin moves it). Calls
 * POST /api/v1/chips/:chipId/owner on the hub with an admin token.
 */
import { envName, helpText, parseCommand, UsageError, type CommandSpec } from '../common/cli-args.ts';

export const DEFAULT_HUB_URL = 'http://localhost:8080';

const spec = {
  name: 'chips reassign',
  summary: 'give a chip to another agent (needs an admin token)',
  usage: 'fleetscope chips reassign <chipId> --to <agentId> [--hub http://host:port] [--token T]',
  options: {
    to: { type: 'string' },
    hub: { type: 'string' },
    token: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  help: {
    to: 'the agent id that owns the chip from now on (a line-protocol host is lp-<host>)',
    hub: `hub URL (default ${DEFAULT_HUB_URL}, env FLEETSCOPE_HUB; ws:// and wss:// are taken as http:// and https://)`,
    token: 'admin token, sent as Authorization: Bearer (env FLEETSCOPE_TOKEN)',
    help: 'show this help',
  },
  examples: ['fleetscope chips reassign GPU-5f1c2a3b-8d4e-4f6a-9b7c-0123456789ab --to gpu-node-7 --hub http://hub:8080 --token fst_…'],
} satisfies CommandSpec<Record<string, { type: 'string' | 'boolean'; short?: string }>>;

const USAGE = `fleetscope chips — manage chip ownership

Usage: ${spec.usage}

Run 'fleetscope chips reassign --help' for its options.
`;

/** The chip as the hub answers it (the fields this command prints). */
export interface ReassignedChip {
  chipId: string;
  agentId: string;
  host: string;
  status: string;
}

export interface ReassignRequest {
  hub: string;
  chipId: string;
  agentId: string;
  token?: string;
}

/** The hub's base http(s) URL from --hub / FLEETSCOPE_HUB (an agent's ws:// list: its first entry). */
export function hubBaseUrl(raw: string | undefined): string {
  const first = (raw ?? DEFAULT_HUB_URL).split(',')[0]!.trim();
  let url: URL;
  try {
    url = new URL(first.replace(/^ws(s?):\/\//i, 'http$1://'));
  } catch {
    throw new UsageError(`--hub: not a URL: ${JSON.stringify(first)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--hub must be an http(s):// URL, got ${JSON.stringify(first)}`);
  return url.origin;
}

/** POST /api/v1/chips/:chipId/owner; a clear Error for every refusal. */
export async function reassignChip(req: ReassignRequest, fetchFn: typeof fetch = fetch): Promise<ReassignedChip> {
  const url = `${req.hub}/api/v1/chips/${encodeURIComponent(req.chipId)}/owner`;
  let res: Response;
  try {
    res = await fetchFn(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(req.token ? { authorization: `Bearer ${req.token}` } : {}) },
      body: JSON.stringify({ agentId: req.agentId }),
    });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    throw new Error(`cannot reach the hub at ${req.hub}: ${cause}`);
  }
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  if (res.ok) return body as ReassignedChip;
  const said = (body as { message?: unknown } | null)?.message;
  const message = typeof said === 'string' ? said : text.slice(0, 200) || res.statusText;
  switch (res.status) {
    case 401:
      throw new Error(req.token ? `the hub did not accept the token (401): ${message}` : `the hub needs an admin token (401): pass --token or set FLEETSCOPE_TOKEN`);
    case 403:
      throw new Error(`the token may not move chips (403): ${message}; use an admin token`);
    case 404:
      throw new Error(`${message} (404)`);
    default:
      throw new Error(`the hub answered ${res.status}: ${message}`);
  }
}

export async function chipsCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (sub !== 'reassign') throw new UsageError(`unknown subcommand ${JSON.stringify(sub)}\n\n${USAGE}`);
  const chipId = rest[0] !== undefined && !rest[0].startsWith('-') ? rest[0] : undefined;
  const flags = parseCommand(spec, chipId === undefined ? rest : rest.slice(1));
  if (flags.help) {
    process.stdout.write(helpText(spec));
    return;
  }
  if (chipId === undefined) throw new UsageError(`name the chip: ${spec.usage}`);
  const agentId = flags.to;
  if (!agentId) throw new UsageError(`name the new owner with --to <agentId>: ${spec.usage}`);
  // Flags, then FLEETSCOPE_HUB / FLEETSCOPE_TOKEN (no config file: an agent's would not fit).
  const hub = hubBaseUrl(flags.hub ?? (process.env[envName('hub')] || undefined));
  const token = flags.token ?? (process.env[envName('token')] || undefined);
  try {
    const chip = await reassignChip({ hub, chipId, agentId, token });
    process.stdout.write(`chip ${chip.chipId} now belongs to agent ${chip.agentId} (host ${chip.host}, ${chip.status})\n`);
  } catch (err) {
    process.stderr.write(`fleetscope chips reassign: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
