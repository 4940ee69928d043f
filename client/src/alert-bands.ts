/**
 * Alerts on a chip's time axis: from the chip's alert transitions (its history, plus those seen
 * live) and its current alerts, one band per alert that fired, from when its breach began
 * (`startsAt`) to when it resolved, or to now while it still fires; and how the charts paint them
 * with the band plugin of backfill-bands.ts (a translucent fill in the severity's colour, a line
 * at the start and, once resolved, at the end). Pure but for the plugin: no I/O, no DOM.
 */
import type uPlot from 'uplot';
import type { ActiveAlert, AlertEventAnswer } from '../../schema/api-answers.ts';
import { severityColor, worse, type Severity } from './alert-look.ts';
import { timeBandsPlugin, type BandLook, type TimeBand } from './backfill-bands.ts';

/** One fired alert on the time axis (x in seconds since epoch, as the charts plot). */
export interface AlertBand extends TimeBand {
  ruleId: string;
  /** The rule's name (the `alertname` label), else its id. */
  name: string;
  severity: Severity;
  /** Still firing: `to` is the time the bands were computed. */
  open: boolean;
}

interface Run {
  ruleId: string;
  name: string;
  severity: Severity;
  startsAt: number;
  fired: boolean;
  /** When it resolved (or, having fired, ended otherwise), ms. */
  endedAt: number | null;
  /** It had resolved before this (ms): its `resolved` transition is older than the events asked for. */
  endedBefore: number | null;
}

/**
 * The bands of `chipId`'s alerts that fired, oldest first. `events` may be in any order and hold
 * the same transition twice (history and live); a run is one rule's alert from one `startsAt`.
 * A firing alert of `active` whose firing transition is not in `events` (it fired before the
 * history asked for) is a band from its start to `nowMs`.
 */
export function alertBands(chipId: string, events: Iterable<AlertEventAnswer>, active: Iterable<ActiveAlert>, nowMs: number): AlertBand[] {
  const runs = new Map<string, Run>();
  const runOf = (ruleId: string, startsAt: number, name: string, severity: Severity): Run => {
    const key = `${ruleId}\u0000${startsAt}`;
    let r = runs.get(key);
    if (!r) runs.set(key, (r = { ruleId, name, severity, startsAt, fired: false, endedAt: null, endedBefore: null }));
    return r;
  };
  for (const e of events) {
    if (e.chipId !== chipId) continue;
    const r = runOf(e.ruleId, e.startsAt, e.labels.alertname ?? e.ruleId, e.severity);
    r.severity = worse(r.severity, e.severity);
    // A `to: pending` event starts a new run (its startsAt is its own time): its `from` is the previous run's.
    if (e.to === 'firing' || e.to === 'resolved' || (e.to === 'inactive' && (e.from === 'firing' || e.from === 'resolved'))) r.fired = true;
    if (e.to === 'resolved' || (e.from === 'firing' && e.to === 'inactive')) r.endedAt = r.endedAt === null ? e.at : Math.min(r.endedAt, e.at);
    else if (e.from === 'resolved' && e.to === 'inactive') r.endedBefore = e.at;
  }
  for (const a of active) {
    if (a.chipId !== chipId || a.phase === 'pending') continue;
    const r = runOf(a.ruleId, a.startsAt, a.labels.alertname ?? a.ruleId, a.severity);
    r.fired = true;
    // resolved, but the transition is not in the events: its end is unknown, drawn up to its firing time at least
    if (a.phase === 'resolved' && r.endedAt === null) r.endedAt = Math.max(a.firedAt ?? a.startsAt, a.startsAt);
  }
  const bands: AlertBand[] = [];
  for (const r of runs.values()) {
    // ended before the events asked for: not in view (its end is unknown)
    if (!r.fired || (r.endedAt === null && r.endedBefore !== null)) continue;
    const open = r.endedAt === null;
    const to = open ? Math.max(nowMs, r.startsAt) : r.endedAt!;
    bands.push({ from: r.startsAt / 1000, to: to / 1000, ruleId: r.ruleId, name: r.name, severity: r.severity, open });
  }
  return bands.sort((a, b) => a.from - b.from || a.to - b.to);
}

/** Bands that overlap [fromS, toS] (seconds). */
export function bandsInView(bands: readonly AlertBand[], fromS: number, toS: number): AlertBand[] {
  return bands.filter((b) => b.to >= fromS && b.from <= toS);
}

/** A translucent fill of the severity's colour, a line where the alert began and, once resolved, where it ended. */
export function alertBandLook(b: AlertBand): BandLook {
  const line = severityColor(b.severity, 0.9);
  return { fill: severityColor(b.severity, 0.13), start: line, end: b.open ? undefined : line };
}

/** The charts' plugin: draws `bands()` (read at draw time) with `alertBandLook`. */
export function alertBandsPlugin(bands: () => readonly AlertBand[]): uPlot.Plugin {
  return timeBandsPlugin(bands, alertBandLook);
}
