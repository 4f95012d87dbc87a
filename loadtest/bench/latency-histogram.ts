/**
 * The latency histogram of the open-model generator and of k6 runs (hdr-histogram-js): values
 * in µs from 1 µs to 1 h with 3 significant digits, read out as the percentile curve the HTML
 * report draws (paths.lua computes wrk's the same way from wrk's own histogram).
 */
import * as hdr from 'hdr-histogram-js';
import type { PercentilePoint } from './trace';

// HdrHistogram's plot points: two per halving of the distance to 100 %, up to p99.999.
const CURVE: readonly number[] = Array.from({ length: 34 }, (_, k) => 100 * (1 - 0.5 ** (1 + k / 2))).filter((p) => p <= 99.999);

/** An empty histogram of latencies in µs. */
export function latencyHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
}

/** The histogram's curve in ms: the plot points, then [100, max]. */
export function percentileCurve(h: hdr.Histogram): PercentilePoint[] {
  return [...CURVE.map((p) => [p, h.getValueAtPercentile(p) / 1000] as const), [100, h.maxValue / 1000] as const];
}
