/**
 * POST /api/v1/write — InfluxDB line protocol in (Telegraf's `outputs.influxdb` / `http` with
 * `data_format = "influx"`), through the same ingest pipeline as /ws/agent:
 * parse (first bad line -> 400, nothing stored) -> one push agent `lp-<host>` per host,
 * registered when its inventory changed -> every point of the request committed in ONE store
 * transaction -> 204 after commit -> fleet state and live fan-out.
 *
 * Lines of a chip another agent owns are refused, the others stored: 200 `{stored, refused}`
 * naming the refused chips, or 400 `chip_owned` when no line could be stored.
 */
import { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import type { HttpBindings } from '@hono/node-server';
import { gunzip } from 'node:zlib';
import { Hono, type Context } from 'hono';
import type { FleetState } from '../fleet-state.ts';
import type { Ingest } from '../ingest.ts';
import type { Logger } from '../../common/logger.ts';
import { HttpError } from '../http-errors.ts';
import { parseLineProtocol, PRECISIONS, type LinePoint, type LineWork, type Precision, type Tags } from '../line-protocol/parse-line-protocol.ts';
import { TagCache } from '../line-protocol/tag-cache.ts';
import type { TimeWindow } from '../../schema/time-window.ts';
import { planWrite, pushAgentId, type RefusedChip } from '../line-protocol/plan-write.ts';
import { chipOwnedMessage } from '../ownership.ts';
import type { WriteAnswer } from '../../schema/api-answers.ts';

/** Largest request body (after gzip decoding), bytes. */
export const MAX_WRITE_BYTES = 16 * 1024 * 1024;

const gunzipAsync = promisify(gunzip);

/** What the write route needs from the hub. */
export interface WriteDeps {
  fleet: FleetState;
  ingest: Ingest;
  log: Logger;
  /** Body limit in bytes (default MAX_WRITE_BYTES). */
  maxBytes?: number;
  /** Accepted sample timestamps around the hub's clock (default: at most 5 s ahead, any age). */
  window?: TimeWindow;
}

/** The /api/v1/write routes (mounted by createApp). */
export function writeRoutes(deps: WriteDeps) {
  const { fleet, ingest, log } = deps;
  const maxBytes = deps.maxBytes ?? MAX_WRITE_BYTES;
  // Writes are planned one at a time: each plans its registrations against the fleet as the
  // previous write left it (a host's chip indexes never race), and hands its samples to the
  // store in arrival order. Their commits overlap (the writer groups them into one transaction).
  let queue: Promise<unknown> = Promise.resolve();
  const tagCache = new TagCache<Tags>();

  /** Plans, registers and starts the commit; `commit` settles once it is committed. */
  const apply = async (points: LinePoint[]): Promise<{ accepted: number; commit: Promise<{ stored: number }>; refused: RefusedChip[] }> => {
    // Planned and registered in one inventory turn: no hello claims a chip in between.
    const plan = await ingest.withInventoryTurn(async () => {
      const plan = planWrite(points, fleet);
      if (!plan.ok) throw new HttpError(400, 'bad_request', plan.message);
      // The hosts' chips are disjoint: their registrations go to the store together (one
      // transaction where the writer gets them at once), all settled before the turn ends.
      const registered = await Promise.allSettled(
        plan.hosts.filter((h) => h.changed).map(async (h) => {
          // A host the store has as it was (the hub restarted) is taken up again without a store write.
          if (h.resumed && (await ingest.resumePushAgent(h.registration))) return;
          await ingest.registerPushAgent(h.registration);
          log.info('line-protocol host registered', { agentId: h.agentId, chips: h.registration.chips.length });
        }),
      );
      const failed = registered.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      return plan;
    });
    const { refused } = plan;
    if (refused.length) ingest.probe?.rejected('line_protocol', 'chip_owned', refused.reduce((n, r) => n + r.lines, 0));
    if (refused.length) log.warn('line-protocol lines refused: chips of other agents', { chips: refused.length, message: chipOwnedMessage(refused) });
    const accepted = plan.hosts.reduce((n, h) => n + h.samples.length, 0);
    if (accepted === 0) return { accepted, commit: Promise.resolve({ stored: 0 }), refused };
    if (ingest.writerBusy()) {
      ingest.probe?.ackWithheld('line_protocol');
      await ingest.writerReady();
    }
    const commit = ingest.commitMany(plan.hosts.map((h) => ({ agentId: h.agentId, samples: h.samples })));
    // Awaited by the request; marked handled so that a failure is not also reported as unhandled meanwhile.
    commit.catch(() => undefined);
    return { accepted, commit, refused };
  };

  /** Work lines, per host: reported by the host's push agent id, naming the host's chips (all of them without a chip tag). */
  const applyWork = async (lines: LineWork[]): Promise<void> => {
    const recorder = ingest.work;
    if (recorder === null) return;
    const byHost = new Map<string, LineWork[]>();
    for (const w of lines) (byHost.get(w.host) ?? byHost.set(w.host, []).get(w.host)!).push(w);
    const chipsOf = new Map<string, string[]>();
    for (const c of fleet.views()) if (byHost.has(c.host)) (chipsOf.get(c.host) ?? chipsOf.set(c.host, []).get(c.host)!).push(c.chipId);
    for (const [host, ws] of byHost) {
      const hostChips = chipsOf.get(host) ?? [];
      const onHost = new Set(hostChips);
      const res = await recorder.record(pushAgentId(host), ws.map((w) => w.report), hostChips, (id) => onHost.has(id));
      for (const r of res.refused) ingest.probe?.rejected('line_protocol', `work_${r.reason}`, r.count);
      if (res.kept < ws.length) {
        const why = res.refused.map((r) => `${r.count} ${r.reason === 'foreign_chips' ? 'naming chips of another host' : r.reason === 'no_chips' ? 'for a host with no known chips' : 'out of the accepted time range'}`).join(', ');
        throw new HttpError(400, 'bad_request', `work lines of host ${JSON.stringify(host)} were not stored: ${why}`);
      }
    }
  };

  const handle = async (c: Context): Promise<Response> => {
    // Auth seam: the hub has no auth yet. When it does, check the token here, before the body
    // is read — Influx clients send `Authorization: Token <t>` (v2) or `?u=&p=` / Basic (v1) —
    // and answer 401 { code: 'unauthorized' }.
    const precision = precisionParam(c.req.query('precision'));
    const body = await readBody(c, maxBytes);
    const parsed = parseLineProtocol(body, Date.now(), precision, deps.window, tagCache);
    if (!parsed.ok) throw new HttpError(400, parsed.code, parsed.message);
    if (parsed.work.length > 0) {
      // Work lines name chips already known (from this body's chip lines too): checked up front,
      // so a bad line stores nothing.
      const inBody = new Set(parsed.points.map((p) => p.sample.chipId));
      const unknown = parsed.work.find((w) => w.report.chips?.some((c) => fleet.get(c) === undefined && !inBody.has(c)));
      if (unknown) throw new HttpError(400, 'bad_request', `line ${unknown.line}: chip ${JSON.stringify(unknown.report.chips![0])} is not known to the hub; send its samples first (a "chip" line or an agent), or leave the chip tag out to name every chip of host ${JSON.stringify(unknown.host)}`);
    }
    if (parsed.points.length > 0 || parsed.work.length > 0) {
      const run = queue.then(async () => {
        const done = parsed.points.length > 0 ? await apply(parsed.points) : { accepted: 0, commit: Promise.resolve({ stored: 0 }), refused: [] };
        if (parsed.work.length > 0) {
          // Work lines follow the body's samples: recorded once those are committed.
          await done.commit;
          await applyWork(parsed.work);
        }
        return done;
      });
      queue = run.catch(() => undefined);
      const { accepted, commit, refused } = await run;
      const { stored } = await commit;
      if (refused.length > 0) {
        if (accepted === 0 && parsed.work.length === 0) throw new HttpError(400, 'chip_owned', `nothing was stored: ${chipOwnedMessage(refused)}`);
        return c.json({ stored, refused: refused.map(refusedAnswer) } satisfies WriteAnswer, 200);
      }
    }
    return c.body(null, 204);
  };

  return new Hono().post('/', async (c) => {
    try {
      return await handle(c);
    } catch (err) {
      // Refused lines of chips owned elsewhere are counted per line above.
      if (err instanceof HttpError && err.code !== 'chip_owned') ingest.probe?.rejected('line_protocol', err.code);
      throw err;
    }
  });
}

function refusedAnswer(r: RefusedChip): WriteAnswer['refused'][number] {
  const count = r.lines === 1 ? '' : ` (and ${r.lines - 1} more line${r.lines === 2 ? '' : 's'})`;
  return {
    chipId: r.chipId,
    host: r.host,
    agentId: r.owner,
    code: 'chip_owned',
    line: r.line,
    lines: r.lines,
    message: `line ${r.line}${count}: chip "${r.chipId}" belongs to agent "${r.owner}", not to host "${r.host}"; an admin can move it with: fleetscope chips reassign ${r.chipId} --to ${pushAgentId(r.host)}`,
  };
}

function precisionParam(raw: string | undefined): Precision {
  if (raw === undefined || raw === '') return 'ns';
  if ((PRECISIONS as readonly string[]).includes(raw)) return raw as Precision;
  throw new HttpError(400, 'bad_request', `precision must be one of ${PRECISIONS.join(', ')}, got ${JSON.stringify(raw)}`);
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'too_large', `the request body exceeds ${limit} bytes; split the write into smaller requests`);
}

