/**
 * Runs the open-model generator (generator.ts) as a child process against a service, samples
 * the service's CPU meanwhile, and judges whether the rate was held: the achieved send rate
 * (requests written within the schedule's duration, over it) within `rateTolerance` of the
 * asked one. A run that did not hold its rate says nothing about the service's latency at
 * that rate (the generator, or the connections it may open, were the bottleneck): its
 * latencies are not reported.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../../src/project-paths';
import { sampleCpu, percentileAt, type CpuSampler, type RunTrace } from '../trace';
import type { GeneratorResult, OpenModelOptions } from './types';

const GENERATOR = path.join(__dirname, 'generator.ts');

export interface OpenModelRun extends GeneratorResult {
  rate: number;
  durationSeconds: number;
  /** Requests written per second within the schedule. */
  achievedRate: number;
  /** The achieved rate within the tolerance of the asked one. */
  held: boolean;
  /** The service's processes, in cores over the run; NaN without pids. */
  serviceCores: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** Socket errors and timeouts. */
  errors: number;
  non2xx: number;
  trace: RunTrace;
}

/** The generator's output line, parsed; undefined when missing. */
export function parseGeneratorOutput(out: string): GeneratorResult | undefined {
  const line = out.split('\n').find((l) => l.startsWith('OPEN_MODEL '));
  return line === undefined ? undefined : (JSON.parse(line.slice('OPEN_MODEL '.length)) as GeneratorResult);
}

/** The run's verdict and figures from what the generator counted. */
export function judgeOpenModel(
  result: GeneratorResult,
  opts: Pick<OpenModelOptions, 'rate' | 'durationSeconds'>,
  tolerance: number,
  serviceCores: number[] = [],
): OpenModelRun {
  const achievedRate = result.sentInWindow / opts.durationSeconds;
  const held = Math.abs(achievedRate - opts.rate) <= tolerance * opts.rate;
  const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
  // The schedule's whole seconds (the drain after it is left out of the series, not of the
  // totals); every series that long (counters start empty: no error, no second).
  const seconds = Math.floor(opts.durationSeconds);
  const rates = (xs: readonly number[]): number[] => Array.from({ length: seconds }, (_, i) => xs[i] ?? 0);
  return {
    ...result,
    rate: opts.rate,
    durationSeconds: opts.durationSeconds,
    achievedRate,
    held,
    serviceCores: serviceCores.length > 0 ? sum(serviceCores) / serviceCores.length : NaN,
    p50Ms: percentileAt(result.percentiles, 50),
    p95Ms: percentileAt(result.percentiles, 95),
    p99Ms: percentileAt(result.percentiles, 99),
    p999Ms: percentileAt(result.percentiles, 99.9),
    maxMs: percentileAt(result.percentiles, 100),
    errors: sum(result.perSecond.errors) + result.unsent,
    non2xx: sum(result.perSecond.non2xx),
    trace: {
      generator: 'open-model',
      responses: rates(result.perSecond.responses),
      non2xx: rates(result.perSecond.non2xx),
      errors: rates(result.perSecond.errors),
      serviceCores,
      generatorCores: result.perSecond.generatorCores,
      percentiles: result.percentiles,
      sendPercentiles: result.sendPercentiles,
    },
  };
}

/** One open-model run; rejects when the generator fails. `servicePids` are sampled for the service's CPU. */
export function runOpenModel(
  opts: OpenModelOptions,
  tolerance: number,
  servicePids: () => number[] = () => [],
): Promise<OpenModelRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', GENERATOR, JSON.stringify(opts)], {
      cwd: projectRoot(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The service's CPU is sampled from the measured window's start (after the generator's warm-up).
    let cpu: CpuSampler | undefined;
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (cpu === undefined && out.includes('OPEN_MODEL_START\n')) cpu = sampleCpu(servicePids, () => []);
    });
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', (e) => {
      cpu?.stop();
      reject(e);
    });
    child.on('close', (code) => {
      const service = cpu?.stop().service ?? [];
      const result = parseGeneratorOutput(out);
      if (code !== 0 || result === undefined)
        return reject(new Error(`open-model generator failed (${code}): ${err || out}`));
      resolve(judgeOpenModel(result, opts, tolerance, service));
    });
  });
}

const ms = (n: number): string => n.toFixed(2);

/** The run as the operator reads it: one line, or the refusal when the rate was not held. */
export function describeOpenModel(run: OpenModelRun): string {
  const generator = `generator ${run.generatorCores.toFixed(2)} cores, ${run.connectionsOpened} connections`;
  const sent = `sent ${run.achievedRate.toFixed(0)} req/s of ${run.rate} asked (${run.sent} requests, ${run.late} not sent on time, ${run.unsent} never sent)`;
  if (!run.held) return `open model: rate NOT HELD: ${sent}; ${generator}: latencies not reported`;
  return (
    `open model at ${run.rate} req/s for ${run.durationSeconds} s: ${sent}; latency from the scheduled send p50 ${ms(run.p50Ms)} ms, ` +
    `p99 ${ms(run.p99Ms)} ms, p99.9 ${ms(run.p999Ms)} ms, max ${ms(run.maxMs)} ms (from the actual send: p99 ${ms(percentileAt(run.sendPercentiles, 99))} ms); ` +
    `errors ${run.errors}, non-2xx ${run.non2xx}; ${generator}`
  );
}
