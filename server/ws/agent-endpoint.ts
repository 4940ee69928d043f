/**
 * /ws/agent: hello (agent, host, chip inventory) -> sample batches -> ack after commit.
 * Frames are validated one at a time per connection; commits of successive batches overlap in the
 * writer and acks go out in batch order. Invalid frames get an error frame with a stable code and
 * nothing of them is stored.
 *
 * Ownership (server/ownership.ts): a hello for an agent id bound to another token is refused
 * (`agent_owned`, closed with 1008); one for a connected id with the same token replaces the older
 * connection (closed with 1000; frames still arriving on it are ignored). Chips another agent owns
 * are left out of a hello or inventory and named in one `chip_owned` error frame; their samples in
 * later batches are left out too (the ack's `stored` counts what was kept), so the agent's own chips
 * keep flowing.
 */
import type { WebSocket, RawData } from 'ws';
import { parseAgentFrame, parseBinaryAgentFrame } from '../../schema/parse-frame.ts';
import { BINARY_BATCH_FEATURE, ChipIdCache, decodeBatchFrame, type ChipIdSource } from '../../schema/batch-frame.ts';
import type { Sample } from '../../schema/sample.ts';
import { MAX_BATCH_SAMPLES } from '../../schema/protocol.ts';
import { PROTOCOL_VERSION } from '../../schema/protocol-constants.ts';
import { FLEETSCOPE_VERSION } from '../../schema/version.ts';
import type { HubToAgentMessage } from '../../schema/protocol.ts';
import type { ErrorCode } from '../../schema/error-codes.ts';
import type { AgentSession, Ingest } from '../ingest.ts';
import type { AgentRegistration, InsertResult } from '../store/store.ts';
import { frameToRecord } from './frame-record.ts';
import type { Logger } from '../../common/logger.ts';
import { OPEN_PRINCIPAL, type Principal } from '../auth/tokens.ts';
import { chipOwnedMessage, type ForeignChip } from '../ownership.ts';
import { corkedSender } from './corked-send.ts';
import { DEFAULT_AGENT_SOCKET_BOUNDS, guardAgentSocket, type AgentSocketBounds } from './agent-socket-guard.ts';
import type { EventLoopTurns } from '../event-loop-turns.ts';
import { chipCountProblem } from './agent-limits.ts';

export const HUB_VERSION = FLEETSCOPE_VERSION;
/** After this many rejected frames on one connection the hub closes it with 1008. */
const MAX_ERRORS_PER_CONNECTION = 50;
/** Told to agents in `welcome`: this hub takes work counters in batches, and batches as binary frames (schema/batch-frame.ts). */
const HUB_FEATURES = ['work', BINARY_BATCH_FEATURE];

/**
 * `principal`: who the upgrade authenticated (OPEN_PRINCIPAL on a hub with auth off).
 * `bounds`: time window, hello timeout, frame rate, chips per agent (agent-socket-guard.ts);
 * `turns`: the turns of agent frames the hub's connections share (event-loop-turns.ts).
 */
