/**
 * GET /metrics/fleet: the latest sample of every chip as Prometheus text, built straight from the
 * fleet view (no store read). Three name sets: fleetscope's own (every chip), dcgm-exporter's
 * (NVIDIA chips) and neuron-monitor-prometheus.py's (Neuron chips), so existing dashboards work.
 *
 * Rules: only a live chip's values are written, with the sample's own timestamp; a stale or
 * offline chip is `fleetscope_chip_up 0` and nothing else (its last values are not current); a
 * null field is left out, never written as 0. Pure: the chips in, the text out.
 */
import type { ChipView } from '../../schema/protocol.ts';
import { fieldFamily, type FamilySpec } from './family-spec.ts';
import { familyHeader, formatValue, openLabelSet, TextBuffer } from './prom-text.ts';
import { DCGM_FAMILIES } from './dcgm-names.ts';
import { NEURON_FAMILIES } from './neuron-names.ts';
import type { Pacer } from '../event-loop-pacing.ts';

/** Which names `/metrics/fleet?names=` writes. */
export const FLEET_NAME_SETS = ['fleetscope', 'dcgm', 'neuron'] as const;
export type FleetNameSet = (typeof FLEET_NAME_SETS)[number];

/** A name set: the chips it covers, their labels (left open: see openLabelSet), its families. */
export interface NameSet {
  covers(chip: ChipView): boolean;
  labels(chip: ChipView): string;
  families: readonly FamilySpec[];
}

const FLEETSCOPE: NameSet = {
  covers: () => true,
  labels: (c) => openLabelSet([['host', c.host], ['chip', c.chipId], ['vendor', c.vendor], ['model', c.model], ['instance_type', c.instanceType]]),
  families: [
    fieldFamily('fleetscope_chip_power_watts', 'gauge', 'Power draw (W); Neuron power is estimated from sysfs.', (s) => s.powerW),
    fieldFamily('fleetscope_chip_power_limit_watts', 'gauge', 'Power limit (W).', (s) => s.powerLimitW),
    fieldFamily('fleetscope_chip_utilization_ratio', 'gauge', 'Utilization, 0..1 (NVIDIA utilization.gpu; Neuron: mean of the NeuronCores).', (s) => (s.utilPct === null ? null : s.utilPct / 100)),
    fieldFamily('fleetscope_chip_memory_used_bytes', 'gauge', 'Device memory in use (bytes).', (s) => s.memUsedBytes),
    fieldFamily('fleetscope_chip_memory_total_bytes', 'gauge', 'Device memory (bytes).', (s) => s.memTotalBytes),
    fieldFamily('fleetscope_chip_temperature_celsius', 'gauge', 'Chip temperature (degrees C); Neuron chips have none.', (s) => s.tempC),
    fieldFamily('fleetscope_chip_energy_joules_total', 'counter', 'Energy used (J), monotonic; integrated from power where the source has no counter.', (s) => s.energyJ),
    fieldFamily('fleetscope_chip_ecc_uncorrected_total', 'counter', 'Uncorrected ECC errors, monotonic.', (s) => s.eccUncorrected),
  ],
};

const NAME_SETS: Record<FleetNameSet, NameSet> = {
  fleetscope: FLEETSCOPE,
  dcgm: { covers: (c) => c.vendor === 'nvidia', labels: dcgmLabels, families: DCGM_FAMILIES },
  neuron: { covers: (c) => c.vendor === 'aws', labels: neuronLabels, families: NEURON_FAMILIES },
};

function dcgmLabels(c: ChipView): string {
  return openLabelSet([['gpu', c.index], ['UUID', c.chipId], ['device', `nvidia${c.index}`], ['modelName', c.model], ['Hostname', c.host]]);
}

function neuronLabels(c: ChipView): string {
  return openLabelSet([['instance_name', c.host], ['instance_type', c.instanceType], ['neuron_device_index', c.index]]);
}

const UP_HELP = '1 while the chip reports (live), 0 when stale or offline: its values are then left out.';

/** Chips written between two chances to pause (see renderFleetMetricsPaced). */
const STEP_CHIPS = 512;

/**
 * The exposition of `chips` under a name set, as UTF-8 bytes. Families are written one after
 * the other (all series of a family together, as the format requires), a family without series
 * is left out; each chip's label set is encoded once.
 */
export function renderFleetMetrics(chips: readonly ChipView[], names: FleetNameSet = 'fleetscope'): Buffer {
  const out = new TextBuffer(chips.length * 1024 + 4096);
  for (const _ of writeFleetMetrics(chips, names, out));
  return out.result();
}

/**
 * The same, pausing where `pace` says (after a few ms of work) so a large fleet's exposition does
 * not hold the event loop: live frames and acks go out in between. Which chips are live is taken
 * at the start; a value that changes meanwhile is written as it is when its family is written.
 */
export async function renderFleetMetricsPaced(chips: readonly ChipView[], names: FleetNameSet, pace: Pacer): Promise<Buffer> {
  const out = new TextBuffer(chips.length * 1024 + 4096);
  for (const _ of writeFleetMetrics(chips, names, out)) await pace.maybePause();
  return out.result();
}

/** Writes the exposition into `out`, yielding every STEP_CHIPS chips of a family. */
function* writeFleetMetrics(chips: readonly ChipView[], names: FleetNameSet, out: TextBuffer): Generator<void> {
  const set = NAME_SETS[names];
  const covered: ChipView[] = [];
  const labels: Buffer[] = [];
  const live: boolean[] = [];
  for (const chip of chips) {
    if (!set.covers(chip)) continue;
    covered.push(chip);
    labels.push(Buffer.from(set.labels(chip)));
    live.push(chip.status === 'live' && chip.latest !== null);
  }
  // One writer per family, its current chip in mutable fields: no closure per chip.
  const w: { header: string; name: Buffer; labels: Buffer; ts: number; write: (value: number, extra?: string) => void } = {
    header: '',
    name: Buffer.alloc(0),
    labels: Buffer.alloc(0),
    ts: 0,
    write: (value: number, extra?: string) => {
      if (w.header !== '') {
        out.ascii(w.header);
        w.header = '';
      }
      out.bytes(w.name);
      out.bytes(w.labels);
      if (extra === undefined) out.ascii(`} ${formatValue(value)} ${w.ts}\n`);
      else out.text(`${extra}} ${formatValue(value)} ${w.ts}\n`);
    },
  };
  for (const f of set.families) {
    w.header = familyHeader(f.name, f.type, f.help);
    w.name = Buffer.from(f.name);
    for (let i = 0; i < covered.length; i++) {
      if (i % STEP_CHIPS === STEP_CHIPS - 1) yield;
      if (!live[i]) continue;
      const s = covered[i].latest!;
      w.labels = labels[i];
      w.ts = s.ts;
      f.emit(s, covered[i], w.write);
    }
  }
  if (names === 'fleetscope' && covered.length > 0) {
    out.ascii(familyHeader('fleetscope_chip_up', 'gauge', UP_HELP));
    const name = Buffer.from('fleetscope_chip_up');
    for (let i = 0; i < covered.length; i++) {
      if (i % STEP_CHIPS === STEP_CHIPS - 1) yield;
      out.bytes(name);
      out.bytes(labels[i]);
      out.ascii(live[i] ? '} 1\n' : '} 0\n');
    }
  }
}
