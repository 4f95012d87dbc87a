import { Registry } from 'prom-client';
import { linkWorkerMetrics, processEndpoint } from './ipc';
import { createWorkerMetrics, type WorkerMetrics } from './worker-metrics';

export interface WorkerTelemetry extends WorkerMetrics {
  /** Hands the final counts to the primary before the worker exits (at most `timeoutMs`). */
  sendFinal(timeoutMs?: number): Promise<void>;
}

/**
 * A cluster worker's metrics: a fresh registry, its metrics, and the IPC link through
 * which the primary collects them. Outside a cluster (no IPC channel) nothing is sent.
 */
export function startWorkerMetrics(): WorkerTelemetry {
  const registry = new Registry();
  const metrics = createWorkerMetrics(registry);
  const ipc = processEndpoint();
  const link = ipc && linkWorkerMetrics(registry, ipc);
  return { ...metrics, sendFinal: (timeoutMs) => link?.sendFinal(timeoutMs) ?? Promise.resolve() };
}
