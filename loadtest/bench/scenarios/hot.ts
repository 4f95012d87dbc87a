import path from 'node:path';
import { createRandom } from '../../../db/generate/prng';
import { pageViews } from '../../lib/traffic';
import { exportDocuments, startStaticBaseline } from '../baseline';
import { median, summarise, writePaths, type BenchContext, type Measured } from '../context';
import { freePort } from '../processes';

// Warm-up runs end below this cache miss ratio (0.5 %), or after MAX_WARM_UP_RUNS.
const WARM_MISS_RATIO = 0.005;
const MAX_WARM_UP_RUNS = 12;

/**
 * The baseline (nginx serving the same bodies as static files) and the service with warm
 * caches, on Zipf page views, in alternating rounds: two rows, the service's against the baseline.
 */
export async function hotScenario(ctx: BenchContext): Promise<void> {
  const { opt, file, dir } = ctx;
  const hotFile = path.join(dir, 'hot.paths');
  const hotPaths = writePaths(hotFile, pageViews(ctx.shape, { ...file.traffic, unknownIdShare: 0 }, createRandom(1).next), opt.paths);
  const files = await exportDocuments(ctx.db, hotPaths, path.join(dir, 'www'));
  const baseline = await startStaticBaseline(path.join(dir, 'www'), path.join(dir, 'nginx'), await freePort(), ctx.workers);
  ctx.onCleanup(baseline.stop);
  const hotCache = file.bench.hotCacheBytes;
  const service = await ctx.startService('hot', { CACHE_MAX_BYTES: String(hotCache) });
  // Warm-up until the service's caches hold the working set, and once through nginx for its file cache.
  for (let run = 0; run < MAX_WARM_UP_RUNS; run++) {
    const misses = await service.metric('atelier_cache_misses_total');
    const warm = await ctx.measure(service.url, hotFile, service.pids);
    const ratio = ((await service.metric('atelier_cache_misses_total')) - misses) / warm.requests;
    ctx.say(`warm-up run ${run + 1}: ${warm.requests} requests, miss ratio ${(100 * ratio).toFixed(2)} %`);
    if (ratio < WARM_MISS_RATIO) break;
  }
  await ctx.measure(baseline.url, hotFile, () => []);
  const base: Measured[] = [];
  const hot: Measured[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < opt.rounds; r++) {
    const b = await ctx.measure(baseline.url, hotFile, () => []);
    const s = await ctx.measure(service.url, hotFile, service.pids);
    base.push(b);
    hot.push(s);
    ratios.push(s.rps / b.rps);
  }
  const rss = service.workerRssMb();
  await service.stop();
  await baseline.stop();
  const targets = file.bench.targets;
  // A baseline answering 404/500 (a missing file, no descriptors left) would be fast for
  // the wrong reason: it must be as clean as the service is required to be.
  ctx.rows.push(summarise(`baseline: nginx static (${files} files)`, base, { target: 'no errors', pass: true }));
  ctx.rows.push(
    summarise(`hot: Zipf page views, warm caches (${hotCache / 2 ** 20} MiB)`, hot, {
      ratio: median(ratios),
      workerRssMb: rss,
      rssLimitMb: hotCache / 2 ** 20 + targets.workerRssOverCacheMb!,
      target: `≥ ${targets.hotVsBaseline}× baseline, p99 ≤ ${targets.hotP99Ms} ms`,
      pass: median(ratios) >= targets.hotVsBaseline! && median(hot.map((h) => h.p99Ms)) <= targets.hotP99Ms!,
    }),
  );
}
