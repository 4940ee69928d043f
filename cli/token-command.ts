/**
 * `fleetscope token create|list|revoke`: manage the hub's API tokens in its database file, or on
 * its PostgreSQL server (`--db postgres://…`; works while hubs run: on SQLite a revoked token is
 * refused at its next request, on PostgreSQL within seconds, by every hub of the schema).
 */
import { openTokenStore, type TokenStore } from '../server/auth/token-store.ts';
import { openPgTokenStore } from '../server/auth/pg-token-store.ts';
import { describeDb, exitIfDatabaseUnreachable, parseDbTarget, type DbTarget } from '../server/store/open-store.ts';
import { connectPg } from '../server/store/pg/pg-connection.ts';
import { ROLES, type Role, type TokenInfo } from '../server/auth/tokens.ts';
import { helpText, parseCommand, UsageError, type CommandSpec } from '../common/cli-args.ts';
import { DEFAULT_DB } from './hub-command.ts';

const spec = {
  name: 'token',
  summary: 'create, list and revoke API tokens (agent, viewer, admin)',
  usage: 'fleetscope token create --role agent|viewer|admin [--name N] [--db FILE|URL]\n       fleetscope token list [--db FILE|URL] [--json]\n       fleetscope token revoke <id> [--db FILE|URL]',
  options: {
    role: { type: 'string' },
    name: { type: 'string' },
    db: { type: 'string' },
    'db-schema': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
  help: {
    role: `role of a new token: ${ROLES.join(', ')} (agent: send samples; viewer: read API, live view, dashboard; admin: everything)`,
    name: 'a name to recognise the token by (default: "<role> token")',
    db: `the hub's SQLite database file, or its PostgreSQL URL postgres://user@host:port/db[?schema=name] (default ${DEFAULT_DB}, env FLEETSCOPE_DB)`,
    'db-schema': "the hub's PostgreSQL schema when the URL names none (default public)",
    json: 'print JSON instead of a table',
    help: 'show this help',
  },
  examples: [
    'fleetscope token create --role agent --name p5-fleet',
    'fleetscope token list',
    'fleetscope token revoke tok_1a2b3c4d5e6f',
  ],
} satisfies CommandSpec<Record<string, { type: 'string' | 'boolean'; short?: string }>>;

const when = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z'));

function table(tokens: TokenInfo[]): string {
  if (!tokens.length) return 'no tokens; create one with: fleetscope token create --role admin\n';
  const rows = [['ID', 'ROLE', 'NAME', 'CREATED', 'REVOKED'], ...tokens.map((t) => [t.id, t.role, t.name, when(t.createdAt), when(t.revokedAt)])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

export async function tokenCommand(argv: string[]): Promise<void> {
  const [action, ...rest] = argv;
  const positional = rest.filter((a) => !a.startsWith('-') && !['--role', '--name', '--db', '--db-schema'].includes(rest[rest.indexOf(a) - 1] ?? ''));
  const o = parseCommand(spec, rest.filter((a) => !positional.includes(a)));
  if (o.help || !action || action === '--help' || action === '-h') {
    process.stdout.write(helpText(spec));
    return;
  }
  const db = (o.db as string | undefined) ?? process.env.FLEETSCOPE_DB ?? DEFAULT_DB;
  if (!['create', 'list', 'revoke'].includes(action)) throw new UsageError(`unknown action ${JSON.stringify(action)}; use create, list or revoke`);
  let target: DbTarget;
  try {
    target = parseDbTarget(db, o['db-schema'] as string | undefined);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { store, close } = await openTokens(target).catch((err: unknown) => {
    exitIfDatabaseUnreachable('token', err);
    throw err;
  });
  const where = describeDb(target);
  try {
    if (action === 'create') {
      const role = o.role as string | undefined;
      if (!role || !ROLES.includes(role as Role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}${role ? `, got ${JSON.stringify(role)}` : ''}`);
      const t = store.create(role as Role, (o.name as string | undefined) ?? `${role} token`);
      await store.flush();
      if (o.json) process.stdout.write(JSON.stringify(t) + '\n');
      else process.stdout.write(`${t.token}\n`);
      process.stderr.write(`created ${t.role} token ${t.id} (${t.name}) in ${where}; the token above is shown only now\n`);
    } else if (action === 'list') {
      const tokens = store.list();
      process.stdout.write(o.json ? JSON.stringify(tokens) + '\n' : table(tokens));
    } else {
      if (positional.length !== 1) throw new UsageError('give the id of the token to revoke (fleetscope token list shows them)');
      if (!store.revoke(positional[0]!)) throw new UsageError(`no unrevoked token ${JSON.stringify(positional[0])} in ${where}`);
      await store.flush();
      process.stderr.write(`revoked ${positional[0]}\n`);
    }
  } finally {
    await close();
  }
}

/** The token store of the hub's database (PostgreSQL: no reloads, the command is short-lived). */
async function openTokens(t: DbTarget): Promise<{ store: TokenStore; close(): Promise<void> }> {
  if (t.kind === 'sqlite') {
    const store = openTokenStore(t.path);
    return { store, close: async () => store.close() };
  }
  const conn = await connectPg(t.url, { schema: t.schema, maxConnections: 2, connectTimeoutMs: 5000 });
  try {
    const store = await openPgTokenStore(conn.pool, { url: t.url, schema: t.schema, reloadMs: 0, listen: false });
    return {
      store,
      close: async () => {
        await store.close();
        await conn.pool.end();
      },
    };
  } catch (err) {
    await conn.pool.end().catch(() => undefined);
    throw err;
  }
}
