import path from 'node:path';
import { createRandom } from '../../../db/generate/prng';
import { hotStyles, pageViews, type PlannedRequest } from '../../lib/traffic';
import { exportDocuments, startStaticBaseline } from '../baseline';
import { median, summarise, writePaths, type BenchContext, type Measured } from '../context';
import { freePort } from '../processes';

// Warm-up runs end below this cache miss ratio (0.5 %), or after MAX_WARM_UP_RUNS.
const WARM_MISS_RATIO = 0.005;
const MAX_WARM_UP_RUNS = 12;
// The styles scenario's working set: the most popular products (Zipf over their ranks).
const HOT_STYLES_PRODUCTS = 10_000;

interface HotRun {
  /** Row names: `baseline: nginx static (…)` and this. */
  name: string;
  /** Names the baseline row, so later scenarios find theirs (e.g. `baseline (styles)`). */
  baselineName: string;
  pathsFile: string;
  draw: () => PlannedRequest[];
  ratioTarget: number;
  p99TargetMs: number;
}

/**
 * The baseline (nginx serving the same bodies as static files) and the service with warm
 * caches, in alternating rounds: two rows, the service's against the baseline.
 */
async function hotAgainstBaseline(ctx: BenchContext, run: HotRun): Promise<void> {
  const { opt, file, dir } = ctx;
  const paths = writePaths(run.pathsFile, run.draw, opt.paths);
  const www = path.join(dir, `www-${path.basename(run.pathsFile, '.paths')}`);
  const files = await exportDocuments(ctx.db, paths, www);
  const baseline = await startStaticBaseline(www, `${www}-nginx`, await freePort(), ctx.workers);
  ctx.onCleanup(baseline.stop);
  const hotCache = file.bench.hotCacheBytes;
  const service = await ctx.startService(path.basename(run.pathsFile, '.paths'), { CACHE_MAX_BYTES: String(hotCache) });
  // Warm-up until the service's caches hold the working set, and once through nginx for its file cache.
  for (let round = 0; round < MAX_WARM_UP_RUNS; round++) {
    const misses = await service.metric('atelier_cache_misses_total');
    const warm = await ctx.measure(service.url, run.pathsFile, service.pids);
    const ratio = ((await service.metric('atelier_cache_misses_total')) - misses) / warm.requests;
    ctx.say(`${run.name}: warm-up run ${round + 1}: ${warm.requests} requests, miss ratio ${(100 * ratio).toFixed(2)} %`);
    if (ratio < WARM_MISS_RATIO) break;
  }
  await ctx.measure(baseline.url, run.pathsFile, () => []);
  const base: Measured[] = [];
  const hot: Measured[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < opt.rounds; r++) {
    const b = await ctx.measure(baseline.url, run.pathsFile, () => []);
    const s = await ctx.measure(service.url, run.pathsFile, service.pids);
    base.push(b);
    hot.push(s);
    ratios.push(s.rps / b.rps);
  }
  const rss = service.workerRssMb();
  await service.stop();
  await baseline.stop();
  // A baseline answering 404/500 (a missing file, no descriptors left) would be fast for
  // the wrong reason: it must be as clean as the service is required to be.
  ctx.rows.push(summarise(`${run.baselineName} (${files} files)`, base, { target: 'no errors', pass: true }));
  ctx.rows.push(
    summarise(`${run.name}, warm caches (${hotCache / 2 ** 20} MiB)`, hot, {
      ratio: median(ratios),
      workerRssMb: rss,
      rssLimitMb: hotCache / 2 ** 20 + file.bench.targets.workerRssOverCacheMb!,
      target: `≥ ${run.ratioTarget}× baseline, p99 ≤ ${run.p99TargetMs} ms`,
      pass: median(ratios) >= run.ratioTarget && median(hot.map((h) => h.p99Ms)) <= run.p99TargetMs,
    }),
  );
}

/** Names of the baseline rows, for the cold scenarios to compare against. */
export const PAGE_VIEW_BASELINE = 'baseline: nginx static';
export const STYLES_BASELINE = 'baseline (styles): nginx static';

/** Zipf page views (product, styles, related; listing pages) over the whole catalog. */
export async function hotScenario(ctx: BenchContext): Promise<void> {
  const targets = ctx.file.bench.targets;
  await hotAgainstBaseline(ctx, {
    name: 'hot: Zipf page views',
    baselineName: PAGE_VIEW_BASELINE,
    pathsFile: path.join(ctx.dir, 'hot.paths'),
    draw: pageViews(ctx.shape, { ...ctx.file.traffic, unknownIdShare: 0 }, createRandom(1).next),
    ratioTarget: targets.hotVsBaseline!,
    p99TargetMs: targets.hotP99Ms!,
  });
}

/** `/products/:id/styles` alone, the largest and most requested document, Zipf over 10k products. */
export async function hotStylesScenario(ctx: BenchContext): Promise<void> {
  const targets = ctx.file.bench.targets;
  await hotAgainstBaseline(ctx, {
    name: `hot styles: Zipf over ${HOT_STYLES_PRODUCTS / 1000}k products`,
    baselineName: STYLES_BASELINE,
    pathsFile: path.join(ctx.dir, 'hot-styles.paths'),
    draw: hotStyles(ctx.shape, ctx.file.traffic, HOT_STYLES_PRODUCTS, createRandom(2).next),
    ratioTarget: targets.hotStylesVsBaseline!,
    p99TargetMs: targets.hotStylesP99Ms!,
  });
}
