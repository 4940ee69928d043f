/** The file beside the agent bundle that holds its OpenTelemetry SDK (cli/build-agent-bundle.ts). */
export const AGENT_TELEMETRY_FILE = 'fleetscope-agent-telemetry.mjs';
