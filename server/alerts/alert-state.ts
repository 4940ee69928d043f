/**
 * The life of one alert, for one (rule, chip): a pure state machine
 * `inactive → pending → firing → resolved → inactive`, driven by observations (a sample's verdict,
 * or a liveness timer's) and by timer expiries (`for` and `clear.for` run out).
 *
 * - pending at the first breach; back to inactive as soon as an observation is not a breach;
 * - firing once breached continuously for `for` (seen by a later observation or by the expiry);
 * - while firing, the hysteresis band (`between`) holds it; it resolves once the clear condition
 *   held continuously for `clear.for`;
 * - resolved goes back to inactive at the next observation that is no breach, or pending again.
 *
 * A missing value (`unknown`) is evidence of nothing: it never fires nor resolves, it breaks a run
 * in progress (a pending alert returns to inactive, a clear countdown restarts) and a firing alert
 * stays firing. Backfilled observations (and a restored state) update the state but cannot fire
 * an alert, since their moment has passed; they can resolve one. Observations older than the
 * latest applied one are dropped. The state is plain JSON (`serializeState` / `restoreState`).
 */
import { z } from 'zod';

export type AlertPhase = 'inactive' | 'pending' | 'firing' | 'resolved';

/**
 * How an observed value stands against a rule: `breach` (the condition holds), `clear` (past the
 * clear threshold), `between` (in the hysteresis band: neither), `unknown` (no value).
 */
export type Verdict = 'breach' | 'clear' | 'between' | 'unknown';

/** One observation of a rule's field for a chip. */
export interface Observation {
  /** When the value was true (ms). */
  ts: number;
  value: number | null;
  verdict: Verdict;
  /** The value arrived late (a spooled sample): it may update the state but not fire. */
  backfill: boolean;
}

/** The rule's durations, in ms. */
export interface AlertTiming {
  forMs: number;
  clearForMs: number;
}

/** A change of phase. */
export interface Transition {
  from: AlertPhase;
  to: AlertPhase;
  /** When it happened (an observation's ts, or the time of the expiry). */
  at: number;
  /** The value that caused it (the latest observed one for an expiry). */
  value: number | null;
}

/** The state of one (rule, chip). */
export interface AlertState {
  phase: AlertPhase;
  /** pending, firing, resolved: when the breach run began (the alert's `startsAt`). */
  since: number | null;
  /** firing, resolved: when it fired. */
  firedAt: number | null;
  /** firing: when the current run of the clear condition began, else null. */
  clearSince: number | null;
  /** ts of the latest applied observation. */
  lastTs: number | null;
  /** Value of the latest applied observation. */
  value: number | null;
  /** The latest observation was live (not backfill, not from before a restore): an expiry may fire. */
  fresh: boolean;
}

export interface Step {
  state: AlertState;
  transitions: Transition[];
}

/** The state of a (rule, chip) never seen. */
export const INACTIVE: Readonly<AlertState> = { phase: 'inactive', since: null, firedAt: null, clearSince: null, lastTs: null, value: null, fresh: false };

/**
 * Apply one observation. Runs for every observation of an alert in progress (a chip at its power
 * limit for hours observes its rule at every sample): the phase is worked out in locals and one
 * state object is made, with a transitions array only when there are transitions.
 */
