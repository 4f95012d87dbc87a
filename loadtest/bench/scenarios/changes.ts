import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { priceServed, productsById, writeChangeSet } from '../../../db/change-set-files';
import { applyChanges } from '../../../db/etl/apply-changes';
import { createRandom } from '../../../db/generate/prng';
import { rankToPosition, zipfSampler } from '../../lib/traffic';
import { median, summarise, type BenchContext, type Measured } from '../context';
import { writePageViewPaths } from '../page-view-paths';
import { cpuSeconds, pidsNamed, type Service } from '../processes';
import { judge } from '../report';
import { cachedEnough, warmUp } from './warm-up';
import { hotPageViewDraws } from './hot';

/** What the change sets of one round did. */
interface Arrivals {
  sets: number;
  /** Sets started more than a tenth of the interval after their due time (the previous one still running). */
  late: number;
  /** Each set's applyChanges time, in ms. */
  applyMs: number[];
  /** The last set's first product and the price it was given. */
  last?: { id: number; price: string };
}

interface ChangeLoop {
  url: string;
  client: pg.ClientBase;
  work: string;
  products: number;
  everyMs: number;
  /** The next product drawn (Zipf, as the traffic). */
  nextId: () => number;
  /** The next price in cents (never the same twice: every set changes what it names). */
  nextCents: () => number;
}

/** A change set written to its folder, and its first product with the price it gives it. */
interface PreparedSet {
  dir: string;
  first?: { id: number; price: string };
}

/** Draws `loop.products` products, reads them and writes their change set into work/`name`. */
async function prepareSet(loop: ChangeLoop, name: string): Promise<PreparedSet> {
  const ids = new Set<number>();
  while (ids.size < loop.products) ids.add(loop.nextId());
  const products = await productsById(loop.client, [...ids]);
  const cents = loop.nextCents();
  const dir = path.join(loop.work, name);
  writeChangeSet(dir, products, cents);
  return { dir, ...(products[0] && { first: { id: products[0].id, price: (cents / 100).toFixed(2) } }) };
}

/** Applies a prepared set as `npm run etl -- --changes` does (its own connection); its time in ms. */
async function applySet(loop: ChangeLoop, set: PreparedSet): Promise<number> {
  const t0 = performance.now();
  await applyChanges({ url: loop.url, dir: set.dir, rejectsPath: path.join(loop.work, 'rejects.csv') });
  return performance.now() - t0;
}

/** Applies a change set every `everyMs` until `signal` aborts (a set in progress finishes). */
async function changeSetsUntil(loop: ChangeLoop, signal: AbortSignal): Promise<Arrivals> {
  const arrivals: Arrivals = { sets: 0, late: 0, applyMs: [] };
  const started = performance.now();
  for (let k = 0; !signal.aborted; k++) {
    const wait = started + k * loop.everyMs - performance.now();
    if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => undefined);
    else if (-wait > loop.everyMs / 10) arrivals.late++;
    if (signal.aborted) break;
    const set = await prepareSet(loop, 'set');
    arrivals.applyMs.push(await applySet(loop, set));
    arrivals.sets++;
    if (set.first) arrivals.last = set.first;
  }
  return arrivals;
}

// Change sets applied back to back without traffic, for their cost alone.
const IDLE_SETS = 5;

/**
 * What one change set costs with no traffic: IDLE_SETS sets prepared first, then applied back
 * to back, timing each and counting the CPU of every PostgreSQL process (the exited backends'
 * through their postmaster) and of this process meanwhile; per set, in ms.
 */
async function idleCost(loop: ChangeLoop): Promise<{ applyMs: number; postgresMs: number; applierMs: number }> {
  const sets: PreparedSet[] = [];
  for (let i = 0; i < IDLE_SETS; i++) sets.push(await prepareSet(loop, `idle-${i}`));
  const postgresBefore = cpuSeconds(pidsNamed('postgres'), true);
  const own = process.cpuUsage();
  const applyMs: number[] = [];
  for (const set of sets) applyMs.push(await applySet(loop, set));
  const ownUsed = process.cpuUsage(own);
  return {
    applyMs: median(applyMs),
    postgresMs: ((cpuSeconds(pidsNamed('postgres'), true) - postgresBefore) * 1000) / IDLE_SETS,
    applierMs: (ownUsed.user + ownUsed.system) / 1000 / IDLE_SETS,
  };
}

/** Cache hits and misses so far, summed over the workers. */
const cacheCounts = async (service: Service): Promise<{ hits: number; misses: number }> => ({
  hits: await service.metric('atelier_cache_hits_total'),
  misses: await service.metric('atelier_cache_misses_total'),
});

/**
 * Hot page views (the default model, the hot scenario's products) on a copy of the catalog's
 * database, in alternating rounds without and with change sets arriving (scenarios.json's
 * `bench.changes`): the throughput with them over without, and the hit ratio while they
 * arrive. Two rows; the second is judged.
 */
