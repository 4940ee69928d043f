/**
 * The agent's own metrics, through the OpenTelemetry API (the CLI starts the SDK only with
 * --metrics-port or OTEL_EXPORTER_OTLP_ENDPOINT): batches and samples sent, acknowledged and
 * refused, the spool's backlog and drops, whether a hub connection is up, and each source's
 * health. All read from the running agent when a reader collects.
 */
import type { Meter, ObservableResult } from '@opentelemetry/api';
import type { AgentStats } from './agent-runtime.ts';
import type { SourceHealth } from './sources/chip-source.ts';

/** What the instruments read: the agent's counts and its sources' health. */
export interface AgentReadings {
  stats(): AgentStats;
  sources(): SourceHealth[];
}

/** Register the agent's instruments on `meter`; returns how to remove them. */
export function instrumentAgent(meter: Meter, agent: AgentReadings): () => void {
  const counters = {
    batches: meter.createObservableCounter('fleetscope_agent_batches', { description: 'Batches by what became of them: produced (spooled to send), acked (stored by the hub), rejected (refused for good).' }),
    samples: meter.createObservableCounter('fleetscope_agent_samples', { description: 'Chip samples produced, and stored by the hub (state=stored).' }),
    dropped: meter.createObservableCounter('fleetscope_agent_spool_dropped', { description: 'Spooled data dropped beyond the spool limit, by unit (batches, samples).' }),
  };
  const gauges = {
    pending: meter.createObservableGauge('fleetscope_agent_spool_pending_batches', { description: 'Batches waiting in the spool for an acknowledgement.' }),
    connected: meter.createObservableGauge('fleetscope_agent_hub_connected', { description: '1 while a hub connection is up.' }),
    source: meter.createObservableGauge('fleetscope_agent_source_up', { description: '1 while a source produces samples (state ok), by source kind.' }),
  };
  const restarts = meter.createObservableCounter('fleetscope_agent_source_restarts', { description: "Restarts of a source's child process (nvidia-smi, neuron-monitor), by source kind." });
  const parseErrors = meter.createObservableCounter('fleetscope_agent_source_parse_errors', { description: 'Lines or records a source could not parse, by source kind.' });
  const cb = {
    batches: (r: ObservableResult) => {
      const s = agent.stats();
      r.observe(s.batchesSent, { state: 'produced' });
      r.observe(s.batchesAcked, { state: 'acked' });
      r.observe(s.batchesRejected, { state: 'rejected' });
    },
    samples: (r: ObservableResult) => {
      const s = agent.stats();
      r.observe(s.samplesSent, { state: 'produced' });
      r.observe(s.samplesStored, { state: 'stored' });
    },
    dropped: (r: ObservableResult) => {
      const s = agent.stats();
      r.observe(s.droppedBatches, { unit: 'batches' });
      r.observe(s.droppedSamples, { unit: 'samples' });
    },
    pending: (r: ObservableResult) => r.observe(agent.stats().pendingBatches),
    connected: (r: ObservableResult) => r.observe(agent.stats().connected ? 1 : 0),
    source: (r: ObservableResult) => {
      for (const h of agent.sources()) r.observe(h.state === 'ok' ? 1 : 0, { source: h.kind });
    },
    restarts: (r: ObservableResult) => {
      for (const h of agent.sources()) r.observe(h.restarts, { source: h.kind });
    },
    parseErrors: (r: ObservableResult) => {
      for (const h of agent.sources()) r.observe(h.parseErrors, { source: h.kind });
    },
  };
  restarts.addCallback(cb.restarts);
  parseErrors.addCallback(cb.parseErrors);
  counters.batches.addCallback(cb.batches);
  counters.samples.addCallback(cb.samples);
  counters.dropped.addCallback(cb.dropped);
  gauges.pending.addCallback(cb.pending);
  gauges.connected.addCallback(cb.connected);
  gauges.source.addCallback(cb.source);
  return () => {
    counters.batches.removeCallback(cb.batches);
    counters.samples.removeCallback(cb.samples);
    counters.dropped.removeCallback(cb.dropped);
    gauges.pending.removeCallback(cb.pending);
    gauges.connected.removeCallback(cb.connected);
    gauges.source.removeCallback(cb.source);
    restarts.removeCallback(cb.restarts);
    parseErrors.removeCallback(cb.parseErrors);
  };
}