export function observe(state: AlertState, obs: Observation, timing: AlertTiming): Step {
  if (state.lastTs !== null && obs.ts < state.lastTs) return { state, transitions: [] };
  const at = obs.ts;
  const value = obs.value;
  const fresh = !obs.backfill;
  let { phase, since, firedAt, clearSince } = state;
  let transitions: Transition[] | null = null;

  switch (obs.verdict) {
    case 'breach':
      if (phase === 'inactive' || phase === 'resolved') {
        transitions = moved(transitions, phase, 'pending', at, value);
        phase = 'pending';
        since = at;
        firedAt = null;
        clearSince = null;
      }
      if (phase === 'pending' && fresh && at - since! >= timing.forMs) {
        transitions = moved(transitions, phase, 'firing', at, value);
        phase = 'firing';
        firedAt = at;
      }
      if (phase === 'firing') clearSince = null;
      break;
    case 'clear':
      if (phase === 'firing') {
        clearSince ??= at;
        if (at - clearSince >= timing.clearForMs) {
          transitions = moved(transitions, phase, 'resolved', at, value);
          phase = 'resolved';
          clearSince = null;
        }
      } else if (phase !== 'inactive') {
        transitions = moved(transitions, phase, 'inactive', at, value);
        phase = 'inactive';
        since = firedAt = clearSince = null;
      }
      break;
    case 'between':
    case 'unknown':
      // Between the thresholds a pending or resolved alert ends; without a value only a pending one.
      if (phase === 'firing') clearSince = null;
      else if (phase === 'pending' || (phase === 'resolved' && obs.verdict === 'between')) {
        transitions = moved(transitions, phase, 'inactive', at, value);
        phase = 'inactive';
        since = firedAt = clearSince = null;
      }
      break;
  }
  // Every field written out, in INACTIVE's order: all states share one shape (a spread with seven
  // fields over it took a third of alerting's time at full ingest).
  return { state: { phase, since, firedAt, clearSince, lastTs: at, value, fresh }, transitions: transitions ?? [] };
}

/** `list` (made when null) with the transition `from` -> `to` at `at` added. */
function moved(list: Transition[] | null, from: AlertPhase, to: AlertPhase, at: number, value: number | null): Transition[] {
  const out = list ?? [];
  out.push({ from, to, at, value });
  return out;
}

/** The time at which `expire` would change the state, or null when no timer is needed. */
export function deadline(state: AlertState, timing: AlertTiming): number | null {
  if (state.phase === 'pending' && state.fresh) return state.since! + timing.forMs;
  if (state.phase === 'firing' && state.clearSince !== null) return state.clearSince + timing.clearForMs;
  return null;
}

/** The timer went off at `now`: fire a pending alert whose `for` ran out, resolve a firing one whose `clear.for` did. */
export function expire(state: AlertState, now: number, timing: AlertTiming): Step {
  const due = deadline(state, timing);
  if (due === null || now < due) return { state, transitions: [] };
  const to: AlertPhase = state.phase === 'pending' ? 'firing' : 'resolved';
  const next: AlertState = to === 'firing' ? { ...state, phase: to, firedAt: now } : { ...state, phase: to, clearSince: null };
  return { state: next, transitions: [{ from: state.phase, to, at: now, value: state.value }] };
}

const ts = z.number().int().nullable();
/** The stored form of a state (version 1). */
export const storedAlertStateSchema = z
  .object({
    v: z.literal(1),
    phase: z.enum(['inactive', 'pending', 'firing', 'resolved']),
    since: ts,
    firedAt: ts,
    clearSince: ts,
    lastTs: ts,
    value: z.number().nullable(),
  })
  .strict()
  .refine((s) => s.phase === 'inactive' || s.since !== null, 'an active state needs since')
  .refine((s) => (s.phase !== 'firing' && s.phase !== 'resolved') || s.firedAt !== null, 'a firing or resolved state needs firedAt');
export type StoredAlertState = z.infer<typeof storedAlertStateSchema>;

/** The state as stored (JSON). */
export function serializeState(state: AlertState): StoredAlertState {
  const { phase, since, firedAt, clearSince, lastTs, value } = state;
  return { v: 1, phase, since, firedAt, clearSince, lastTs, value };
}

/**
 * A stored state back, or null when it is not one. Nothing is emitted on restore: a firing alert
 * stays firing without firing again. Its evidence is from before the restart, so a restored pending
 * alert fires only on a new live breach.
 */
export function restoreState(raw: unknown): AlertState | null {
  const r = storedAlertStateSchema.safeParse(raw);
  if (!r.success) return null;
  const { v: _v, ...rest } = r.data;
  return { ...rest, fresh: false };
}
