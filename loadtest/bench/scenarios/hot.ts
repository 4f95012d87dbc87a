import path from 'node:path';
import { createRandom } from '../../../db/generate/prng';
import { firstRequests, pageViewModel, type PageView, type PageViewModel } from '../../lib/page-views';
import { drawPageViews, hotStyles, type PlannedRequest } from '../../lib/traffic';
import { checkBaselineCoding, exportDocuments, startStaticBaseline } from '../baseline';
import { median, summarise, writePaths, type BenchContext, type Measured } from '../context';
import { writePageViewPaths } from '../page-view-paths';
import { freePort, type Service } from '../processes';
import { judge, type Check, type Row } from '../report';
import { documentBytesSent, parseEncodingBytes } from '../encodings';
import { wireBytesPerView } from '../wire-bytes';
import { cachedEnough, warmUp } from './warm-up';

// The styles scenario's working set: the most popular products (Zipf over their ranks).
const HOT_STYLES_PRODUCTS = 10_000;

/** What the service's row is judged on. */
export interface HotResult {
  /** The service's measured runs. */
  hot: Measured[];
  /** Median of the per-pair ratios, service over baseline. */
  ratio: number;
  /** The service's bytes per page view (page-view mixes only). */
  wireBytesPerView?: number;
  /** Of those, the document bodies' (the service's own counters; page-view mixes only). */
  documentBytesPerView?: number;
}

export interface Judged {
  checks: Check[];
  extra?: Partial<Row>;
  /** Appended to the row's name (e.g. how much went out compressed). */
  nameSuffix?: string;
}

/** What a run's path list is drawn from: requests as they are (e.g. styles alone), or page views expanded with a model (related ids from the catalog; requests per view measured on the list drawn). */
export type HotPaths = { draw: () => PlannedRequest[] } | { pageViews: PageViewDraws };

export type HotRun = HotPaths & HotRunSettings;

interface HotRunSettings {
  /** Names the service's row (`, warm caches (N MiB)` is appended). */
  name: string;
  /** Names the baseline's row, so later scenarios find theirs (e.g. `baseline (styles)`): `NAME: nginx static (N files)`. */
  baselineName: string;
  pathsFile: string;
  /** Sent with every request, the baseline's and the service's (none: identity traffic). */
  headers?: Readonly<Record<string, string>>;
  /** The baseline also holds each body compressed as the service stores it, and answers with it. */
  precompressed?: boolean;
  /** Runs the service until warm (default: until its cache misses are below 0.5 %). */
  warmUp?: (service: Service) => Promise<void>;
  /** The service row's targets, whatever else the row shows, and words for its name; called before the service stops. */
  judge(result: HotResult, service: Service): Promise<Judged> | Judged;
}

/**
 * The baseline (nginx serving the same bodies as static files) and the service with warm
 * caches, in alternating rounds: two rows, the service's against the baseline.
 */
export async function hotAgainstBaseline(ctx: BenchContext, run: HotRun): Promise<void> {
  const { opt, file, dir } = ctx;
  const name = path.basename(run.pathsFile, '.paths');
  const drawn =
    'pageViews' in run
      ? await writePageViewPaths(ctx.db, run.pathsFile, run.pageViews.draw, run.pageViews.model, opt.paths)
      : { paths: writePaths(run.pathsFile, run.draw, opt.paths), requestsPerView: undefined };
  const { paths, requestsPerView } = drawn;
  const www = path.join(dir, `www-${name}`);
  const files = await exportDocuments(ctx.db, paths, www, run.precompressed ? ['br', 'gzip'] : []);
  const baseline = await startStaticBaseline(www, `${www}-nginx`, await freePort(), ctx.workers, { precompressed: run.precompressed ?? false, say: ctx.say });
  ctx.onCleanup(baseline.stop);
  await checkBaselineCoding(baseline, paths[0]!, run.headers);
  const hotCache = file.bench.hotCacheBytes;
  const service = await ctx.startService(name, { CACHE_MAX_BYTES: String(hotCache) });
  const measureOpts = run.headers && { headers: run.headers };
  // Warm-up until the service's caches hold the working set, and once through nginx for its file cache.
  await (run.warmUp ?? ((s) => warmUp(ctx, s, run.pathsFile, run.name, (_, round) => cachedEnough(round))))(service);
  await ctx.measure(baseline.url, run.pathsFile, () => [], measureOpts);
  const base: Measured[] = [];
  const hot: Measured[] = [];
  const ratios: number[] = [];
  const countersBefore = parseEncodingBytes(await service.metricsText());
  for (let r = 0; r < opt.rounds; r++) {
    const b = await ctx.measure(baseline.url, run.pathsFile, () => [], measureOpts);
    const s = await ctx.measure(service.url, run.pathsFile, service.pids, measureOpts);
    base.push(b);
    hot.push(s);
    ratios.push(s.rps / b.rps);
  }
  const rss = service.workerRssMb();
  const bodies = documentBytesSent(countersBefore, parseEncodingBytes(await service.metricsText()));
  const wire = (runs: Measured[]) => (requestsPerView !== undefined ? { wireBytesPerView: wireBytesPerView(runs, requestsPerView), requestsPerView } : {});
  const documents =
    requestsPerView !== undefined && bodies !== undefined
      ? { documentBytesPerView: wireBytesPerView([{ bytes: bodies, requests: hot.reduce((n, h) => n + h.requests, 0) }], requestsPerView) }
      : {};
  const result: HotResult = { hot, ratio: median(ratios), ...wire(hot), ...documents };
  const judged = await run.judge(result, service);
  await service.stop();
  await baseline.stop();
  // A baseline answering 404/500 (a missing file, no descriptors left) would be fast for
  // the wrong reason: it must be as clean as the service is required to be.
  const precompressed = run.precompressed ? ', each also as .br and .gz' : '';
  const perView = requestsPerView !== undefined ? ` (${requestsPerView.toFixed(1)} requests a view)` : '';
  ctx.rows.push(summarise(`${run.baselineName}: ${baseline.label} (${files} files${precompressed})`, base, { target: 'no errors', pass: true, ...wire(base) }));
  ctx.rows.push(
    summarise(`${run.name}${perView}, warm caches (${hotCache / 2 ** 20} MiB)${judged.nameSuffix ?? ''}`, hot, {
      ratio: result.ratio,
      workerRssMb: rss,
      rssLimitMb: hotCache / 2 ** 20 + file.bench.targets.workerRssOverCacheMb!,
      ...wire(hot),
      ...documents,
      ...judge(judged.checks),
      ...judged.extra,
    }),
  );
}

