/**
 * Work counters: what a job reports of the work it did (tokens, steps, samples or any named unit),
 * as monotonic counters, with its job id and the chips it runs on. They reach the hub in an agent's
 * batches (`work`, from the agent's local endpoint or its job labels) or as the line-protocol
 * measurement `work`. A report with no counters only says which job runs on which chips (job
 * attribution from a file or the environment).
 */
import { z } from 'zod';
import { chipIdSchema, MIN_TS } from './sample.ts';
import { MAX_WORK_CHIPS, MAX_WORK_COUNTERS, MAX_WORK_LABELS } from './work-limits.ts';

export { MAX_WORK_CHIPS, MAX_WORK_COUNTERS, MAX_WORK_LABELS, MAX_WORK_PER_BATCH } from './work-limits.ts';

/** A job id: a Slurm job id, a Kubernetes pod or job name, a run name. */
export const jobIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:/@+=-]+$/, 'job must be 1-128 characters: letters, digits, . _ : / @ + = -');

/** A unit's name: `tokens`, `steps`, `samples`, `images` … */
export const workUnitSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'a unit is a letter, then letters, digits or _ (tokens, steps, samples)');

export const workCountersSchema = z
  .record(workUnitSchema, z.number().finite().min(0).max(1e18))
  .refine((c) => Object.keys(c).length <= MAX_WORK_COUNTERS, `at most ${MAX_WORK_COUNTERS} counters per report`);

export const workLabelsSchema = z
  .record(z.string().min(1).max(64), z.string().max(256))
  .refine((l) => Object.keys(l).length <= MAX_WORK_LABELS, `at most ${MAX_WORK_LABELS} labels per report`);

export const workReportSchema = z
  .object({
    /** ms since epoch: when the counters were read. */
    ts: z.number().int().min(MIN_TS),
    job: jobIdSchema,
    /** Monotonic counters by unit, since the job (process) started; a counter that goes down restarted. Empty: attribution only. */
    counters: workCountersSchema,
    /** The chips the job runs on; absent: every chip of the reporting agent (line protocol: of the host). */
    chips: z.array(chipIdSchema).min(1).max(MAX_WORK_CHIPS).optional(),
    /** Job labels (a Kubernetes pod's annotations, Slurm's job name …), shown with the job. */
    labels: workLabelsSchema.optional(),
  })
  .strict();

export type WorkReport = z.infer<typeof workReportSchema>;
export type WorkCounters = z.infer<typeof workCountersSchema>;
