/**
 * The OpenAPI 3.1 document of the hub's HTTP API. Query parameters of /series, /energy and /top
 * are generated from the zod schemas that validate them (z.toJSONSchema, io 'input'); responses
 * and the older endpoints are described briefly.
 */
import { z } from 'zod';
import { ERROR_CODES } from '../../schema/error-codes.ts';
import { PRECISIONS } from '../line-protocol/parse-line-protocol.ts';
import { energyQuerySchema, isListParam, seriesQuerySchema, topQuerySchema } from '../history/query-schemas.ts';

type Json = Record<string, unknown>;

function jsonSchema(t: z.ZodType, io: 'input' | 'output' = 'input'): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(t, { io, unrepresentable: 'any' }) as Json;
  return rest;
}

/** One OpenAPI query parameter per key of the object schema. */
export function queryParameters(schema: z.ZodObject): Json[] {
  return Object.entries(schema.shape).map(([name, t]) => {
    const { description, ...s } = jsonSchema(t as z.ZodType);
    return {
      name,
      in: 'query',
      required: !(t instanceof z.ZodOptional),
      ...(description ? { description } : {}),
      schema: s,
      ...(isListParam(schema, name) ? { style: 'form', explode: true } : {}),
    };
  });
}

const chipSamplesQuery = z.object({
  from: z.string().optional().describe('Start, inclusive: epoch ms or ISO-8601 (default: to - 1h).'),
  to: z.string().optional().describe('End, inclusive: epoch ms or ISO-8601 (default now).'),
  limit: z.string().optional().describe('Most samples (default 10000, at most 100000); when cut, the answer has truncated and next.'),
});
const writeQuery = z.object({ precision: z.enum(PRECISIONS).optional().describe('Timestamp precision (default ns).') });

const num = z.number().nullable();
const seriesResponse = z.object({
  from: z.number(),
  to: z.number(),
  step: z.string(),
  stepMs: z.number(),
  tier: z.enum(['raw', '1m', '1h']),
  agg: z.string(),
  groupBy: z.string(),
  fields: z.array(z.string()),
  source: z.enum(['chips', 'fleet-rollups']),
  series: z.array(z.object({ label: z.string(), field: z.string(), chipId: z.string().optional(), host: z.string().optional(), model: z.string().optional(), vendor: z.string().optional() })),
  data: z.array(z.array(num)).describe('data[0]: bucket starts (ms); then one column per series entry, null for empty buckets.'),
});
const energyFigures = {
  chips: z.number(),
  energyKWh: num,
  avgPowerW: num,
  avgUtilPct: num,
  chipHours: z.number(),
  energyCost: num,
  chipHourCost: num,
  cost: num,
  costPerUtilizedChipHour: num,
};
const energyResponse = z.object({
  from: z.number(),
  to: z.number(),
  tier: z.string(),
  coveredFrom: z.number(),
  coveredTo: z.number(),
  groupBy: z.string(),
  prices: z.object({ kwh: num, chipHour: z.record(z.string(), z.number()) }),
  rows: z.array(z.object({ label: z.string(), chipId: z.string().optional(), host: z.string().optional(), model: z.string().optional(), vendor: z.string().optional(), ...energyFigures })),
  totals: z.object(energyFigures),
});
const topResponse = z.object({
  from: z.number(),
  to: z.number(),
  tier: z.string(),
  field: z.string(),
  agg: z.string(),
  order: z.string(),
  k: z.number(),
  chips: z.array(z.object({ chipId: z.string(), host: z.string(), model: z.string(), vendor: z.string(), value: z.number() })),
});
const errorBody = z.object({ code: z.enum(Object.keys(ERROR_CODES) as [string, ...string[]]), message: z.string(), requestId: z.string().nullable() });

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema: jsonSchema(schema, 'output') } } });
const errors = { '400': { $ref: '#/components/responses/BadRequest' } };

export function openApiDocument(): Json {
  return {
    openapi: '3.1.0',
    info: { title: 'fleetscope hub', version: '1', description: 'Per-chip accelerator telemetry: live state, history, energy and costs.' },
    paths: {
      '/healthz': { get: { summary: 'The process is up', responses: { '200': { description: 'status ok, uptime, ingest counters' } } } },
      '/api/v1/chips': { get: { summary: 'Chips with status and latest sample', responses: { '200': { description: '{ chips: [...] }' } } } },
      '/api/v1/chips/{chipId}/samples': {
        get: {
          summary: 'Raw samples of one chip',
          parameters: [{ name: 'chipId', in: 'path', required: true, schema: { type: 'string' } }, ...queryParameters(chipSamplesQuery)],
          responses: { '200': { description: '{ chipId, from, to, samples, truncated?, next? }' }, ...errors, '404': { $ref: '#/components/responses/NotFound' } },
        },
      },
      '/api/v1/write': {
        post: {
          summary: 'Write samples as InfluxDB line protocol (measurement chip; tags host, chip, vendor, model, instance_type)',
          parameters: queryParameters(writeQuery),
          requestBody: { required: true, content: { 'text/plain': { schema: { type: 'string' } } } },
          responses: { '204': { description: 'Stored (committed)' }, ...errors, '413': { description: 'Body too large' } },
        },
      },
      '/api/v1/series': {
        get: {
          summary: 'History of chips or groups as columns (uPlot) or CSV',
          parameters: queryParameters(seriesQuerySchema),
          responses: {
            '200': { ...json(seriesResponse, 'Columns: data[0] time, one column per (series, field)'), content: { 'application/json': { schema: jsonSchema(seriesResponse, 'output') }, 'text/csv': { schema: { type: 'string' } } } },
            ...errors,
          },
        },
      },
      '/api/v1/energy': {
        get: { summary: 'Energy (kWh), average power and utilization, chip-hours and costs', parameters: queryParameters(energyQuerySchema), responses: { '200': json(energyResponse, 'Rows and totals'), ...errors } },
      },
      '/api/v1/top': {
        get: { summary: 'The k chips highest or lowest on a field', parameters: queryParameters(topQuerySchema), responses: { '200': json(topResponse, 'Ranked chips'), ...errors } },
      },
      '/api/v1/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } } },
    },
    components: {
      schemas: { Error: jsonSchema(errorBody, 'output') },
      responses: {
        BadRequest: { description: 'A parameter is wrong; the message names it and what it accepts', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        NotFound: { description: 'Not found', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    },
  };
}
