import path from 'node:path';
import { createRandom } from '../../../db/generate/prng';
import { uniformPageViews } from '../../lib/traffic';
import { summarise, writePaths, type BenchContext } from '../context';

// How often the workers' RSS is sampled during the run, in ms.
const RSS_SAMPLE_MS = 500;

/**
 * The RSS bound is for a cache that is full and churning, not one still filling: cold
 * traffic on one service until its caches have turned over, RSS sampled throughout. One row.
 * Its clients send Accept-Encoding as real ones do, so whatever compressed bodies the
 * service keeps are inside the bound too.
 */
export async function memoryScenario(ctx: BenchContext): Promise<void> {
  const { opt, dir } = ctx;
  const memoryFile = path.join(dir, 'memory.paths');
  writePaths(memoryFile, uniformPageViews(ctx.shape, createRandom(200).next), 3 * opt.paths);
  const service = await ctx.startService('memory');
  let rss = 0;
  const sampler = setInterval(() => (rss = Math.max(rss, service.workerRssMb())), RSS_SAMPLE_MS);
  const seconds = opt.churn;
  const run = await ctx.measure(service.url, memoryFile, service.pids, { durationSeconds: seconds, headers: ctx.file.requestHeaders });
  clearInterval(sampler);
  const turnover = (await service.metric('atelier_cache_evictions_total')) / (await service.metric('atelier_cache_entries'));
  await service.stop();
  ctx.rows.push(
    summarise(`memory: uniform ids for ${seconds} s, caches turned over ${turnover.toFixed(1)}×`, [run], {
      workerRssMb: rss,
      target: 'peak RSS within the bound, caches turned over ≥ 1×',
      pass: turnover >= 1,
    }),
  );
}
