import path from 'node:path';
import { createRandom } from '../../../db/generate/prng';
import { uniformPageViews } from '../../lib/traffic';
import { summarise, writePaths, type BenchContext, type Measured } from '../context';

// How often the workers' RSS is sampled during the run, in ms.
const RSS_SAMPLE_MS = 500;

// Most runs of --churn seconds before the row is given as it is (a slow day's machine may
// need more than one to turn the caches over; 30 s turned them over only 0.8-0.9× on 2026-12-07).
const MAX_RUNS = 4;

/**
 * The RSS bound is for a cache that is full and churning, not one still filling: cold
 * traffic on one service until its caches have turned over (runs of --churn seconds, at most
 * MAX_RUNS), RSS sampled throughout. One row. Its clients send Accept-Encoding as real ones
 * do, so whatever compressed bodies the service keeps are inside the bound too.
 */
export async function memoryScenario(ctx: BenchContext): Promise<void> {
  const { opt, dir } = ctx;
  const memoryFile = path.join(dir, 'memory.paths');
  writePaths(memoryFile, uniformPageViews(ctx.shape, createRandom(200).next), 3 * opt.paths);
  // Every read cached: with the default doorkeeper (CACHE_ADMIT_AFTER=2) uniform traffic is
  // rarely asked for twice, so the caches would not fill; the bound must hold for either.
  const service = await ctx.startService('memory', { CACHE_ADMIT_AFTER: '1' });
  let rss = 0;
  const sampler = setInterval(() => (rss = Math.max(rss, service.workerRssMb())), RSS_SAMPLE_MS);
  const runs: Measured[] = [];
  let turnover = 0;
  while (runs.length < MAX_RUNS && turnover < 1) {
    runs.push(await ctx.measure(service.url, memoryFile, service.pids, { durationSeconds: opt.churn, headers: ctx.file.requestHeaders }));
    turnover = (await service.metric('atelier_cache_evictions_total')) / (await service.metric('atelier_cache_entries'));
  }
  clearInterval(sampler);
  await service.stop();
  ctx.rows.push(
    summarise(`memory: uniform ids for ${runs.length * opt.churn} s, every read cached, caches turned over ${turnover.toFixed(1)}×`, runs, {
      workerRssMb: rss,
      target: 'peak RSS within the bound, caches turned over ≥ 1×',
      pass: turnover >= 1,
    }),
  );
}
