/**
 * The OpenAPI 3.1 document of the hub's HTTP API. Query parameters of /series, /energy and /top
 * are generated from the zod schemas that validate them (z.toJSONSchema, io 'input'); the JSON
 * answers and the error body from the zod schemas of schema/api-answers.ts (io 'output'), which
 * also type the routes that send them.
 */
import { z } from 'zod';
import {
  agentsAnswerSchema,
  chipEventsAnswerSchema,
  chipSamplesAnswerSchema,
  chipOwnerBodySchema,
  chipsAnswerSchema,
  chipViewSchema,
  energyAnswerSchema,
  efficiencyAnswerSchema,
  errorBodySchema,
  healthAnswerSchema,
  readinessAnswerSchema,
  seriesAnswerSchema,
  topAnswerSchema,
  writeAnswerSchema,
} from '../../schema/api-answers.ts';
import { PRECISIONS } from '../line-protocol/parse-line-protocol.ts';
import { FLEET_NAME_SETS } from '../telemetry/fleet-exposition.ts';
import { efficiencyQuerySchema, energyQuerySchema, isListParam, seriesQuerySchema, topQuerySchema } from '../history/query-schemas.ts';
import { deadLettersAnswerSchema, outboxEntrySchema, receiverAnswerSchema, receiversAnswerSchema, silenceAnswerSchema, silencesAnswerSchema } from '../../schema/api-answers.ts';
import { receiverPutSchema, receiverSpecSchema, silenceBodySchema } from '../../schema/alert-notify.ts';
import { alertHistoryAnswerSchema, alertRulesAnswerSchema, alertRuleViewSchema, alertsAnswerSchema } from '../../schema/api-answers.ts';
import { alertRuleSchema, builtinOverrideSchema } from '../../schema/alert-rules.ts';
import { alertHistoryQuerySchema, alertsQuerySchema } from './alert-routes.ts';

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
  from: z.string().optional().describe('Start, inclusive: epoch ms, ISO-8601 or relative to now, e.g. now-15m (default: to - 1h).'),
  to: z.string().optional().describe('End, inclusive: epoch ms, ISO-8601 or relative to now, e.g. now-15m (default now).'),
  limit: z.string().optional().describe('Most samples (default 10000, at most 100000); when cut, the answer has truncated and next.'),
});
const chipEventsQuery = z.object({
  from: z.string().optional().describe('Start, inclusive: epoch ms, ISO-8601 or relative to now, e.g. now-15m (default: to - 1h).'),
  to: z.string().optional().describe('End, inclusive: epoch ms, ISO-8601 or relative to now, e.g. now-15m (default now).'),
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
      '/readyz': {
        get: {
          summary: 'The hub can take work: database writable, writer keeping up (no token needed)',
          responses: { '200': json(readinessAnswerSchema, 'Ready: every check ok'), '503': json(readinessAnswerSchema, 'Not ready: the failed checks and their reasons') },
        },
      },
      '/metrics': { get: { summary: "The hub's own metrics (Prometheus text format 0.0.4)", responses: { '200': { description: 'Prometheus text', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
      '/metrics/fleet': {
        get: {
          summary: "Every chip's latest values as Prometheus metrics (gzip when accepted)",
          parameters: [{ name: 'names', in: 'query', required: false, description: 'fleetscope (default), dcgm (dcgm-exporter names, NVIDIA chips) or neuron (neuron-monitor names, Neuron chips)', schema: { type: 'string', enum: [...FLEET_NAME_SETS] } }],
          responses: { '200': { description: 'Prometheus text', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errors },
        },
      },
      '/api/v1/chips': { get: { summary: 'Chips with status and latest sample', responses: { '200': json(chipsAnswerSchema, 'Every known chip') } } },
      '/api/v1/agents': { get: { summary: "Known agents with their sources' health and spool drops", responses: { '200': json(agentsAnswerSchema, 'Every known agent') } } },
      '/api/v1/chips/{chipId}/samples': {
        get: {
          summary: 'Raw samples of one chip',
          parameters: [{ name: 'chipId', in: 'path', required: true, schema: { type: 'string' } }, ...queryParameters(chipSamplesQuery)],
          responses: { '200': json(chipSamplesAnswerSchema, 'Samples, ascending; truncated and next when limit cut them'), ...errors, '404': { $ref: '#/components/responses/NotFound' } },
        },
      },
      '/api/v1/chips/{chipId}/events': {
        get: {
          summary: "Connection events (connected, disconnected) of the agent that owns the chip: its reconnects",
          parameters: [{ name: 'chipId', in: 'path', required: true, schema: { type: 'string' } }, ...queryParameters(chipEventsQuery)],
          responses: { '200': json(chipEventsAnswerSchema, 'Events, ascending; truncated when more matched than one answer holds'), ...errors, '404': { $ref: '#/components/responses/NotFound' } },
        },
      },
      '/api/v1/write': {
        post: {
          summary: "Write samples as InfluxDB line protocol (measurement chip: tags host, chip, vendor, model, instance_type; or Telegraf's nvidia_smi)",
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
      '/api/v1/efficiency': {
        get: {
          summary: 'Work done (from work counters), energy and cost per unit of work, per job, model, vendor, host or chip',
          parameters: queryParameters(efficiencyQuerySchema),
          responses: { '200': json(efficiencyAnswerSchema, 'A row per group and unit'), ...errors },
        },
      },
      '/api/v1/energy': {
        get: { summary: 'Energy (kWh), average power and utilization, chip-hours and costs', parameters: queryParameters(energyQuerySchema), responses: { '200': json(energyAnswerSchema, 'Rows and totals'), ...errors } },
      },
      '/api/v1/top': {
        get: { summary: 'The k chips highest or lowest on a field', parameters: queryParameters(topQuerySchema), responses: { '200': json(topAnswerSchema, 'Ranked chips'), ...errors } },
      },
      ...alertEnginePaths(),
      ...alertNotifyPaths(),
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

/** The notifier's paths (server/routes/alert-notify-routes.ts). */
function alertNotifyPaths(): Json {
  const notFound = { '404': { $ref: '#/components/responses/NotFound' } };
  const conflict = { '409': { description: 'The name is taken, or the receiver comes from the rules file or --webhook', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } } };
  const body = (schema: z.ZodType) => ({ required: true, content: { 'application/json': { schema: jsonSchema(schema) } } });
  const name = [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }];
  const id = (what: string) => [{ name: 'id', in: 'path', required: true, description: what, schema: { type: 'string' } }];
  return {
    '/api/v1/alerts/receivers': {
      get: { summary: 'Where alert notifications go (secrets never shown)', responses: { '200': json(receiversAnswerSchema, 'Every receiver') } },
      post: { summary: 'Add a receiver: webhook (Alertmanager JSON v4), alertmanager (/api/v2/alerts) or slack (admin)', requestBody: body(receiverSpecSchema), responses: { '201': json(receiverAnswerSchema, 'The receiver'), ...errors, ...conflict } },
    },
    '/api/v1/alerts/receivers/{name}': {
      get: { summary: 'One receiver', parameters: name, responses: { '200': json(receiverAnswerSchema, 'The receiver'), ...notFound } },
      put: {
        summary: 'Create or replace a receiver (admin); a secret left out is kept, null removes it',
        parameters: name,
        requestBody: body(receiverPutSchema),
        responses: { '200': json(receiverAnswerSchema, 'Replaced'), '201': json(receiverAnswerSchema, 'Created'), ...errors, ...conflict },
      },
      delete: { summary: 'Remove a receiver (admin); its notifications not yet sent become dead letters', parameters: name, responses: { '204': { description: 'Removed' }, ...notFound, ...conflict } },
    },
    '/api/v1/alerts/silences': {
      get: { summary: 'Silences (ended ones for a week)', responses: { '200': json(silencesAnswerSchema, 'Newest first') } },
      post: { summary: 'Silence the alerts the matchers match until endsAt, or for duration (admin)', requestBody: body(silenceBodySchema), responses: { '201': json(silenceAnswerSchema, 'The silence'), ...errors } },
    },
    '/api/v1/alerts/silences/{id}': {
      delete: { summary: 'End a silence now (admin)', parameters: id('The silence id'), responses: { '200': json(silenceAnswerSchema, 'The silence, ended'), ...notFound } },
    },
    '/api/v1/alerts/dead-letters': {
      get: {
        summary: 'Notifications that failed every attempt',
        parameters: [{ name: 'limit', in: 'query', required: false, description: 'Most entries, newest first (default 100, at most 1000)', schema: { type: 'integer', minimum: 1, maximum: 1000 } }],
        responses: { '200': json(deadLettersAnswerSchema, 'Newest first'), ...errors },
      },
    },
    '/api/v1/alerts/dead-letters/{id}/retry': {
      post: { summary: 'Send a dead letter again, attempts from zero (admin)', parameters: id('The outbox id'), responses: { '202': json(outboxEntrySchema, 'Pending again'), ...notFound } },
    },
  };
}

/** The alert engine's paths (server/routes/alert-routes.ts). */
function alertEnginePaths(): Json {
  const err = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
  const notFound = { '404': { $ref: '#/components/responses/NotFound' } };
  const conflict = { '409': err('The id is taken, is a built-in rule (POST), or the rule comes from the rules file') };
  const id = [{ name: 'id', in: 'path', required: true, description: 'Rule id; a built-in id (stale, agent-offline, idle-powered, thermal, power-at-limit, ecc-uncorrected) names that built-in', schema: { type: 'string' } }];
  return {
    '/api/v1/alerts': {
      get: { summary: 'Alerts that are not inactive (pending, firing, just resolved)', parameters: queryParameters(alertsQuerySchema), responses: { '200': json(alertsAnswerSchema, 'Firing first, then pending, then resolved'), ...errors } },
    },
    '/api/v1/alerts/history': {
      get: { summary: 'Alert transitions, newest first', parameters: queryParameters(alertHistoryQuerySchema), responses: { '200': json(alertHistoryAnswerSchema, 'Transitions; truncated when more matched than limit'), ...errors } },
    },
    '/api/v1/alerts/rules': {
      get: { summary: 'Alert rules in force: built-ins (as adjusted), the API’s, the rules file’s', responses: { '200': json(alertRulesAnswerSchema, 'Every rule, disabled ones too') } },
      post: {
        summary: 'Add an alert rule (admin)',
        requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(alertRuleSchema) } } },
        responses: { '201': json(alertRuleViewSchema, 'The rule'), ...errors, ...conflict, '413': { description: 'Body too large' } },
      },
    },
    '/api/v1/alerts/rules/{id}': {
      get: { summary: 'One alert rule', parameters: id, responses: { '200': json(alertRuleViewSchema, 'The rule'), ...notFound } },
      put: {
        summary: 'Create or replace a rule of the API (admin); for a built-in id, the body is an override of its fields (e.g. {"enabled": false}) replacing the API’s earlier one',
        parameters: id,
        requestBody: { required: true, content: { 'application/json': { schema: { anyOf: [jsonSchema(alertRuleSchema), jsonSchema(builtinOverrideSchema)] } } } },
        responses: { '200': json(alertRuleViewSchema, 'Replaced'), '201': json(alertRuleViewSchema, 'Created'), ...errors, ...conflict, '413': { description: 'Body too large' } },
      },
      delete: { summary: 'Remove a rule of the API, or the API’s override of a built-in (admin); its alerts end (a firing one resolves)', parameters: id, responses: { '204': { description: 'Removed' }, ...notFound, ...conflict } },
    },
  };
}
