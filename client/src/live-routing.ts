/** Pure helpers of the live connection: topic keys, frame decoding, per-topic message routing. */
import type { LiveServerMessage, LiveTopic, SamplesMessage, StatusMessage } from '../../schema/protocol.ts';
import { PROTOCOL_VERSION } from '../../schema/protocol-constants.ts';

/** Stable map key of a topic. */
export function topicKey(topic: LiveTopic): string {
  return topic.topic === 'chip' ? `chip:${topic.chipId}` : topic.topic;
}

const decoder = new TextDecoder();

/** A frame's JSON text: text frames as is, binary frames (ArrayBuffer / view) decoded as UTF-8. */
export function frameText(data: unknown): string | null {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return decoder.decode(data);
  if (ArrayBuffer.isView(data)) return decoder.decode(data);
  return null;
}

/** Cheap shape check; the hub validated the frame before sending it. */
export function isServerMessage(x: unknown): x is LiveServerMessage {
  return typeof x === 'object' && x !== null && (x as { v?: unknown }).v === PROTOCOL_VERSION && typeof (x as { type?: unknown }).type === 'string';
}

/**
 * What a topic's handlers see of `msg`, or null when it is not theirs. Fleet handlers get all but
 * chip histories and alert frames; firehose (`samples` topic) handlers get `samples` frames;
 * `alerts` handlers get `alert` and `alerts-snapshot` frames; chip handlers get
 * their chip's share of `samples`, `status` and `inventory` frames and its `chip-history`.
 * Every topic gets `error` frames.
 */
export function route(topic: LiveTopic, msg: LiveServerMessage): LiveServerMessage | null {
  if (topic.topic === 'fleet') return msg.type === 'chip-history' || msg.type === 'alert' || msg.type === 'alerts-snapshot' ? null : msg;
  if (topic.topic === 'samples') return msg.type === 'samples' || msg.type === 'error' ? msg : null;
  if (topic.topic === 'alerts') return msg.type === 'alert' || msg.type === 'alerts-snapshot' || msg.type === 'error' ? msg : null;
  const id = topic.chipId;
  switch (msg.type) {
    case 'chip-history':
      return msg.chipId === id ? msg : null;
    case 'samples': {
      const samples = msg.samples.filter((s) => s.chipId === id);
      return samples.length ? ({ v: PROTOCOL_VERSION, type: 'samples', samples } satisfies SamplesMessage) : null;
    }
    case 'status': {
      const changes = msg.changes.filter((c) => c.chipId === id);
      return changes.length ? ({ v: PROTOCOL_VERSION, type: 'status', changes } satisfies StatusMessage) : null;
    }
    case 'inventory': {
      const chips = msg.chips.filter((c) => c.chipId === id);
      return chips.length ? { v: PROTOCOL_VERSION, type: 'inventory', chips } : null;
    }
    case 'error':
      return msg;
    default:
      return null;
  }
}
