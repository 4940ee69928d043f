/**
 * The OpenAPI 3.1 document of the hub's HTTP API. Query parameters of /series, /energy and /top
 * are generated from the zod schemas that validate them (z.toJSONSchema, io 'input'); the JSON
 * answers and the error body from the zod schemas of schema/api-answers.ts (io 'output'), which
 * also type the routes that send them.
 */
import { z } from 'zod';
import {
  agentsAnswerSchema,
  chipSamplesAnswerSchema,
  chipOwnerBodySchema,
  chipsAnswerSchema,
  chipViewSchema,
  energyAnswerSchema,
  errorBodySchema,
  healthAnswerSchema,
  seriesAnswerSchema,
  topAnswerSchema,
  writeAnswerSchema,
} from '../../schema/api-answers.ts';
import { PRECISIONS } from '../line-protocol/parse-line-protocol.ts';
import { energyQuerySchema, isListParam, seriesQuerySchema, topQuerySchema } from '../history/query-schemas.ts';

type Json = Record<string, unknown>;

/** Bounds zod gives every integer (the safe-integer range): left out, they say nothing. */
function dropSafeIntBounds(s: Json): void {
  if (s.minimum === Number.MIN_SAFE_INTEGER) delete s.minimum;
  if (s.maximum === Number.MAX_SAFE_INTEGER) delete s.maximum;
}

function jsonSchema(t: z.ZodType, io: 'input' | 'output' = 'input'): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(t, { io, unrepresentable: 'any', override: (ctx) => dropSafeIntBounds(ctx.jsonSchema as Json) }) as Json;
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

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema: jsonSchema(schema, 'output') } } });
const errors = { '400': { $ref: '#/components/responses/BadRequest' } };

export function openApiDocument(): Json {
  return {
    openapi: '3.1.0',
    info: { title: 'fleetscope hub', version: '1', description: 'Per-chip accelerator telemetry: live state, history, energy and costs.' },
    paths: {
      '/healthz': { get: { summary: 'The process is up', responses: { '200': json(healthAnswerSchema, 'status ok, uptime, ingest counters') } } },
      '/api/v1/chips': { get: { summary: 'Chips with status and latest sample', responses: { '200': json(chipsAnswerSchema, 'Every known chip') } } },
      '/api/v1/agents': { get: { summary: "Known agents with their sources' health and spool drops", responses: { '200': json(agentsAnswerSchema, 'Every known agent') } } },
      '/api/v1/chips/{chipId}/samples': {
        get: {
          summary: 'Raw samples of one chip',
          parameters: [{ name: 'chipId', in: 'path', required: true, schema: { type: 'string' } }, ...queryParameters(chipSamplesQuery)],
          responses: { '200': json(chipSamplesAnswerSchema, 'Samples, ascending; truncated and next when limit cut them'), ...errors, '404': { $ref: '#/components/responses/NotFound' } },
        },
      },
      '/api/v1/write': {
        post: {
          summary: 'Write samples as InfluxDB line protocol (measurement chip; tags host, chip, vendor, model, instance_type)',
          parameters: queryParameters(writeQuery),
          requestBody: { required: true, content: { 'text/plain': { schema: { type: 'string' } } } },
          responses: {
            '204': { description: 'Stored (committed)' },
            '200': json(writeAnswerSchema, 'Stored, except the lines of chips that other agents own (refused, listed)'),
            ...errors,
            '413': { description: 'Body too large' },
          },
        },
      },
      '/api/v1/chips/{chipId}/owner': {
        post: {
          summary: 'Give a chip to another agent (admin)',
          parameters: [{ name: 'chipId', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(chipOwnerBodySchema) } } },
          responses: { '200': json(chipViewSchema, 'The chip as it is now'), ...errors, '404': { $ref: '#/components/responses/NotFound' } },
        },
      },
      '/api/v1/series': {
        get: {
          summary: 'History of chips or groups as columns (uPlot) or CSV',
          parameters: queryParameters(seriesQuerySchema),
          responses: {
            '200': {
              description: 'Columns: data[0] time, one column per (series, field)',
              content: { 'application/json': { schema: jsonSchema(seriesAnswerSchema, 'output') }, 'text/csv': { schema: { type: 'string' } } },
            },
            ...errors,
          },
        },
      },
      '/api/v1/energy': {
        get: { summary: 'Energy (kWh), average power and utilization, chip-hours and costs', parameters: queryParameters(energyQuerySchema), responses: { '200': json(energyAnswerSchema, 'Rows and totals'), ...errors } },
      },
      '/api/v1/top': {
        get: { summary: 'The k chips highest or lowest on a field', parameters: queryParameters(topQuerySchema), responses: { '200': json(topAnswerSchema, 'Ranked chips'), ...errors } },
      },
      '/api/v1/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } } },
    },
    components: {
      schemas: { Error: jsonSchema(errorBodySchema, 'output') },
      responses: {
        BadRequest: { description: 'A parameter is wrong; the message names it and what it accepts', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        NotFound: { description: 'Not found', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    },
  };
}
