/** One benchmark figure with its target and the conditions it was measured under. */
export interface BenchResult {
  part: string;
  metric: string;
  value: number;
  unit: string;
  target: string;
  pass: boolean;
  conditions: string;
}
