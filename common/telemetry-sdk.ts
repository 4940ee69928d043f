/**
 * The OpenTelemetry SDK of one process (the hub, or an agent): a MeterProvider read by the
 * Prometheus serializer (the hub's GET /metrics; an agent's own port with `serve`), plus OTLP export of metrics and traces when the standard OTEL_* variables ask for
 * it (OTEL_EXPORTER_OTLP_ENDPOINT or the per-signal *_METRICS_ENDPOINT / *_TRACES_ENDPOINT;
 * OTEL_EXPORTER_OTLP[_METRICS|_TRACES]_HEADERS, OTEL_EXPORTER_OTLP_TIMEOUT, OTEL_SERVICE_NAME,
 * OTEL_RESOURCE_ATTRIBUTES, OTEL_METRIC_EXPORT_INTERVAL, OTEL_BSP_SCHEDULE_DELAY,
 * OTEL_{METRICS,TRACES}_EXPORTER=none, OTEL_SDK_DISABLED), read from the given environment only.
 * OTLP goes over HTTP with JSON bodies. The instrumentation itself (server/telemetry/,
 * agents/agent-instruments.ts) only sees the API.
 */
import type { Meter, Tracer } from '@opentelemetry/api';
import { trace } from '@opentelemetry/api';
import { MeterProvider, PeriodicExportingMetricReader, type IMetricReader } from '@opentelemetry/sdk-metrics';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { FLEETSCOPE_VERSION } from '../schema/version.ts';

/** What the environment asks of OTLP export (pure: see otlpSettings). */
export interface OtlpSettings {
  /** Where metrics and traces go (null: not exported). */
  metricsUrl: string | null;
  tracesUrl: string | null;
  metricsHeaders: Record<string, string>;
  tracesHeaders: Record<string, string>;
  timeoutMs: number;
  intervalMs: number;
  /** How long finished spans wait to be sent in a batch (OTEL_BSP_SCHEDULE_DELAY). */
  spanDelayMs: number;
  /** A protocol asked for that is not the one used (http/json), to warn about. */
  protocolNote: string | null;
}

type Env = Record<string, string | undefined>;

const truthy = (v: string | undefined) => v !== undefined && v.trim().toLowerCase() === 'true';
const set = (v: string | undefined) => v !== undefined && v.trim() !== '';

/** A positive number of ms from the variable, else the default. */
function ms(v: string | undefined, dflt: number, min = 1): number {
  const n = Number(v);
  return v !== undefined && v.trim() !== '' && Number.isFinite(n) && n >= min ? n : dflt;
}

/** `k=v,k2=v2` (W3C baggage-like, values percent-decoded), as OTEL_EXPORTER_OTLP_HEADERS. */
export function parseKeyValues(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (raw ?? '').split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    try {
      out[decodeURIComponent(part.slice(0, eq).trim())] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      /* a malformed pair is skipped */
    }
  }
  return out;
}

/** The signal's URL: its own *_ENDPOINT as is, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/<signal>. */
function signalUrl(env: Env, signal: 'metrics' | 'traces'): string | null {
  const own = env[`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`];
  if (set(own)) return own!.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  return set(base) ? `${base!.trim().replace(/\/+$/, '')}/v1/${signal}` : null;
}

/** Which OTLP signals the OTEL_* variables turn on, where they go and how. */
export function otlpSettings(env: Env): OtlpSettings {
  const off = truthy(env.OTEL_SDK_DISABLED);
  const exporter = (name: string | undefined) => (name ?? 'otlp').split(',').map((s) => s.trim()).includes('otlp');
  const metricsUrl = !off && exporter(env.OTEL_METRICS_EXPORTER) ? signalUrl(env, 'metrics') : null;
  const tracesUrl = !off && exporter(env.OTEL_TRACES_EXPORTER) ? signalUrl(env, 'traces') : null;
  const common = parseKeyValues(env.OTEL_EXPORTER_OTLP_HEADERS);
  const protocol = env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim();
  return {
    metricsUrl,
    tracesUrl,
    metricsHeaders: { ...common, ...parseKeyValues(env.OTEL_EXPORTER_OTLP_METRICS_HEADERS) },
    tracesHeaders: { ...common, ...parseKeyValues(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS) },
    timeoutMs: ms(env.OTEL_EXPORTER_OTLP_TIMEOUT, 10_000),
    intervalMs: ms(env.OTEL_METRIC_EXPORT_INTERVAL, 60_000, 100),
    spanDelayMs: ms(env.OTEL_BSP_SCHEDULE_DELAY, 5_000),
    protocolNote: protocol && protocol !== 'http/json' && (metricsUrl || tracesUrl) ? `OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported; OTLP is sent as http/json` : null,
  };
}

