/**
 * The hub's own metrics and spans, through the OpenTelemetry API only (the SDK is
 * common/telemetry-sdk.ts): ingest by way in, commit latency, writer backlog, withheld acks,
 * folds, live clients and frames, history query latency, alert evaluation and transitions, webhook
 * deliveries and the outbox, what waits to be folded, the live bus (`--bus`). Ingest reports through its `probe` (this class), the alert engine to
 * it as one of its sinks, the store and the alert delivery worker through diagnostics channels
 * (telemetry-channels.ts); gauges are read when a reader collects.
 */
import { SpanStatusCode, type Attributes, type BatchObservableResult, type Meter, type ObservableResult, type Tracer } from '@opentelemetry/api';
import type { IngestProbe, IngestWay } from '../ingest.ts';
import type { BridgeStats } from '../bus/bus-bridge.ts';
import type { BusStats } from '../bus/live-bus.ts';
import { deliveryChannel, foldChannel, type DeliveryEvent, type FoldEvent } from './telemetry-channels.ts';

/** What the gauges read, at collection time. */
export interface HubGauges {
  /** Sample rows handed to the writer and not committed (Store.writeBacklog). */
  writeBacklog(): number;
  /** Open /ws/live clients, frames handed to them and frames skipped for lagging ones (LiveFanout). */
  liveClients(): number;
  liveFrames(): { sent: number; dropped: number };
  /** Alert notifications waiting in the outbox (all receivers). */
  outboxDepth(): number;
  /** Alert rules in force (enabled), built-in and user-defined. */
  alertRules(): number;
  /** What waits to be folded (Store.foldBacklog); null (or absent): the store does not tell. */
  foldBacklog?(): { samples: number; oldestMs: number | null } | null;
  /** The live bus's counters and state (`--bus`); null (or absent): no bus. */
  bus?(): HubBusView | null;
}

/** What the bus gauges read of a hub's live bus. */
export interface HubBusView {
  stats: Readonly<BusStats>;
  bridge: Readonly<BridgeStats>;
  connected: boolean;
}

/** Bus message kinds, as the `kind` label has them. */
const BUS_KINDS = ['samples', 'status', 'alerts', 'summary', 'sync'] as const;

