/**
 * The fleetscope version (package.json's `version`): what `fleetscope --version` prints, and the
 * `hubVersion` / `agentVersion` of the welcome and hello frames. The bundlers (the agent bundle,
 * the CLI bundle) inline it at build time.
 */
import pkg from '../package.json' with { type: 'json' };

export const FLEETSCOPE_VERSION: string = pkg.version;
