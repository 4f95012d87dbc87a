/**
 * A run's course over time, for the HTML report (issue 19): what each measured run records
 * beside its totals, and what a report row keeps of its rounds (the round whose requests/s is
 * the row's median). Kept in the bench's --json rows as `trace`.
 */
import fs from 'node:fs';
import { cpuSeconds } from './processes';

/** [percentile 0–100, latency in ms], ascending: an HdrHistogram-style percentile curve. */
export type PercentilePoint = readonly [percentile: number, ms: number];

export interface RunTrace {
  /** Who measured: wrk (closed model, from each send), the open-model generator (from each scheduled send) or k6. */
  generator: 'wrk' | 'open-model' | 'k6';
  /** Responses per second, second by second from the run's start, for the run's whole seconds. */
  responses: number[];
  /** Responses with a status above 399, per second. */
  non2xx: number[];
  /** Socket errors and timeouts per second; absent when the generator counts them per run only (wrk). */
  errors?: number[];
  /** Cores the service's processes used, per second; empty when not sampled (nginx, k6). */
  serviceCores: number[];
  /** Cores the load generator used, per second; empty when not sampled (k6). */
  generatorCores: number[];
  percentiles: PercentilePoint[];
  /** Open model: the same requests measured from their actual send, as a closed-model tool would. */
  sendPercentiles?: PercentilePoint[];
}

export interface CpuSampler {
  /** Cores each process set used in each whole or partial sampling interval so far. */
  stop(): { service: number[]; generator: number[] };
}

/**
 * Samples the CPU (/proc) of the service's processes and of the generator's every `everyMs`
 * (1 s: the report's resolution). Either may give no pids (nginx is not sampled): its series
 * is then empty.
 */
export function sampleCpu(servicePids: () => number[], generatorPids: () => number[], everyMs = 1000): CpuSampler {
  const service: number[] = [];
  const generator: number[] = [];
  // Whether each set ever had a process: a generator's pid appears once it is spawned.
  const seen = { service: false, generator: false };
  // A set without processes at a sample (the generator has exited) ends its series there.
  const ended = { service: false, generator: false };
  const read = (): { at: number; service: number; generator: number } => {
    const s = servicePids();
    const g = generatorPids();
    ended.service ||= seen.service && s.length === 0;
    ended.generator ||= seen.generator && g.length === 0;
    seen.service ||= s.length > 0;
    seen.generator ||= g.length > 0;
    return { at: performance.now(), service: cpuSeconds(s), generator: cpuSeconds(g) };
  };
  let last = read();
  const take = (): void => {
    const now = read();
    const seconds = (now.at - last.at) / 1000;
    if (seconds > 0.2) {
      if (!ended.service) service.push((now.service - last.service) / seconds);
      if (!ended.generator) generator.push((now.generator - last.generator) / seconds);
    }
    last = now;
  };
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return { service: seen.service ? service : [], generator: seen.generator ? generator : [] };
    },
  };
}

/** The children of `pid` (Linux: /proc/PID/task/PID/children), e.g. wrk under the shell that times it. */
export function childPids(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** The value of `curve` at `percentile` (the first point at or above it); NaN on an empty curve. */
export function percentileAt(curve: readonly PercentilePoint[], percentile: number): number {
  const point = curve.find(([p]) => p >= percentile - 1e-9) ?? curve[curve.length - 1];
  return point ? point[1] : NaN;
}
