import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRandom } from '../../../db/generate/prng';
import { catalogVersion, notifyCatalogChanged } from '../../../src/postgres/live-catalog';
import { pageViewModel, type PageView } from '../../lib/page-views';
import { drawUniformPageViews, uniformStyles, type CatalogShape, type PlannedRequest } from '../../lib/traffic';
import { median, summarise, writePaths, type BenchContext, type Measured } from '../context';
import { writePageViewPaths } from '../page-view-paths';
import type { Service } from '../processes';
import { judge, type Check, type Row } from '../report';
import { DATABASE_BASELINE } from './database';
import { PAGE_VIEW_BASELINE, STYLES_BASELINE } from './hot';

// Longest wait for every worker to report an empty cache after the notice, in ms.
const CLEAR_TIMEOUT_MS = 10_000;

/**
 * Empties the service's caches the way a catalog reload does (the reload's notice), and
 * waits until the workers report none left.
 */
export async function clearCaches(ctx: BenchContext, service: Service): Promise<void> {
  await notifyCatalogChanged(ctx.db, String(await catalogVersion(ctx.db)));
  const deadline = Date.now() + CLEAR_TIMEOUT_MS;
  while ((await service.metric('atelier_cache_entries')) > 0) {
    if (Date.now() > deadline) throw new Error('the service did not clear its caches after the catalog notice');
    await sleep(50);
  }
}

/** One kind of client of a cold scenario: its row's name and the headers it sends. */
interface ColdClient {
  name: string;
  headers?: Readonly<Record<string, string>>;
}

/** Requests drawn as they are; or page views, expanded with the default page-view model. */
type ColdPaths =
  | { draw: (shape: CatalogShape, random: () => number) => () => PlannedRequest[] }
  | { pageViews: (shape: CatalogShape, random: () => number) => () => PageView };

type ColdRun = ColdPaths & ColdRunSettings;

interface ColdRunSettings {
  file: string;
  /**
   * The first is the scenario's own row, judged on the targets; a second, if any, is
   * measured on the same services, in interleaved runs, for comparison with the first.
   */
  clients: readonly [ColdClient, ...ColdClient[]];
  /** The row whose requests/s this one is compared with. */
  baseline: string;
  ratioTarget: number;
  /** Compared with the database baseline's documents/s too (styles: one document a request). */
  ofDatabaseTarget?: number;
}

/**
 * Uniform traffic on empty caches, a row per kind of client. Each round starts a fresh
 * service, runs other uniform traffic for a run's length (so the compiler has optimised the
 * request path, as in any process that has served a while; split between the kinds of
 * client, so each one's path is compiled), then, for each kind of client, empties its
 * caches as a catalog reload does and measures. With two kinds, the order alternates from
 * one round to the next, so neither always meets the process that has served longer.
 */
