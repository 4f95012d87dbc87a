import type { BenchContext } from '../context';
import { compressedShare, parseEncodingBytes } from '../encodings';
import type { Service } from '../processes';

// Warm-up runs end below this cache miss ratio (0.5 %), or after MAX_WARM_UP_RUNS (each a
// run's length: at most 12 × 8 s by default).
export const WARM_MISS_RATIO = 0.005;
export const MAX_WARM_UP_RUNS = 12;
// Accept-Encoding traffic's bound: compressions per worker are rate-bounded
// (COMPRESS_MAX_PER_SECOND), so its runs get slower and go less far down the paths list until
// the hot set is compressed. At 12 runs (2026-12-07, a complete `npm run bench`) the last run
// still had 5.9 % misses and 86 % of document bytes compressed, and the row measured a cache
// that was not yet warm although it says "warm caches".
export const MAX_COMPRESSED_WARM_UP_RUNS = 24;
// With Accept-Encoding: warm once this share of the document bytes (their identity size)
// went out compressed...
export const WARM_COMPRESSED_SHARE = 0.98;
// ...or once a run's bytes per request fell by less than this (1 %) from the run before:
// what is still identity then stays so (documents the service does not compress, a service
// without the encoding counters or without content coding at all).
export const WARM_BYTES_FALL = 0.01;

/** What one warm-up run showed. */
export interface WarmRound {
  requests: number;
  /** Cache misses per request during the run. */
  missRatio: number;
  /** Bytes wrk read per request (headers and bodies, as sent). */
  bytesPerRequest: number;
  /** Share of the document bytes (identity size) sent compressed; undefined without the service's counters. */
  compressedShare?: number;
}

/** Identity traffic: warm once the caches hold the working set. */
export function cachedEnough(round: WarmRound): boolean {
  return round.missRatio < WARM_MISS_RATIO;
}

/**
 * Accept-Encoding traffic: warm once the caches hold the working set and the responses are
 * compressed, seen from the service's counters (WARM_COMPRESSED_SHARE) or, failing that,
 * from wrk's bytes per request no longer falling (WARM_BYTES_FALL; needs a run before).
 */
export function compressedEnough(previous: WarmRound | undefined, round: WarmRound): boolean {
  if (!cachedEnough(round)) return false;
  if (round.compressedShare !== undefined && round.compressedShare >= WARM_COMPRESSED_SHARE) return true;
  if (previous === undefined || !(previous.bytesPerRequest > 0)) return false;
  return (previous.bytesPerRequest - round.bytesPerRequest) / previous.bytesPerRequest < WARM_BYTES_FALL;
}

const percent = (x: number): string => `${(100 * x).toFixed(2)} %`;

/**
 * Runs the paths against the service, a run's length at a time, until `warm(previous, round)`
 * says so or `maxRuns` ran (said too); says each run's figures. Returns the last run's.
 */
export async function warmUp(
  ctx: BenchContext,
  service: Service,
  pathsFile: string,
  label: string,
  warm: (previous: WarmRound | undefined, round: WarmRound) => boolean,
  headers?: Readonly<Record<string, string>>,
  maxRuns = MAX_WARM_UP_RUNS,
): Promise<WarmRound | undefined> {
  let previous: WarmRound | undefined;
  for (let run = 0; run < maxRuns; run++) {
    const misses = await service.metric('atelier_cache_misses_total');
    const encodings = parseEncodingBytes(await service.metricsText());
    const m = await ctx.measure(service.url, pathsFile, service.pids, headers && { headers });
    const share = compressedShare(encodings, parseEncodingBytes(await service.metricsText()));
    const round: WarmRound = {
      requests: m.requests,
      missRatio: ((await service.metric('atelier_cache_misses_total')) - misses) / m.requests,
      bytesPerRequest: m.bytes / m.requests,
      ...(share !== undefined && { compressedShare: share }),
    };
    const coding = headers === undefined ? '' : `, ${round.bytesPerRequest.toFixed(0)} B a request, ${share === undefined ? 'no encoding counters' : `${percent(share)} of document bytes compressed`}`;
    ctx.say(`${label}: warm-up run ${run + 1}: ${round.requests} requests, miss ratio ${percent(round.missRatio)}${coding}`);
    if (warm(previous, round)) return round;
    previous = round;
  }
  ctx.say(`${label}: warm-up stopped at its bound of ${maxRuns} runs, not warm by its criterion: the rows measure it as it is`);
  return previous;
}
