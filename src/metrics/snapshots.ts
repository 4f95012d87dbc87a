import type { Aggregator } from 'prom-client';

/** One metric as `Registry.getMetricsAsJSON()` returns it and as it crosses the IPC channel. */
export interface MetricJson {
  name: string;
  help: string;
  type: string;
  aggregator: Aggregator;
  values: Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>;
}

/** A worker's whole registry at one moment. */
export type Snapshot = MetricJson[];

// How a per-worker value becomes one per-instance value when prom-client's default is wrong
// for us: event-loop lag is averaged by default, which hides one stuck worker behind a
// healthy one, so the worst worker is reported instead.
const AGGREGATION_OVERRIDES: Readonly<Record<string, Aggregator>> = {
  nodejs_eventloop_lag_seconds: 'max',
  nodejs_eventloop_lag_mean_seconds: 'max',
  nodejs_eventloop_lag_p50_seconds: 'max',
  nodejs_eventloop_lag_p90_seconds: 'max',
  nodejs_eventloop_lag_p99_seconds: 'max',
};

/** Applies the aggregation overrides to a snapshot received from a worker (in place). */
export function withOverrides(snapshot: Snapshot): Snapshot {
  for (const metric of snapshot) {
    const override = AGGREGATION_OVERRIDES[metric.name];
    if (override !== undefined) metric.aggregator = override;
  }
  return snapshot;
}

/**
 * Whether a metric's values keep meaning something after its worker is gone: summed
 * counters and histograms are cumulative, so a dead worker's share stays in the total;
 * gauges describe a live process and vanish with it.
 */
function isCumulative(metric: MetricJson): boolean {
  return (metric.type === 'counter' || metric.type === 'histogram') && metric.aggregator === 'sum';
}

/**
 * Adds the cumulative metrics of a finished worker's last snapshot to `retired`, the
 * running total of every worker that ever exited, and returns the new total. Synchronous,
 * so no scrape can see the worker in neither place.
 */
export function foldRetired(retired: Snapshot, last: Snapshot): Snapshot {
  const byName = new Map<string, MetricJson>();
  for (const metric of retired) byName.set(metric.name, metric);
  for (const metric of last) {
    if (!isCumulative(metric)) continue;
    const total = byName.get(metric.name);
    byName.set(metric.name, total === undefined ? copyOf(metric) : sumInto(total, metric));
  }
  return [...byName.values()];
}

function copyOf(metric: MetricJson): MetricJson {
  return { ...metric, values: metric.values.map((v) => ({ ...v, labels: { ...v.labels } })) };
}

// A sample's identity: its series name (histograms: _bucket/_sum/_count) and its labels.
const sampleKey = (v: MetricJson['values'][number]): string =>
  `${v.metricName ?? ''}\u0000${Object.keys(v.labels).sort().map((k) => `${k}=${v.labels[k]}`).join('\u0000')}`;

/** A copy of `total` with every sample of `add` added to the matching sample. */
function sumInto(total: MetricJson, add: MetricJson): MetricJson {
  const result = copyOf(total);
  const index = new Map(result.values.map((v) => [sampleKey(v), v]));
  for (const v of add.values) {
    const existing = index.get(sampleKey(v));
    if (existing !== undefined) existing.value += v.value;
    else result.values.push({ ...v, labels: { ...v.labels } });
  }
  return result;
}