export async function changesScenario(ctx: BenchContext): Promise<void> {
  const url = ctx.changesDatabaseUrl;
  if (url === undefined) throw new Error('the changes scenario needs a copy of the catalog database (made by main before it connects)');
  const { opt, file, dir } = ctx;
  const { everyMs } = file.bench.changes;
  // Distinct products a set: never more than the catalog holds.
  const products = Math.min(file.bench.changes.products, ctx.shape.size);
  const pathsFile = path.join(dir, 'changes.paths');
  const views = hotPageViewDraws(ctx);
  const { requestsPerView } = await writePageViewPaths(ctx.db, pathsFile, views.draw, views.model, opt.paths);
  const name = `changes: Zipf page views, ${file.pageViews.default} model (${requestsPerView.toFixed(1)} requests a view)`;
  const service = await ctx.startService('changes', { DATABASE_URL: url, CACHE_MAX_BYTES: String(file.bench.hotCacheBytes) });
  const client = new pg.Client({ connectionString: url, application_name: 'atelier-products bench changes' });
  await client.connect();
  const work = fs.mkdtempSync(path.join(dir, 'changes-'));
  try {
    // Products drawn by the traffic's own Zipf law over its ranks (popular products are the ones repriced).
    const rank = zipfSampler(ctx.shape.size, file.traffic.zipfExponent, createRandom(3).next);
    const position = rankToPosition(ctx.shape.size);
    let cents = 10_00;
    const loop: ChangeLoop = {
      url,
      client,
      work,
      products,
      everyMs,
      nextId: () => ctx.shape.idAt(position(rank())),
      nextCents: () => (cents = cents >= 999_99 ? 10_00 : cents + 1),
    };
    const idle = await idleCost(loop);
    const cost = `idle: apply ${idle.applyMs.toFixed(0)} ms, CPU PostgreSQL ${idle.postgresMs.toFixed(0)} ms + applier ${idle.applierMs.toFixed(0)} ms a set`;
    ctx.say(`${name}: ${IDLE_SETS} change sets without traffic: ${cost}`);
    // Warm after the idle sets, which dropped what they changed.
    await warmUp(ctx, service, pathsFile, name, (_, round) => cachedEnough(round));
    const quiet: Measured[] = [];
    const changing: Measured[] = [];
    const ratios: number[] = [];
    const hits: number[] = [];
    const rounds: Arrivals[] = [];
    for (let r = 0; r < opt.rounds; r++) {
      const q = await ctx.measure(service.url, pathsFile, service.pids);
      const before = await cacheCounts(service);
      const stop = new AbortController();
      const arrivals = changeSetsUntil(loop, stop.signal);
      const c = await ctx.measure(service.url, pathsFile, service.pids);
      stop.abort();
      rounds.push(await arrivals);
      const after = await cacheCounts(service);
      hits.push((after.hits - before.hits) / (after.hits - before.hits + after.misses - before.misses));
      quiet.push(q);
      changing.push(c);
      ratios.push(c.rps / q.rps);
      const round = rounds.at(-1)!;
      ctx.say(`${name}: round ${r + 1}: ${q.rps.toFixed(0)} req/s without, ${c.rps.toFixed(0)} with ${round.sets} change sets (apply median ${median(round.applyMs).toFixed(0)} ms, max ${Math.max(...round.applyMs).toFixed(0)} ms, ${round.late} late), hit ratio ${(100 * hits.at(-1)!).toFixed(2)} %`);
    }
    // The change sets reached the service: the last one's price, from every worker, 1 s after it committed (the fleet-wide target).
    await sleep(1000);
    const last = [...rounds].reverse().find((a) => a.last !== undefined)?.last;
    const served: string[] = [];
    if (last !== undefined) for (let i = 0; i < 2 * ctx.workers; i++) served.push(await priceServed(service.url, last.id));
    const applyMs = rounds.flatMap((a) => a.applyMs);
    const sets = rounds.reduce((n, a) => n + a.sets, 0);
    const targets = file.bench.targets;
    const ratio = median(ratios);
    ctx.rows.push(summarise(`${name}, no change sets`, quiet, { target: 'no errors', pass: true }));
    ctx.rows.push(
      summarise(
        `${name}, a change set of ${products} products every ${everyMs / 1000} s (${sets} sets, apply median ${median(applyMs).toFixed(0)} ms, max ${Math.max(...applyMs).toFixed(0)} ms; hit ratio ${(100 * Math.min(...hits)).toFixed(2)} % at worst; ${cost})`,
        changing,
        {
          ratio,
          workerRssMb: service.workerRssMb(),
          rssLimitMb: file.bench.hotCacheBytes / 2 ** 20 + targets.workerRssOverCacheMb!,
          ...judge([
            [`≥ ${targets.changesVsQuiet}× without`, ratio >= targets.changesVsQuiet!],
            [`hit ratio > ${100 * targets.changesHitRatio!} %`, Math.min(...hits) > targets.changesHitRatio!],
            [`a set every ${everyMs / 1000} s`, rounds.every((a) => a.late <= 1 && a.sets > 0)],
            ['changes served by every worker', last !== undefined && served.every((p) => p === last.price)],
          ]),
        },
      ),
    );
  } finally {
    await client.end().catch(() => undefined);
    await service.stop();
  }
}
