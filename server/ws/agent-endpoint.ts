/**
 * /ws/agent: hello (agent, host, chip inventory) -> sample batches -> ack after commit.
 * Frames are validated one at a time per connection; commits of successive batches overlap in the
 * writer and acks go out in batch order. Invalid frames get an error frame with a stable code and
 * nothing of them is stored.
 */
import type { WebSocket, RawData } from 'ws';
import { parseAgentFrame } from '../../schema/parse-frame.ts';
import { MAX_BATCH_SAMPLES } from '../../schema/protocol.ts';
import { PROTOCOL_VERSION } from '../../schema/protocol-constants.ts';
import { FLEETSCOPE_VERSION } from '../../schema/version.ts';
import type { HubToAgentMessage } from '../../schema/protocol.ts';
import type { ErrorCode } from '../../schema/error-codes.ts';
import type { Ingest } from '../ingest.ts';
import type { AgentRegistration } from '../store/store.ts';
import type { Logger } from '../../common/logger.ts';
import { corkedSender } from './corked-send.ts';

export const HUB_VERSION = FLEETSCOPE_VERSION;
/** After this many rejected frames on one connection the hub closes it with 1008. */
const MAX_ERRORS_PER_CONNECTION = 50;

export function handleAgentSocket(ws: WebSocket, ingest: Ingest, log: Logger): void {
  let agentId: string | null = null;
  let registration: AgentRegistration | null = null;
  let errors = 0;
  let chain: Promise<void> = Promise.resolve();
  let acks: Promise<void> = Promise.resolve();

  const sendText = corkedSender(ws);
  const send = (msg: HubToAgentMessage) => sendText(JSON.stringify(msg));
  const reject = (code: ErrorCode, message: string, seq?: number) => {
    ingest.metrics.rejectedFrames++;
    send({ v: PROTOCOL_VERSION, type: 'error', code, message, ...(seq !== undefined ? { seq } : {}) });
    log.warn('agent frame rejected', { agentId, code, message });
    if (++errors >= MAX_ERRORS_PER_CONNECTION) ws.close(1008, 'too many invalid frames');
  };

  const handle = async (raw: string): Promise<void> => {
    const res = parseAgentFrame(raw, Date.now());
    if (!res.ok) return reject(res.code, res.message);
    const msg = res.msg;
    if (msg.type === 'hello') {
      if (agentId !== null) return reject('duplicate_hello', 'hello was already sent on this connection');
      const { agentId: id, agentVersion, host, intervalMs, chips } = msg;
      registration = { agentId: id, agentVersion, host, intervalMs, chips };
      await ingest.register(registration);
      agentId = id;
      log.info('agent connected', { agentId, host: host.hostname, chips: chips.length });
      return send({ v: PROTOCOL_VERSION, type: 'welcome', hubVersion: HUB_VERSION, maxBatchSamples: MAX_BATCH_SAMPLES });
    }
    if (agentId === null || registration === null) return reject('no_hello', 'send hello first', msg.type === 'batch' ? msg.seq : undefined);
    if (msg.type === 'inventory') {
      registration = { ...registration, chips: msg.chips };
      await ingest.updateInventory(registration);
      log.info('agent inventory changed', { agentId, chips: msg.chips.length });
      return;
    }
    const owner = agentId;
    const foreign = msg.samples.find((s) => !ingest.ownsChip(owner, s.chipId));
    if (foreign) return reject('unknown_chip', `chip ${foreign.chipId} was not announced in this agent's hello or inventory`, msg.seq);
    if (ingest.writerBusy()) {
      // Backpressure: stop reading this agent's socket (its unacked window fills and it waits).
      ws.pause();
      await ingest.writerReady();
      ws.resume();
    }
    // Commits overlap (the writer groups them); acks still go out in the order batches came in.
    const seq = msg.seq;
    const committed = ingest.commit(owner, seq, msg.samples, { backfill: msg.backfill, health: msg.health, dropped: msg.dropped });
    acks = acks.then(() =>
      committed.then(
        ({ stored }) => send({ v: PROTOCOL_VERSION, type: 'ack', seq, stored }),
        (err: unknown) => {
          log.error('batch commit failed', { agentId, seq, err: String(err) });
          send({ v: PROTOCOL_VERSION, type: 'error', code: 'internal', message: 'internal error while storing the batch; resend it', seq });
        },
      ),
    );
  };

  ws.on('message', (data: RawData, isBinary: boolean) => {
    const raw = isBinary ? null : data.toString();
    chain = chain
      .then(() => (raw === null ? reject('bad_frame', 'binary frames are not accepted; send JSON text') : handle(raw)))
      .catch((err: unknown) => {
        log.error('agent frame failed', { agentId, err: String(err) });
        send({ v: PROTOCOL_VERSION, type: 'error', code: 'internal', message: 'internal error while storing the batch; resend it' });
      });
  });
  ws.on('close', () => {
    void chain.then(() => acks).finally(() => {
      if (agentId) {
        ingest.agentGone(agentId);
        log.info('agent disconnected', { agentId });
      }
    });
  });
  ws.on('error', (err) => log.warn('agent socket error', { agentId, err: err.message }));
}
