/**
 * How often a view of many chips may change. A fleet of N chips updates at most every N/10 ms
 * (once a second at 10,000 chips, every 100 ms at 1,000, every frame for a few dozen): new values
 * arrive once a second per chip, however the hub's ticks or flapping alerts split that second.
 */
export function minUpdateIntervalMs(chips: number): number {
  return Math.min(1000, chips / 10);
}