export function handleAgentSocket(ws: WebSocket, ingest: Ingest, log: Logger, principal: Principal = OPEN_PRINCIPAL, bounds: AgentSocketBounds = DEFAULT_AGENT_SOCKET_BOUNDS, turns?: EventLoopTurns): void {
  let agentId: string | null = null;
  let registration: AgentRegistration | null = null;
  /** Set once the connection is being closed by the hub (hello refused, or replaced): later frames are ignored. */
  let ended = false;
  const session: AgentSession = {
    tokenId: principal.tokenId,
    replaced() {
      ended = true;
      log.info('agent connection replaced by a newer one', { agentId });
      ws.close(1000, 'replaced by a newer connection of this agent');
    },
  };
  let errors = 0;
  /**
   * Whether the hub is behind with this agent: it is not reading the socket (a hold, frames
   * waiting), or owes it more than one ack (batches waiting for their commit: an agent whose window
   * of unacked batches is full stops sending). Its chips are not silent meanwhile (fleet-state.ts
   * agentReading). One batch in flight, the usual state at 1 Hz, is not being behind.
   */
  let behind = false;
  let guardReads = true;
  let unacked = 0;
  const updateBehind = () => {
    const now = !guardReads || unacked > 1;
    if (now === behind) return;
    behind = now;
    if (agentId !== null) ingest.agentReading(agentId, session, !behind);
  };
  const setReading = (on: boolean) => {
    guardReads = on;
    updateBehind();
  };
  const guard = guardAgentSocket(ws, bounds, log, () => agentId !== null || ended, setReading, turns);
  let chain: Promise<void> = Promise.resolve();
  let acks: Promise<void> = Promise.resolve();

  const sendText = corkedSender(ws);
  const send = (msg: HubToAgentMessage) => sendText(JSON.stringify(msg));
  const reject = (code: ErrorCode, message: string, seq?: number) => {
    ingest.metrics.rejectedFrames++;
    ingest.probe?.rejected('ws', code);
    send({ v: PROTOCOL_VERSION, type: 'error', code, message, ...(seq !== undefined ? { seq } : {}) });
    log.warn('agent frame rejected', { agentId, code, message });
    if (++errors >= MAX_ERRORS_PER_CONNECTION) {
      ended = true; // later frames are ignored, and no longer wait for the frame rate
      guard.close('too many invalid frames');
    }
  };
  /** Chips of a hello or inventory left out because other agents own them: one error frame naming them. */
  /** Chips this connection listed that another agent owns: their samples are dropped from its batches. */
  const refused = new Set<string>();
  const tellForeign = (foreign: ForeignChip[]) => {
    if (foreign.length === 0) return;
    for (const f of foreign) refused.add(f.chipId);
    const message = chipOwnedMessage(foreign);
    send({ v: PROTOCOL_VERSION, type: 'error', code: 'chip_owned', message, chipIds: foreign.map((f) => f.chipId) });
    log.warn('agent listed chips of other agents', { agentId, chips: foreign.length, message });
  };

  /** The chip-id strings of this connection's binary frames, reused from frame to frame. */
  const chipIds = new ChipIdCache();
  /** A binary batch frame's samples, decoded again (it was decoded and checked before; `ids`: its chip ids, when known). */
  const parseAgain = (frame: Buffer, ids: ChipIdSource = chipIds): Sample[] => {
    const dec = decodeBatchFrame(frame, ids);
    if (!dec.ok) throw new Error(`a binary frame decoded before did not decode again: ${dec.message}`);
    return dec.rec.samples as Sample[];
  };
  /** One frame: JSON text, or a binary batch frame (a Buffer). */
  const handle = async (raw: string | Buffer): Promise<void> => {
    if (ended) return;
    // Backpressure: while the writer is behind, stop reading this agent's socket (its unacked
    // window fills and it waits). A connected agent's frames are batches; each waits here as it
    // came, before it is decoded: decoded samples held across the wait outlived the main heap's
    // young generation, and were most of what it promoted at full ingest.
    if (agentId !== null && ingest.writerBusy()) {
      guard.hold('writer');
      ingest.probe?.ackWithheld('ws');
      await ingest.writerReady();
      guard.release('writer');
      if (ended) return;
    }
    if (typeof raw !== 'string' && commitFrame(raw)) return;
    const res = typeof raw === 'string' ? parseAgentFrame(raw, Date.now(), bounds.window) : parseBinaryAgentFrame(raw, Date.now(), bounds.window, chipIds);
    if (!res.ok) return reject(res.code, res.message);
    const msg = res.msg;
    const tooMany = msg.type === 'batch' ? null : chipCountProblem(msg.chips.length, bounds.maxChipsPerAgent);
    if (tooMany !== null) return reject('out_of_range', tooMany);
    if (msg.type === 'hello') {
      if (agentId !== null) return reject('duplicate_hello', 'hello was already sent on this connection');
      const { agentId: id, agentVersion, host, intervalMs, chips } = msg;
      const outcome = await ingest.hello({ agentId: id, agentVersion, host, intervalMs, chips }, session);
      if (!outcome.ok) {
        reject(outcome.code, outcome.message);
        ended = true;
        guard.close(outcome.code);
        return;
      }
      registration = outcome.registration;
      agentId = id;
      if (behind) ingest.agentReading(agentId, session, false);
      log.info('agent connected', { agentId, host: host.hostname, chips: registration.chips.length, token: principal.tokenId });
      send({ v: PROTOCOL_VERSION, type: 'welcome', hubVersion: HUB_VERSION, maxBatchSamples: MAX_BATCH_SAMPLES, features: HUB_FEATURES });
      return tellForeign(outcome.foreign);
    }
    if (agentId === null || registration === null) return reject('no_hello', 'send hello first', msg.type === 'batch' ? msg.seq : undefined);
    if (msg.type === 'inventory') {
      const outcome = await ingest.updateInventory({ ...registration, chips: msg.chips });
      registration = outcome.registration;
      log.info('agent inventory changed', { agentId, chips: registration.chips.length });
      return tellForeign(outcome.foreign);
    }
    const owner = agentId;
    const foreign = msg.samples.find((s) => !ingest.ownsChip(owner, s.chipId) && !refused.has(s.chipId));
    if (foreign) return reject('unknown_chip', `chip ${foreign.chipId} was not announced in this agent's hello or inventory`, msg.seq);
    // Samples of chips another agent owns (told with chip_owned) are left out; the rest is stored and acked.
    const ownSamples = (all: Sample[]) => (refused.size ? all.filter((s) => ingest.ownsChip(owner, s.chipId)) : all);
    const samples = ownSamples(msg.samples);
    // Commits overlap (the writer groups them); acks still go out in the order batches came in.
    const seq = msg.seq;
    // A binary frame passed as decoded (no zod output) is decoded again after the commit, for the
    // fleet state, live fan-out and alerting: the samples decoded now are not held across it.
    const frame = typeof raw === 'string' || !res.verbatim ? null : raw;
    const again = frame && (() => ownSamples(parseAgain(frame)));
    track(seq, ingest.commit(owner, seq, samples, { backfill: msg.backfill, health: msg.health, dropped: msg.dropped, work: msg.work }, again ?? undefined));
  };
  /** A batch's commit, acknowledged (or its failure answered) after the batches before it. */
  const track = (seq: number, committed: Promise<InsertResult>) => {
    unacked++;
    updateBehind();
    // Its failure is answered in order below, maybe after earlier acks: handled from now on, so a
    // commit failing while they wait is not an unhandled rejection (which ends the process).
    committed.catch(() => undefined);
    acks = acks.then(() =>
      committed
        .then(
          ({ stored }) => send({ v: PROTOCOL_VERSION, type: 'ack', seq, stored }),
          (err: unknown) => {
            log.error('batch commit failed', { agentId, seq, err: String(err) });
            send({ v: PROTOCOL_VERSION, type: 'error', code: 'internal', message: 'internal error while storing the batch; resend it', seq });
          },
        )
        .finally(() => {
          unacked--;
          updateBehind();
        }),
    );
  };
  /**
   * A registered agent's binary batch read straight into a sample record (frame-record.ts), when
   * it is a common one naming only the agent's own chips; false: it goes the object way.
   */
  const commitFrame = (frame: Buffer): boolean => {
    const owner = agentId;
    if (owner === null || refused.size > 0 || !ingest.takesRecords) return false;
    const fr = frameToRecord(frame, Date.now(), bounds.window, chipIds);
    if (fr === null) return false;
    for (const id of fr.chips) if (!ingest.ownsChip(owner, id)) return false;
    track(fr.seq, ingest.commitRecord(owner, fr.seq, fr, fr.report, () => parseAgain(frame, fr.known)));
    return true;
  };

  ws.on('message', (data: RawData, isBinary: boolean) => {
    const due = guard.frame(); // beyond the frame rate: handled once due
    const raw = isBinary ? binaryFrame(data) : data.toString();
    chain = chain
      .then(() => guard.turn(due))
      .then(() => handle(raw))
      .catch((err: unknown) => {
        log.error('agent frame failed', { agentId, err: String(err) });
        send({ v: PROTOCOL_VERSION, type: 'error', code: 'internal', message: 'internal error while storing the batch; resend it' });
        // A hello that failed (the database away, say) is not waited on: the agent reconnects (its backoff) and says hello again.
        if (agentId === null && !ended) {
          ended = true;
          ws.close(1011, 'the hub could not register the agent; reconnect');
        }
      });
  });
  ws.on('close', () => {
    void chain.then(() => acks).finally(() => {
      if (agentId) {
        ingest.agentGone(agentId, session);
        log.info('agent disconnected', { agentId });
      }
    });
  });
  ws.on('error', (err) => log.warn('agent socket error', { agentId, err: err.message }));
}

/** A binary message's bytes as one Buffer (ws gives a Buffer unless the socket's binaryType was changed). */
function binaryFrame(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}
