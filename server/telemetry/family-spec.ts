/** How a name set of /metrics/fleet describes one metric family (fleet-exposition.ts). */
import type { ChipView } from '../../schema/protocol.ts';
import type { Sample } from '../../schema/sample.ts';

/** Where a family writes a chip's series: the value, and labels to add to the chip's (`,k="v"`). */
export type SeriesOut = (value: number, extraLabels?: string) => void;

/** One family: name, type, help, and the series it writes for a live chip's sample. */
export interface FamilySpec {
  name: string;
  type: 'gauge' | 'counter';
  help: string;
  emit(sample: Sample, chip: ChipView, out: SeriesOut): void;
}

/** A family writing one field of the sample, converted; nothing when it is null or absent. */
export function fieldFamily(name: string, type: 'gauge' | 'counter', help: string, value: (s: Sample) => number | null | undefined): FamilySpec {
  return {
    name, type, help,
    emit(s, _chip, out) {
      const v = value(s);
      if (v !== null && v !== undefined) out(v);
    },
  };
}