/** `key=value,key=value` of OTEL_RESOURCE_ATTRIBUTES (values percent-decoded). */
export function resourceAttributes(env: Env, serviceName: string): Record<string, string> {
  const out: Record<string, string> = { 'service.name': serviceName, 'service.version': FLEETSCOPE_VERSION };
  Object.assign(out, parseKeyValues(env.OTEL_RESOURCE_ATTRIBUTES));
  if (set(env.OTEL_SERVICE_NAME)) out['service.name'] = env.OTEL_SERVICE_NAME!.trim();
  return out;
}

export interface TelemetrySdk {
  /** Meter for the process's instruments. */
  meter: Meter;
  /** Tracer: OTLP-exporting when traces are on, else the API's global (a no-op unless the embedder set one). */
  tracer: Tracer;
  settings: OtlpSettings;
  /** GET /metrics: the instruments in Prometheus text. */
  prometheusText(): Promise<string>;
  /** Export what is pending and stop. */
  shutdown(): Promise<void>;
}

/** An HTTP server of its own for GET /metrics (the agent's --metrics-port). */
export interface ServeMetrics {
  port: number;
  host: string;
}

/** Start the SDK for one process (`service` names it: fleetscope-hub, fleetscope-agent). */
export async function startTelemetrySdk(service: string, env: Env = process.env, serve?: ServeMetrics): Promise<TelemetrySdk> {
  const settings = otlpSettings(env);
  const resource: Resource = resourceFromAttributes(resourceAttributes(env, service));
  let prometheus!: PrometheusExporter;
  if (serve) {
    await new Promise<void>((resolve, reject) => {
      prometheus = new PrometheusExporter({ port: serve.port, host: serve.host, endpoint: '/metrics' }, (err) => (err ? reject(err) : resolve()));
    });
  } else prometheus = new PrometheusExporter({ preventServerStart: true });
  const readers: IMetricReader[] = [prometheus];
  if (settings.metricsUrl) {
    const exporter = new OTLPMetricExporter({ url: settings.metricsUrl, headers: settings.metricsHeaders, timeoutMillis: settings.timeoutMs });
    readers.push(new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: settings.intervalMs, exportTimeoutMillis: Math.min(settings.timeoutMs, settings.intervalMs) }));
  }
  const meterProvider = new MeterProvider({ resource, readers });
  const tracerProvider = settings.tracesUrl
    ? new BasicTracerProvider({
        resource,
        spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.tracesUrl, headers: settings.tracesHeaders, timeoutMillis: settings.timeoutMs }), { scheduledDelayMillis: settings.spanDelayMs })],
      })
    : null;
  const serializer = new PrometheusSerializer('', false);
  const scope = { name: service, version: FLEETSCOPE_VERSION };
  return {
    meter: meterProvider.getMeter(scope.name, scope.version),
    tracer: (tracerProvider ?? trace.getTracerProvider()).getTracer(scope.name, scope.version),
    settings,
    async prometheusText() {
      const { resourceMetrics } = await prometheus.collect();
      return serializer.serialize(resourceMetrics);
    },
    async shutdown() {
      await Promise.allSettled([meterProvider.shutdown(), tracerProvider?.shutdown(), serve ? prometheus.stopServer() : undefined]);
    },
  };
}
