import type { Metric, Registry } from 'prom-client';
import type { MetricJson } from './snapshots';

/** One label set of a histogram, bound once and observed on the hot path. */
export interface HistogramChild {
  /** Records one value, in the histogram's unit. */
  observe(value: number): void;
}

export interface HotHistogramOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  /** Upper bounds, ascending; +Inf is implied. */
  buckets: readonly number[];
}

interface Series {
  labels: Record<string, string>;
  /** Observations per bucket, not cumulative; the last slot is the +Inf overflow. */
  counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * A Prometheus histogram for the request path. prom-client's Histogram validates and hashes
 * the label set on every observation (about 0.5 µs); here a child is bound to its label set
 * once, and an observation is a bucket scan and three additions (tens of ns).
 *
 * It registers in `registry` as a metric whose `get()` returns exactly what prom-client's
 * Histogram returns (cumulative `_bucket` samples with `le`, then `_sum` and `_count`), so
 * the registry's exposition and the cluster aggregation treat it like any other histogram.
 */
export function createHotHistogram<L extends string>(
  registry: Registry,
  opts: HotHistogramOptions<L>,
): { /** Binds a label set; call once per label set and keep the child. */ child(labels: Readonly<Record<L, string>>): HistogramChild } {
  const bounds = [...opts.buckets];
  const series: Series[] = [];

  const get = async (): Promise<MetricJson> => {
    const values: MetricJson['values'] = [];
    for (const s of series) {
      let cumulative = 0;
      bounds.forEach((le, i) => {
        cumulative += s.counts[i]!;
        values.push({ value: cumulative, labels: { ...s.labels, le }, metricName: `${opts.name}_bucket` });
      });
      values.push({ value: s.count, labels: { ...s.labels, le: '+Inf' }, metricName: `${opts.name}_bucket` });
      values.push({ value: s.sum, labels: { ...s.labels }, metricName: `${opts.name}_sum` });
      values.push({ value: s.count, labels: { ...s.labels }, metricName: `${opts.name}_count` });
    }
    return { name: opts.name, help: opts.help, type: 'histogram', aggregator: 'sum', values };
  };
  const metric = {
    name: opts.name,
    help: opts.help,
    type: 'histogram',
    aggregator: 'sum',
    get,
    reset: () => {
      for (const s of series) {
        s.counts.fill(0);
        s.sum = 0;
        s.count = 0;
      }
    },
  };
  registry.registerMetric(metric as unknown as Metric);

  return {
    child(labels) {
      const s: Series = { labels: { ...labels }, counts: new Float64Array(bounds.length + 1), sum: 0, count: 0 };
      series.push(s);
      return {
        observe(value) {
          let i = 0;
          while (i < bounds.length && value > bounds[i]!) i++;
          s.counts[i] = s.counts[i]! + 1;
          s.sum += value;
          s.count++;
        },
      };
    },
  };
}