/** Names of the baseline rows, for the cold scenarios to compare against. */
export const PAGE_VIEW_BASELINE = 'baseline: nginx static';
export const STYLES_BASELINE = 'baseline (styles): nginx static';
/** Name of the identity page-view row, for the compressed one to compare its wire bytes with. */
export const HOT_PAGE_VIEWS = 'hot: Zipf page views';

/** Page views before expansion, and the model that expands them. */
export interface PageViewDraws {
  draw: () => PageView;
  model: PageViewModel;
}

/** Zipf page views over the whole catalog, seed 1, no unknown ids; expanded with `model` (the default one of scenarios.json unless named). */
export const hotPageViewDraws = (ctx: BenchContext, model?: string): PageViewDraws => ({
  draw: drawPageViews(ctx.shape, { ...ctx.file.traffic, unknownIdShare: 0 }, createRandom(1).next),
  model: pageViewModel(ctx.file.pageViews, model),
});

/** The earlier page-view model, reported beside the default one. */
export const THREE_DOCUMENTS = 'three-documents';

/** The soak's Zipf page views of the three-documents model (product, styles, related; listing pages), no unknown ids. */
export function threeDocumentPageViews(ctx: BenchContext, seed: number): () => PlannedRequest[] {
  const draw = drawPageViews(ctx.shape, { ...ctx.file.traffic, unknownIdShare: 0 }, createRandom(seed).next);
  const model = pageViewModel(ctx.file.pageViews, THREE_DOCUMENTS);
  return () => firstRequests(draw(), model);
}

/** Identity targets: the ratio to the baseline and the p99. */
export const ratioAndP99 = (ratioTarget: number, p99TargetMs: number) => (result: HotResult): Judged => ({
  checks: [
    [`≥ ${ratioTarget}× baseline`, result.ratio >= ratioTarget],
    [`p99 ≤ ${p99TargetMs} ms`, median(result.hot.map((h) => h.p99Ms)) <= p99TargetMs],
  ],
});

/** Zipf page views of the default model (the storefront's fan-out; listing pages) over the whole catalog. */
export async function hotScenario(ctx: BenchContext): Promise<void> {
  const targets = ctx.file.bench.targets;
  const views = hotPageViewDraws(ctx);
  await hotAgainstBaseline(ctx, {
    name: `${HOT_PAGE_VIEWS}, ${ctx.file.pageViews.default} model`,
    baselineName: 'baseline',
    pathsFile: path.join(ctx.dir, 'hot.paths'),
    pageViews: views,
    judge: ratioAndP99(targets.hotVsBaseline!, targets.hotP99Ms!),
  });
}

/** The same Zipf page views (same products) with the earlier three-documents model, against their own baseline. */
export async function hotThreeDocumentsScenario(ctx: BenchContext): Promise<void> {
  const targets = ctx.file.bench.targets;
  await hotAgainstBaseline(ctx, {
    name: `hot ${THREE_DOCUMENTS.replace('-', ' ')}: Zipf page views, ${THREE_DOCUMENTS} model`,
    baselineName: `baseline (${THREE_DOCUMENTS.replace('-', ' ')})`,
    pathsFile: path.join(ctx.dir, 'hot-three-documents.paths'),
    pageViews: hotPageViewDraws(ctx, THREE_DOCUMENTS),
    judge: ratioAndP99(targets.hotVsBaseline!, targets.hotP99Ms!),
  });
}

/** `/products/:id/styles` alone, the largest and most requested document, Zipf over 10k products. */
export async function hotStylesScenario(ctx: BenchContext): Promise<void> {
  const targets = ctx.file.bench.targets;
  await hotAgainstBaseline(ctx, {
    name: `hot styles: Zipf over ${HOT_STYLES_PRODUCTS / 1000}k products`,
    baselineName: 'baseline (styles)',
    pathsFile: path.join(ctx.dir, 'hot-styles.paths'),
    draw: hotStyles(ctx.shape, ctx.file.traffic, HOT_STYLES_PRODUCTS, createRandom(2).next),
    judge: ratioAndP99(targets.hotStylesVsBaseline!, targets.hotStylesP99Ms!),
  });
}