/**
 * The body's bytes, at most `limit`: Content-Length is checked before reading, the
 * stream is cut off once it passes the limit, and a gzip body (Content-Encoding: gzip) may not
 * inflate past it either. Read from Node's request where the hub serves it (no web stream per
 * request), else from the web Request.
 */
async function readBody(c: Context, limit: number): Promise<Buffer> {
  const declared = c.req.header('content-length');
  if (declared !== undefined && Number(declared) > limit) throw tooLarge(limit);
  const encoding = (c.req.header('content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip') {
    throw new HttpError(415, 'bad_request', `Content-Encoding ${JSON.stringify(encoding)} is not supported; send identity or gzip`);
  }
  const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
  const raw = incoming instanceof IncomingMessage && !incoming.readableDidRead ? await nodeBytes(incoming, limit) : await webBytes(c.req.raw, limit);
  if (encoding === 'identity') return raw;
  try {
    return await gunzipAsync(raw, { maxOutputLength: limit });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(limit);
    throw new HttpError(400, 'bad_request', 'the body is not valid gzip');
  }
}

function nodeBytes(incoming: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err?: Error) => {
      incoming.off('data', onData).off('end', onEnd).off('error', onClose).off('close', onClose);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        incoming.destroy();
        done(tooLarge(limit));
      } else chunks.push(chunk);
    };
    const onEnd = () => done();
    // The client went away mid-body (Node's "aborted"): a client's doing, not the hub's failure.
    const onClose = () => done(new HttpError(400, 'bad_request', 'the request body ended early'));
    incoming.on('data', onData).on('end', onEnd).on('error', onClose).on('close', onClose);
  });
}

async function webBytes(req: Request, limit: number): Promise<Buffer> {
  if (!req.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}
