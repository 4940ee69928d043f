/**
 * The query parameters of /series, /energy and /top as zod schemas: they validate requests and
 * generate the OpenAPI parameters (z.toJSONSchema with io 'input'). Every value arrives as a
 * string; list parameters (chip, vendor, model, host) may repeat and take comma lists. Errors name
 * the parameter and what it accepts.
 */
import { z } from 'zod';
import { vendorSchema } from '../../schema/sample.ts';
import { InvalidQueryError } from './invalid-query.ts';
import { GROUP_BYS } from './chip-selection.ts';
import { AGGS, HISTORY_FIELDS, type HistoryField } from './step-buckets.ts';
import { DEFAULT_MAX_POINTS, MAX_MAX_POINTS } from './tier-choice.ts';
import { DURATION_FORMS, parseDurationParam, parseTimeSpec, TIME_FORMS } from './time-spec.ts';

const quote = (v: unknown) => JSON.stringify(v);
const oneOf = (values: readonly string[]) => (iss: { input?: unknown }) => `must be one of ${values.join(', ')}; got ${quote(iss.input)}`;

const list = (item: z.ZodType<string>, description: string) => z.array(item).optional().describe(description);

const selectorShape = {
  chip: list(z.string(), 'Chip ids (repeat the parameter or give a comma list); an unknown id is a 400.'),
  vendor: list(z.enum(vendorSchema.options, { error: oneOf(vendorSchema.options) }), `Vendors (${vendorSchema.options.join(', ')}); several: any of them.`),
  model: list(z.string(), 'Chip models (H100, Trainium2, …); several: any of them.'),
  host: list(z.string(), 'Host names; several: any of them.'),
};

/** A time parameter (absolute or relative to now), optional. */
export const timeParam = (description: string) =>
  z
    .string()
    .transform((s, ctx) => {
      const t = parseTimeSpec(s);
      if (t === null) ctx.addIssue({ code: 'custom', message: `must be ${TIME_FORMS}; got ${quote(s)}` });
      return t ?? z.NEVER;
    })
    .optional()
    .describe(description);

