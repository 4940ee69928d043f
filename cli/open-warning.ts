/** Said loudly when a hub starts with auth off (`fleetscope demo`, `fleetscope hub --open`). */
export const OPEN_WARNING =
  'AUTH IS OFF: anyone who can reach this port can read the whole fleet, write samples and manage the hub. Use it on a trusted network only; run `fleetscope hub` without --open for tokens.';
