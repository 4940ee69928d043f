/**
 * The canonical chip sample and chip inventory: fixed units named in each field.
 * A value the source does not have is `null`, never 0.
 */
import { z } from 'zod';

export { MAX_EXTRA_KEY_LENGTH, MAX_EXTRAS_KEYS, MIN_TS, OPTIONAL_SAMPLE_FIELDS, SAMPLE_FIELDS, type SampleField } from './sample-limits.ts';
import { MAX_EXTRA_KEY_LENGTH, MAX_EXTRAS_KEYS, MIN_TS } from './sample-limits.ts';

/** Keys of an `extras` object as zod's record output has them: own enumerable string keys but `__proto__`. */
function extrasKeyCount(x: unknown): number {
  if (typeof x !== 'object' || x === null) return 0;
  const keys = Object.keys(x);
  return Object.prototype.hasOwnProperty.call(x, '__proto__') && Object.prototype.propertyIsEnumerable.call(x, '__proto__') ? keys.length - 1 : keys.length;
}

/** URL-safe, stable chip id: a GPU UUID or `<instance-id>-neuron<N>`. */
export const chipIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'chipId must be URL-safe: letters, digits, . _ : -');

const pct = z.number().min(0).max(100).nullable();
const nonNeg = (max: number) => z.number().min(0).max(max).nullable();

/** Sample flags: how a value was obtained. */
export const sampleFlagsSchema = z
  .object({
    /** powerW is an estimate (Neuron sysfs % of an assumed max). */
    powerEstimated: z.boolean().optional(),
    /** energyJ was integrated from power, not read from a hardware counter. */
    energyDerived: z.boolean().optional(),
    /** The sample was delivered late (spooled while the hub was unreachable). */
    backfill: z.boolean().optional(),
  })
  .strict();

export const sampleSchema = z
  .object({
    /** ms since epoch, the source's own timestamp when it has one */
    ts: z.number().int().min(MIN_TS),
    chipId: chipIdSchema,
    /** % 0..100: NVIDIA utilization.gpu; Neuron mean of the chip's NeuronCores */
    utilPct: pct,
    /** % 0..100: NVIDIA utilization.memory */
    memUtilPct: pct,
    memUsedBytes: nonNeg(2 ** 50),
    memTotalBytes: nonNeg(2 ** 50),
    powerW: nonNeg(10_000),
    powerLimitW: nonNeg(10_000),
    tempC: z.number().min(-40).max(150).nullable(),
    /** J, monotonic */
    energyJ: nonNeg(1e15),
    smClockMhz: nonNeg(10_000).optional(),
    eccCorrected: nonNeg(1e15).optional(),
    eccUncorrected: nonNeg(1e15).optional(),
    flags: sampleFlagsSchema.optional(),
    /** Source-specific numeric extras (per-core utilization, …). */
    extras: z
      .unknown()
      // The key count first: a record of 100,000 keys is refused without validating each.
      .superRefine((extras, ctx) => {
        const n = extrasKeyCount(extras);
        if (n > MAX_EXTRAS_KEYS) {
          ctx.addIssue({ code: 'too_big', origin: 'record', maximum: MAX_EXTRAS_KEYS, inclusive: true, input: extras, message: `at most ${MAX_EXTRAS_KEYS} extras keys per sample, got ${n}` });
        }
      })
      .pipe(z.record(z.string().max(MAX_EXTRA_KEY_LENGTH), z.number()))
      .optional(),
  })
  .strict();

export type Sample = z.infer<typeof sampleSchema>;
export type SampleFlags = z.infer<typeof sampleFlagsSchema>;


export const vendorSchema = z.enum(['nvidia', 'aws']);
export type Vendor = z.infer<typeof vendorSchema>;

export const chipInfoSchema = z
  .object({
    chipId: chipIdSchema,
    vendor: vendorSchema,
    /** H100, H200, B200, Trainium2, Trainium3, Inferentia2, … */
    model: z.string().min(1).max(64),
    /** Device index on the host (display only; never an id). */
    index: z.number().int().min(0).max(4096),
    cores: z.number().int().min(0).max(100_000).nullable(),
    memTotalBytes: nonNeg(2 ** 50),
    ratedPowerW: nonNeg(10_000),
  })
  .strict();
export type ChipInfo = z.infer<typeof chipInfoSchema>;

export const hostInfoSchema = z
  .object({
    hostname: z.string().min(1).max(253),
    instanceId: z.string().max(64).nullable(),
    instanceType: z.string().max(64).nullable(),
  })
  .strict();
export type HostInfo = z.infer<typeof hostInfoSchema>;

/** Status derived by the hub. */
export type ChipStatus = 'live' | 'stale' | 'offline';
