import { describe, expect, it } from 'vitest';
import { otlpSettings, parseKeyValues, resourceAttributes } from '../../common/telemetry-sdk.ts';
import { acceptsGzip } from '../../server/routes/metrics-routes.ts';

describe('otlpSettings (the OTEL_* variables)', () => {
  it.each([
    ['nothing set: no export', {}, { metricsUrl: null, tracesUrl: null }],
    ['the base endpoint: both signals under /v1/…', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }, { metricsUrl: 'http://c:4318/v1/metrics', tracesUrl: 'http://c:4318/v1/traces' }],
    ['a signal endpoint is used as is, alone', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:1/x' }, { metricsUrl: null, tracesUrl: 'http://t:1/x' }],
    ['the signal endpoint wins over the base', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://m:9/m' }, { metricsUrl: 'http://m:9/m', tracesUrl: 'http://c:4318/v1/traces' }],
    ['OTEL_TRACES_EXPORTER=none turns traces off', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }, { metricsUrl: 'http://c:4318/v1/metrics', tracesUrl: null }],
    ['OTEL_SDK_DISABLED=true turns both off', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }, { metricsUrl: null, tracesUrl: null }],
  ])('%s', (_name, env, want) => {
    expect(otlpSettings(env)).toMatchObject(want);
  });

  it('reads intervals, timeouts and headers, and keeps defaults for bad values', () => {
    const s = otlpSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_METRIC_EXPORT_INTERVAL: '1500', OTEL_EXPORTER_OTLP_TIMEOUT: 'soon', OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_EXPORTER_OTLP_HEADERS: 'api-key=a%20b,x=1', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x=2' });
    expect(s).toMatchObject({ intervalMs: 1500, timeoutMs: 10_000, spanDelayMs: 50, metricsHeaders: { 'api-key': 'a b', x: '1' }, tracesHeaders: { 'api-key': 'a b', x: '2' }, protocolNote: null });
    expect(otlpSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_METRIC_EXPORT_INTERVAL: '5' }).intervalMs).toBe(60_000);
  });

  it('warns about a protocol it does not speak', () => {
    expect(otlpSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).protocolNote).toBe('OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported; OTLP is sent as http/json');
    expect(otlpSettings({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).protocolNote).toBeNull();
  });

  it('builds the resource: service name, version, OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME last', () => {
    const r = resourceAttributes({ OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,service.name=ignored,bad', OTEL_SERVICE_NAME: 'hub-eu1' }, 'fleetscope-hub');
    expect(r).toMatchObject({ 'service.name': 'hub-eu1', 'deployment.environment': 'prod' });
    expect(r['service.version']).toMatch(/^\d+\.\d+\.\d+/);
    expect(parseKeyValues('a=1,,=x,b=%zz,c=3')).toEqual({ a: '1', c: '3' });
  });
});

describe('acceptsGzip', () => {
  it.each([
    [undefined, false],
    ['gzip', true],
    ['identity', false],
    ['deflate, gzip;q=0.5', true],
    ['gzip;q=0', false],
    ['GZIP', true],
    ['x-gzip', false],
  ])('%j -> %s', (header, want) => expect(acceptsGzip(header)).toBe(want));
});