/** Latency buckets in seconds: 0.5 ms to 30 s. */
const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class HubInstruments implements IngestProbe {
  private readonly ingested;
  private readonly rejections;
  private readonly commitSeconds;
  private readonly withheld;
  private readonly foldSeconds;
  private readonly historySeconds;
  private readonly deliveries;
  private readonly evaluatedSamples;
  private readonly evaluationSeconds;
  private readonly transitions;
  private readonly deliverySeconds;
  private readonly unsubscribe: () => void;
  private readonly removeGauges: () => void;

  constructor(
    meter: Meter,
    private readonly tracer: Tracer,
    gauges: HubGauges,
  ) {
    const seconds = (name: string, description: string) => meter.createHistogram(name, { description, unit: 's', advice: { explicitBucketBoundaries: SECONDS_BUCKETS } });
    this.ingested = meter.createCounter('fleetscope_ingest_samples', { description: 'Chip samples stored, by way in (ws, line_protocol).' });
    this.rejections = meter.createCounter('fleetscope_ingest_rejected', { description: 'Agent frames, write requests or lines refused, by way in and error code.' });
    this.commitSeconds = seconds('fleetscope_ingest_commit_duration_seconds', 'Time from handing a batch to the writer to its commit, by way in.');
    this.withheld = meter.createCounter('fleetscope_ingest_acks_withheld', { description: 'Batches or write requests held until the writer caught up (backpressure), by way in.' });
    this.foldSeconds = seconds('fleetscope_store_fold_duration_seconds', 'Compactor fold steps (log into chunks and rollups), by phase (plan, write).');
    this.historySeconds = seconds('fleetscope_history_query_duration_seconds', 'History queries until the answer starts, by endpoint, storage tier and status.');
    this.evaluatedSamples = meter.createCounter('fleetscope_alerts_evaluated_samples', { description: 'Committed samples the alert engine evaluated against the rules in force.' });
    this.evaluationSeconds = seconds('fleetscope_alerts_evaluation_duration_seconds', 'Time the alert engine took to evaluate one commit\'s samples (on the event loop).');
    this.transitions = meter.createCounter('fleetscope_alerts_transitions', { description: 'Alert state transitions, by the state entered (pending, firing, resolved, …).' });
    this.deliveries = meter.createCounter('fleetscope_alerts_webhook_deliveries', { description: 'Webhook attempts, by outcome (done, retry, dead).' });
    this.deliverySeconds = seconds('fleetscope_alerts_webhook_duration_seconds', 'Webhook request time, by outcome.');

    const backlog = meter.createObservableGauge('fleetscope_store_write_backlog', { description: 'Sample rows handed to the writer thread and not committed yet.' });
    const clients = meter.createObservableGauge('fleetscope_live_clients', { description: 'Open /ws/live connections.' });
    const frames = meter.createObservableCounter('fleetscope_live_frames', { description: 'Live frames handed to sockets (state=sent) or skipped for a lagging client (state=dropped).' });
    const outbox = meter.createObservableGauge('fleetscope_alerts_outbox_depth', { description: 'Alert notifications waiting to be delivered.' });
    const rules = meter.createObservableGauge('fleetscope_alerts_rules', { description: 'Alert rules in force (enabled).' });
    const foldBacklog = meter.createObservableGauge('fleetscope_store_fold_backlog_samples', { description: 'Samples committed to the sample log and not folded into chunks and rollups yet (the compactor\'s queue).' });
    const foldAge = meter.createObservableGauge('fleetscope_store_fold_backlog_age_seconds', { description: 'How long ago the oldest sample not folded yet was committed (0: none waits).' });
    const bus = {
      connected: meter.createObservableGauge('fleetscope_bus_connected', { description: 'Whether the live bus (--bus) is connected to NATS (1) or not (0).' }),
      reconnects: meter.createObservableCounter('fleetscope_bus_reconnects', { description: 'Live bus connections made again after the first.' }),
      disconnects: meter.createObservableCounter('fleetscope_bus_disconnects', { description: 'Live bus connections lost.' }),
      published: meter.createObservableCounter('fleetscope_bus_messages_published', { description: 'Messages published on the live bus, by kind (samples, status, alerts, summary, sync).' }),
      publishedBytes: meter.createObservableCounter('fleetscope_bus_published_bytes', { description: 'Bytes of the messages published on the live bus.' }),
      received: meter.createObservableCounter('fleetscope_bus_messages_received', { description: 'Messages of other hubs taken from the live bus, by kind.' }),
      dropped: meter.createObservableCounter('fleetscope_bus_messages_dropped', { description: 'Messages not published: the live bus was not connected, by kind.' }),
      malformed: meter.createObservableCounter('fleetscope_bus_messages_malformed', { description: 'Messages on the live bus that did not decode (dropped).' }),
      queueDropped: meter.createObservableCounter('fleetscope_bus_queue_dropped', { description: 'Samples (kind=samples) or status changes (kind=status) not queued for publishing: the queue was full.' }),
      remoteSamples: meter.createObservableCounter('fleetscope_bus_remote_samples', { description: 'Samples of other hubs taken in from the live bus.' }),
      remoteHubs: meter.createObservableGauge('fleetscope_bus_remote_hubs', { description: 'Other hubs heard from on the live bus (and not gone quiet).' }),
    };
    const observe = (r: ObservableResult, read: () => number, attrs?: Attributes) => {
      try {
        r.observe(read(), attrs);
      } catch {
        /* a source closing while a reader collects: no value this time */
      }
    };
    const cb = {
      backlog: (r: ObservableResult) => observe(r, gauges.writeBacklog),
      clients: (r: ObservableResult) => observe(r, gauges.liveClients),
      outbox: (r: ObservableResult) => observe(r, gauges.outboxDepth),
      rules: (r: ObservableResult) => observe(r, gauges.alertRules),
      frames: (r: ObservableResult) => {
        const f = gauges.liveFrames();
        r.observe(f.sent, { state: 'sent' });
        r.observe(f.dropped, { state: 'dropped' });
      },
      fold: (r: BatchObservableResult) => {
        let b: ReturnType<NonNullable<HubGauges['foldBacklog']>>;
        try {
          b = gauges.foldBacklog?.() ?? null;
        } catch {
          return; // the store closing while a reader collects
        }
        if (!b) return;
        r.observe(foldBacklog, b.samples);
        r.observe(foldAge, b.oldestMs === null ? 0 : Math.max(0, (Date.now() - b.oldestMs) / 1000));
      },
      bus: (r: BatchObservableResult) => {
        const v = gauges.bus?.();
        if (!v) return;
        const { stats, bridge } = v;
        r.observe(bus.connected, v.connected ? 1 : 0);
        r.observe(bus.reconnects, Math.max(0, stats.connects - 1));
        r.observe(bus.disconnects, stats.disconnects);
        for (const kind of BUS_KINDS) {
          r.observe(bus.published, stats.publishedByKind[kind], { kind });
          r.observe(bus.received, stats.receivedByKind[kind], { kind });
          r.observe(bus.dropped, stats.droppedByKind[kind], { kind });
        }
        r.observe(bus.publishedBytes, stats.publishedBytes);
        r.observe(bus.malformed, stats.malformed);
        r.observe(bus.queueDropped, bridge.droppedSamples, { kind: 'samples' });
        r.observe(bus.queueDropped, bridge.droppedStatus, { kind: 'status' });
        r.observe(bus.remoteSamples, bridge.remoteSamples);
        r.observe(bus.remoteHubs, bridge.remoteHubs);
      },
    };
    const busObservables = Object.values(bus);
    backlog.addCallback(cb.backlog);
    clients.addCallback(cb.clients);
    outbox.addCallback(cb.outbox);
    rules.addCallback(cb.rules);
    frames.addCallback(cb.frames);
    meter.addBatchObservableCallback(cb.fold, [foldBacklog, foldAge]);
    meter.addBatchObservableCallback(cb.bus, busObservables);
    this.removeGauges = () => {
      backlog.removeCallback(cb.backlog);
      clients.removeCallback(cb.clients);
      outbox.removeCallback(cb.outbox);
      rules.removeCallback(cb.rules);
      frames.removeCallback(cb.frames);
      meter.removeBatchObservableCallback(cb.fold, [foldBacklog, foldAge]);
      meter.removeBatchObservableCallback(cb.bus, busObservables);
    };

    const onFold = (m: unknown) => this.fold(m as FoldEvent);
    const onDelivery = (m: unknown) => this.delivery(m as DeliveryEvent);
    foldChannel.subscribe(onFold);
    deliveryChannel.subscribe(onDelivery);
    this.unsubscribe = () => {
      foldChannel.unsubscribe(onFold);
      deliveryChannel.unsubscribe(onDelivery);
    };
  }

  committed(way: IngestWay, stored: number, seconds: number): void {
    this.ingested.add(stored, { way });
    this.commitSeconds.record(seconds, { way });
  }

  rejected(way: IngestWay, reason: string, count = 1): void {
    this.rejections.add(count, { way, reason });
  }

  ackWithheld(way: IngestWay): void {
    this.withheld.add(1, { way });
  }

  evaluated(samples: number, seconds: number): void {
    this.evaluatedSamples.add(samples);
    this.evaluationSeconds.record(seconds);
  }

  /** Alert transitions (an AlertSink of the alert engine). */
  publish(events: readonly { to: string }[]): void {
    for (const e of events) this.transitions.add(1, { to: e.to });
  }

  /** A history query ran (history-timing.ts): its latency, and the span it was traced in. */
  historyQuery(endpoint: string, tier: string, status: number, seconds: number): void {
    this.historySeconds.record(seconds, { endpoint, tier, status });
  }

  /** Start a span for a history query; the caller ends it. */
  startHistorySpan(endpoint: string) {
    return this.tracer.startSpan(`history ${endpoint}`, { attributes: { 'fleetscope.history.endpoint': endpoint } });
  }

  private fold(e: FoldEvent): void {
    this.foldSeconds.record(e.planMs / 1000, { phase: 'plan' });
    this.foldSeconds.record(e.writeMs / 1000, { phase: 'write' });
    // The fold ran on the compactor thread: its span is recorded after the fact, ending now.
    const end = Date.now();
    const span = this.tracer.startSpan('store fold', { startTime: end - e.planMs - e.writeMs, attributes: { 'fleetscope.fold.up_to_log_id': e.upToLogId, 'fleetscope.fold.plan_ms': e.planMs, 'fleetscope.fold.write_ms': e.writeMs } });
    span.end(end);
  }

  private delivery(e: DeliveryEvent): void {
    this.deliveries.add(1, { outcome: e.outcome });
    this.deliverySeconds.record(e.ms / 1000, { outcome: e.outcome });
    const span = this.tracer.startSpan('alert webhook', {
      startTime: e.startedAt,
      attributes: { 'fleetscope.alerts.receiver': e.receiver, 'fleetscope.alerts.outcome': e.outcome, ...(e.status === null ? {} : { 'http.response.status_code': e.status }) },
    });
    if (e.outcome !== 'done') span.setStatus({ code: SpanStatusCode.ERROR, message: e.error ?? e.outcome });
    span.end(e.startedAt + e.ms);
  }

  /** Stop listening (the hub closes). */
  close(): void {
    this.unsubscribe();
    this.removeGauges();
  }
}