const intParam = (min: number, max: number, description: string) =>
  z
    .string()
    .transform((s, ctx) => {
      const n = /^\d{1,9}$/.test(s.trim()) ? Number(s) : NaN;
      if (!(n >= min && n <= max)) ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}; got ${quote(s)}` });
      return n;
    })
    .optional()
    .describe(description);

const fieldsParam = z
  .string()
  .transform((s, ctx) => {
    const names = [...new Set(s.split(',').map((f) => f.trim()).filter(Boolean))];
    const unknown = names.filter((f) => !(HISTORY_FIELDS as readonly string[]).includes(f));
    if (names.length === 0 || unknown.length > 0) {
      const what = names.length === 0 ? 'no field given' : `unknown field ${unknown.map(quote).join(', ')}`;
      ctx.addIssue({ code: 'custom', message: `${what}; accepted (comma list): ${HISTORY_FIELDS.join(', ')}` });
    }
    return names as HistoryField[];
  })
  .optional()
  .describe(`Comma list of fields (default utilPct,powerW): ${HISTORY_FIELDS.join(', ')}. energyJ is the energy used in each step (J), not the counter.`);

const stepParam = z
  .string()
  .transform((s, ctx) => {
    const ms = parseDurationParam(s);
    if (ms === null || ms % 1000 !== 0) ctx.addIssue({ code: 'custom', message: `must be ${DURATION_FORMS}; got ${quote(s)}` });
    return ms ?? z.NEVER;
  })
  .optional()
  .describe('Step (bucket width), e.g. 10s, 1m, 5m, 1h; buckets are aligned to multiples of the step since epoch. Absent: chosen from the range and maxPoints.');

const enumParam = <T extends readonly [string, ...string[]]>(values: T, description: string) =>
  z.enum(values, { error: oneOf(values) }).optional().describe(description);

const AGG_DOC = 'Aggregate within a bucket (default avg): avg (sample-weighted mean), min, max, last (value of the latest sample; across a group: the latest sample of any of its chips).';

export const seriesQuerySchema = z
  .object({
    ...selectorShape,
    fields: fieldsParam,
    from: timeParam(`Start (default: to - 1h): ${TIME_FORMS}.`),
    to: timeParam(`End, inclusive (default now): ${TIME_FORMS}.`),
    step: stepParam,
    agg: enumParam(AGGS, AGG_DOC),
    groupBy: enumParam(GROUP_BYS, 'One series per chip (none, the default; chip is the same), or merged per host, model, vendor, or the whole selection (fleet).'),
    maxPoints: intParam(1, MAX_MAX_POINTS, `Most points per series (default ${DEFAULT_MAX_POINTS}); a range needing more at the given step is a 400.`),
    format: enumParam(['json', 'csv'] as const, 'json (default; or CSV when the Accept header asks for text/csv) or csv.'),
  })
  .strict();

export const energyQuerySchema = z
  .object({
    ...selectorShape,
    from: timeParam(`Start (default: to - 24h): ${TIME_FORMS}.`),
    to: timeParam(`End, exclusive (default now): ${TIME_FORMS}.`),
    groupBy: enumParam(['chip', 'host', 'model', 'vendor'] as const, 'One row per chip (default), host, model or vendor.'),
  })
  .strict();

export const topQuerySchema = z
  .object({
    ...selectorShape,
    field: enumParam(HISTORY_FIELDS, `Field to rank by (default utilPct): ${HISTORY_FIELDS.join(', ')}; energyJ ranks by energy used (J).`),
    agg: enumParam(AGGS, 'Aggregate over the range (default avg): avg, min, max, last. Ignored for energyJ.'),
    k: intParam(1, 1000, 'How many chips (default 10, at most 1000).'),
    order: enumParam(['desc', 'asc'] as const, 'desc (default): highest first; asc: lowest first.'),
    from: timeParam(`Start (default: to - 1h): ${TIME_FORMS}.`),
    to: timeParam(`End, exclusive (default now): ${TIME_FORMS}.`),
  })
  .strict();

export const efficiencyQuerySchema = z
  .object({
    ...selectorShape,
    job: list(z.string(), 'Job ids; several: any of them.'),
    unit: list(z.string(), 'Work units (tokens, steps, …); several: any of them. Default: every unit, a row per group and unit.'),
    from: timeParam(`Start (default: to - 24h): ${TIME_FORMS}.`),
    to: timeParam(`End, exclusive (default now): ${TIME_FORMS}.`),
    groupBy: enumParam(['job', 'model', 'vendor', 'host', 'chip'] as const, 'One row per job (default), model (the chip generation), vendor, host or chip, and unit.'),
  })
  .strict();

export type SeriesQuery = z.output<typeof seriesQuerySchema>;
export type EfficiencyQuery = z.output<typeof efficiencyQuerySchema>;
export type EnergyQuery = z.output<typeof energyQuerySchema>;
export type TopQuery = z.output<typeof topQuerySchema>;

function unwrap(t: z.ZodType): z.ZodType {
  return t instanceof z.ZodOptional ? (t.unwrap() as z.ZodType) : t;
}

/** Whether a parameter of the schema takes a list (may repeat, comma lists). */
export function isListParam(schema: z.ZodObject, name: string): boolean {
  const t = schema.shape[name] as z.ZodType | undefined;
  return t !== undefined && unwrap(t) instanceof z.ZodArray;
}

function badRequest(message: string): InvalidQueryError {
  return new InvalidQueryError(message);
}

/**
 * Validate a query (`c.req.queries()`: every value of every parameter) against a schema; throws
 * a 400 naming the parameter. List parameters are split on commas; others may appear once.
 */
export function parseQuery<S extends z.ZodObject>(schema: S, queries: Record<string, string[]>): z.output<S> {
  const input: Record<string, unknown> = {};
  for (const [name, values] of Object.entries(queries)) {
    if (isListParam(schema, name)) {
      input[name] = values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
    } else if (values.length > 1) {
      throw badRequest(`${name}: given ${values.length} times; give it once`);
    } else input[name] = values[0];
  }
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    throw badRequest(`unknown parameter ${issue.keys.map(quote).join(', ')}; accepted: ${Object.keys(schema.shape).join(', ')}`);
  }
  throw badRequest(`${String(issue.path[0] ?? 'query')}: ${issue.message}`);
}
