/**
 * The hub's own metrics and spans, through the OpenTelemetry API only (the SDK is
 * common/telemetry-sdk.ts): ingest by way in, commit latency, writer backlog, withheld acks,
 * folds, live clients and frames, history query latency, alert evaluation and transitions, webhook
 * deliveries and the outbox. Ingest reports through its `probe` (this class), the alert engine to
 * it as one of its sinks, the store and the alert delivery worker through diagnostics channels
 * (telemetry-channels.ts); gauges are read when a reader collects.
 */
import { SpanStatusCode, type Attributes, type Meter, type ObservableResult, type Tracer } from '@opentelemetry/api';
import type { IngestProbe, IngestWay } from '../ingest.ts';
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
}

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
    };
    backlog.addCallback(cb.backlog);
    clients.addCallback(cb.clients);
    outbox.addCallback(cb.outbox);
    rules.addCallback(cb.rules);
    frames.addCallback(cb.frames);
    this.removeGauges = () => {
      backlog.removeCallback(cb.backlog);
      clients.removeCallback(cb.clients);
      outbox.removeCallback(cb.outbox);
      rules.removeCallback(cb.rules);
      frames.removeCallback(cb.frames);
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
