/**
 * Self-observability of one hub, assembled: the OpenTelemetry SDK (common/telemetry-sdk.ts) for
 * the `OTEL_*` environment, the instruments reading the hub's parts (its live bus, when it has
 * one, through `startedBusOf`), ingest's probe set. What
 * startHub keeps: the text of GET /metrics, the instruments for the history timing, and close.
 */
import type { Logger } from '../../common/logger.ts';
import { startTelemetrySdk } from '../../common/telemetry-sdk.ts';
import type { AlertEngine } from '../alerts/alert-engine.ts';
import type { Notifier } from '../alerts/notifier.ts';
import type { Ingest } from '../ingest.ts';
import type { LiveFanout } from '../live/live-fanout.ts';
import type { Store } from '../store/store.ts';
import { startedBusOf } from '../bus/start-bus.ts';
import { HubInstruments } from './hub-instruments.ts';

export interface HubTelemetry {
  instruments: HubInstruments;
  prometheusText(): Promise<string>;
  close(): Promise<void>;
}

export async function startHubTelemetry(parts: { store: Store; fanout: LiveFanout; notifier: Notifier; alerts: AlertEngine; ingest: Ingest; log: Logger }, env: Record<string, string | undefined>): Promise<HubTelemetry> {
  const { store, fanout, notifier, alerts, ingest, log } = parts;
  const sdk = await startTelemetrySdk('fleetscope-hub', env);
  if (sdk.settings.protocolNote) log.warn(sdk.settings.protocolNote);
  if (sdk.settings.metricsUrl || sdk.settings.tracesUrl) log.info('OTLP export on', { metrics: sdk.settings.metricsUrl, traces: sdk.settings.tracesUrl });
  const instruments = new HubInstruments(sdk.meter, sdk.tracer, {
    writeBacklog: () => store.writeBacklog(),
    liveClients: () => fanout.size,
    liveFrames: () => ({ sent: fanout.stats.sends, dropped: fanout.stats.skipped }),
    outboxDepth: () => notifier.receivers().reduce((n, r) => n + notifier.pendingCount(r.spec.name), 0),
    alertRules: () => alerts.rules().filter((r) => r.rule.enabled).length,
    foldBacklog: () => store.foldBacklog?.() ?? null,
    // The hub starts its bus (`--bus`) after its telemetry: found through the fan-out it bridges, when read.
    bus: () => {
      const started = startedBusOf(fanout);
      return started ? { stats: started.bus.stats, bridge: started.bridge.stats, connected: started.bus.state().connected } : null;
    },
  });
  ingest.probe = instruments;
  alerts.addSink(instruments);
  return {
    instruments,
    prometheusText: () => sdk.prometheusText(),
    async close() {
      ingest.probe = null;
      instruments.close();
      await sdk.shutdown();
    },
  };
}
