/**
 * Diagnostics channels (node:diagnostics_channel) through which deeper parts of the hub report
 * what self-observability measures, without depending on it: the store's writer client publishes
 * each fold, the alert delivery worker each webhook attempt. Publishing with no subscriber costs
 * next to nothing. hub-instruments.ts subscribes.
 */
import { channel } from 'node:diagnostics_channel';

/** The compactor folded the sample log into chunks and rollups (timing of its last step). */
export interface FoldEvent {
  upToLogId: number;
  planMs: number;
  writeMs: number;
}

/** One webhook attempt finished: HTTP status (null: no answer), what happens to the row next. */
export interface DeliveryEvent {
  receiver: string;
  status: number | null;
  outcome: 'done' | 'retry' | 'dead';
  /** Epoch ms when the request started, and how long it took. */
  startedAt: number;
  ms: number;
  error: string | null;
}

export const foldChannel = channel('fleetscope:store:fold');
export const deliveryChannel = channel('fleetscope:alerts:delivery');
