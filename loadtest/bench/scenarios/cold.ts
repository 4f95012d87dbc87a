import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRandom } from '../../../db/generate/prng';
import { catalogVersion, notifyCatalogChanged } from '../../../src/postgres/live-catalog';
import { uniformPageViews, uniformStyles, type CatalogShape, type PlannedRequest } from '../../lib/traffic';
import { median, summarise, writePaths, type BenchContext, type Measured } from '../context';
import type { Service } from '../processes';
import { DATABASE_BASELINE } from './database';
import { PAGE_VIEW_BASELINE, STYLES_BASELINE } from './hot';

// Longest wait for every worker to report an empty cache after the notice, in ms.
const CLEAR_TIMEOUT_MS = 10_000;

/**
 * Empties the service's caches the way a catalog reload does (the reload's notice), and
 * waits until the workers report none left.
 */
async function clearCaches(ctx: BenchContext, service: Service): Promise<void> {
  await notifyCatalogChanged(ctx.db, String(await catalogVersion(ctx.db)));
  const deadline = Date.now() + CLEAR_TIMEOUT_MS;
  while ((await service.metric('atelier_cache_entries')) > 0) {
    if (Date.now() > deadline) throw new Error('the service did not clear its caches after the catalog notice');
    await sleep(50);
  }
}

interface ColdRun {
  name: string;
  file: string;
  draw: (shape: CatalogShape, random: () => number) => () => PlannedRequest[];
  /** The row whose requests/s this one is compared with. */
  baseline: string;
  ratioTarget: number;
  /** Compared with the database baseline's documents/s too (styles: one document a request). */
  ofDatabaseTarget?: number;
}

/**
 * Uniform traffic on empty caches, one row. Each round starts a fresh service, runs other
 * uniform traffic for a run's length (so the compiler has optimised the request path, as
 * in any process that has served a while), empties its caches as a catalog reload does, and
 * measures.
 */
async function coldRun(ctx: BenchContext, run: ColdRun): Promise<void> {
  const { opt, dir } = ctx;
  const coldFile = path.join(dir, `${run.file}.paths`);
  const warmFile = path.join(dir, `${run.file}-warm-up.paths`);
  const cold: Measured[] = [];
  let rss = 0;
  for (let r = 0; r < opt.rounds; r++) {
    writePaths(coldFile, run.draw(ctx.shape, createRandom(100 + r).next), opt.paths);
    writePaths(warmFile, run.draw(ctx.shape, createRandom(300 + r).next), opt.paths);
    const service = await ctx.startService(run.file);
    await ctx.measure(service.url, warmFile, service.pids);
    await clearCaches(ctx, service);
    cold.push(await ctx.measure(service.url, coldFile, service.pids));
    rss = Math.max(rss, service.workerRssMb());
    await service.stop();
  }
  const targets = ctx.file.bench.targets;
  const rps = median(cold.map((c) => c.rps));
  const baselineRps = ctx.rows.find((row) => row.scenario.startsWith(run.baseline))?.rps;
  const ratio = baselineRps ? rps / baselineRps : undefined;
  const databaseRps = ctx.rows.find((row) => row.scenario.startsWith(DATABASE_BASELINE))?.rps;
  const ofDatabase = run.ofDatabaseTarget !== undefined && databaseRps ? rps / databaseRps : undefined;
  const p99Met = median(cold.map((c) => c.p99Ms)) <= targets.coldP99Ms!;
  const databaseMet = run.ofDatabaseTarget === undefined || (ofDatabase ?? 0) >= run.ofDatabaseTarget;
  ctx.rows.push(
    summarise(run.name, cold, {
      ratio,
      ...(ofDatabase !== undefined && { ofDatabase }),
      workerRssMb: rss,
      target:
        `≥ ${run.ratioTarget}× baseline, p99 ≤ ${targets.coldP99Ms} ms` +
        (run.ofDatabaseTarget !== undefined ? `, ≥ ${run.ofDatabaseTarget} of the database's rate` : ''),
      pass: (ratio ?? 0) >= run.ratioTarget && p99Met && databaseMet,
    }),
  );
}

/** Uniform page views (product, styles, related) on empty caches, against the page-view baseline. */
export async function coldScenario(ctx: BenchContext): Promise<void> {
  await coldRun(ctx, {
    name: 'cold: uniform page views, empty caches',
    file: 'cold',
    draw: uniformPageViews,
    baseline: PAGE_VIEW_BASELINE,
    ratioTarget: ctx.file.bench.targets.coldVsBaseline!,
  });
}

/** Uniform `/styles` over the whole catalog on empty caches, against the styles baseline and the database's own rate. */
export async function coldStylesScenario(ctx: BenchContext): Promise<void> {
  const targets = ctx.file.bench.targets;
  await coldRun(ctx, {
    name: 'cold styles: uniform ids, empty caches',
    file: 'cold-styles',
    draw: uniformStyles,
    baseline: STYLES_BASELINE,
    ratioTarget: targets.coldStylesVsBaseline!,
    ofDatabaseTarget: targets.coldStylesOfDatabase!,
  });
}