async function coldRun(ctx: BenchContext, run: ColdRun): Promise<void> {
  const { opt, dir } = ctx;
  // One list per kind of client: the same draw twice would meet the second client with every
  // id already asked for once, which the cache's doorkeeper (CACHE_ADMIT_AFTER) then keeps.
  const coldFiles = run.clients.map((_, i) => path.join(dir, `${run.file}-${i}.paths`));
  const warmFile = path.join(dir, `${run.file}-warm-up.paths`);
  const cold: Measured[][] = run.clients.map(() => []);
  const rss: number[] = run.clients.map(() => 0);
  const warmSeconds = Math.max(1, Math.round(opt.duration / run.clients.length));
  const model = pageViewModel(ctx.file.pageViews);
  const write = async (file: string, seed: number): Promise<void> => {
    const random = createRandom(seed).next;
    if ('pageViews' in run) await writePageViewPaths(ctx.db, file, run.pageViews(ctx.shape, random), model, opt.paths);
    else writePaths(file, run.draw(ctx.shape, random), opt.paths);
  };
  for (let r = 0; r < opt.rounds; r++) {
    for (const [i, file] of coldFiles.entries()) await write(file, 100 + r + 1000 * i);
    await write(warmFile, 300 + r);
    const service = await ctx.startService(run.file);
    for (const { headers } of run.clients) await ctx.measure(service.url, warmFile, service.pids, { durationSeconds: warmSeconds, ...(headers && { headers }) });
    for (let k = 0; k < run.clients.length; k++) {
      const i = (k + r) % run.clients.length;
      const headers = run.clients[i]!.headers;
      await clearCaches(ctx, service);
      const measured = await ctx.measure(service.url, coldFiles[i]!, service.pids, headers && { headers });
      cold[i]!.push(measured);
      rss[i] = Math.max(rss[i]!, service.workerRssMb());
      // Each round's figures in the order measured: a client measured first after the warm-up
      // in more rounds than the other (odd rounds) would carry any effect of its position.
      if (run.clients.length > 1) {
        const micros = (measured.serverCores / measured.rps) * 1e6;
        ctx.say(
          `${run.clients[i]!.name.split(':')[0]}: round ${r + 1}, measured ${k + 1} of ${run.clients.length}: ${Math.round(measured.rps)} req/s, ${micros.toFixed(0)} µs of service CPU a request, p99 ${measured.p99Ms.toFixed(1)} ms`,
        );
      }
    }
    await service.stop();
  }
  const targets = ctx.file.bench.targets;
  const baselineRps = ctx.rows.find((row) => row.scenario.startsWith(run.baseline))?.rps;
  const databaseRps = ctx.rows.find((row) => row.scenario.startsWith(DATABASE_BASELINE))?.rps;
  const rows = run.clients.map((clients, i) => {
    const rps = median(cold[i]!.map((c) => c.rps));
    const ratio = baselineRps ? rps / baselineRps : undefined;
    const ofDatabase = run.ofDatabaseTarget !== undefined && databaseRps ? rps / databaseRps : undefined;
    return summarise(clients.name, cold[i]!, { ratio, ...(ofDatabase !== undefined && { ofDatabase }), workerRssMb: rss[i]! });
  });
  const [own, ...others] = rows as [Row, ...Row[]];
  const checks: Check[] = [
    [`≥ ${run.ratioTarget}× baseline`, (own.ratio ?? 0) >= run.ratioTarget],
    [`p99 ≤ ${targets.coldP99Ms} ms`, median(cold[0]!.map((c) => c.p99Ms)) <= targets.coldP99Ms!],
  ];
  if (run.ofDatabaseTarget !== undefined) checks.push([`≥ ${run.ofDatabaseTarget} of the database's rate`, (own.ofDatabase ?? 0) >= run.ofDatabaseTarget]);
  if (others.length > 0) {
    // The same services measured both: the median of their per-round ratios, not of two medians.
    const sameService = median(cold[0]!.map((c, r) => c.rps / cold[1]![r]!.rps));
    const least = targets.coldCompressedOfIdentity!;
    own.scenario += ` (${sameService.toFixed(2)}× the identity row's rate, same services)`;
    checks.push([`rate ≥ ${least}× identity's`, sameService >= least]);
  }
  ctx.rows.push({ ...own, ...judge(checks) }, ...others);
}

/** Uniform page views (the default page-view model) on empty caches, against the page-view baseline; clients send Accept-Encoding. */
export async function coldScenario(ctx: BenchContext): Promise<void> {
  const headers = ctx.file.requestHeaders;
  await coldRun(ctx, {
    file: 'cold',
    pageViews: drawUniformPageViews,
    clients: [{ name: `cold: uniform page views (${ctx.file.pageViews.default} model), empty caches, Accept-Encoding ${headers['Accept-Encoding'] ?? '(none)'}`, headers }],
    baseline: PAGE_VIEW_BASELINE,
    ratioTarget: ctx.file.bench.targets.coldVsBaseline!,
  });
}

/**
 * Uniform `/styles` over the whole catalog on empty caches, against the styles baseline and
 * the database's own rate: clients sending Accept-Encoding (the scenario's row), and another
 * uniform draw of ids without it (identity, what this row measured before content coding), for the target
 * that compression costs cold traffic nothing (`coldCompressedOfIdentity`).
 */
export async function coldStylesScenario(ctx: BenchContext): Promise<void> {
  const targets = ctx.file.bench.targets;
  const headers = ctx.file.requestHeaders;
  await coldRun(ctx, {
    file: 'cold-styles',
    draw: uniformStyles,
    clients: [
      { name: `cold styles: uniform ids, empty caches, Accept-Encoding ${headers['Accept-Encoding'] ?? '(none)'}`, headers },
      { name: 'cold styles identity: uniform ids, empty caches, no Accept-Encoding' },
    ],
    baseline: STYLES_BASELINE,
    ratioTarget: targets.coldStylesVsBaseline!,
    ofDatabaseTarget: targets.coldStylesOfDatabase!,
  });
}
