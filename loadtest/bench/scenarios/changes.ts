import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { priceServed, productsById, writeChangeSet } from '../../../db/change-set-files';
import { createRandom } from '../../../db/generate/prng';
import { rankToPosition, zipfSampler } from '../../lib/traffic';
import { median, summarise, type BenchContext, type Measured } from '../context';
import { writePageViewPaths } from '../page-view-paths';
import { cpuSeconds, pidsNamed, type Service } from '../processes';
import { judge } from '../report';
import { cachedEnough, warmUp } from './warm-up';
import { hotPageViewDraws } from './hot';
import { startFeed, type FeedProcess } from './feed-process';
import { FEED_APPLICATION } from '../../../db/etl/change-feed';

/** What the change sets of one round did. */
interface Arrivals {
  sets: number;
  /** Sets that arrived while the one before was still queued or being applied (the feed fell behind). */
  late: number;
  /** Each set's time in the feed (lock, stage, apply, commit), in ms, from its summary. */
  applyMs: number[];
  /** Each set's staging and apply steps, in ms, from its summary. */
  steps: Array<Record<string, number>>;
  /** The last set's first product and the price it was given. */
  last?: { id: number; price: string };
}

interface ChangeLoop {
  client: pg.ClientBase;
  feed: FeedProcess;
  work: string;
  products: number;
  everyMs: number;
  /** The next product drawn (Zipf, as the traffic). */
  nextId: () => number;
  /** The next price in cents (never the same twice: every set changes what it names). */
  nextCents: () => number;
  /** The next set's name in the feed (names sort in arrival order). */
  nextName: () => string;
}

/** A change set written beside the feed's queue, and its first product with the price it gives it. */
interface PreparedSet {
  dir: string;
  name: string;
  first?: { id: number; price: string };
}

// How long a set may take to leave the feed before the scenario gives up, in ms.
const APPLIED_WITHIN_MS = 60_000;

/** Draws `loop.products` products, reads them and writes their change set, ready to enqueue. */
async function prepareSet(loop: ChangeLoop): Promise<PreparedSet> {
  const ids = new Set<number>();
  while (ids.size < loop.products) ids.add(loop.nextId());
  const products = await productsById(loop.client, [...ids]);
  const cents = loop.nextCents();
  const name = loop.nextName();
  // Written where the feed never looks, then moved into its queue whole.
  const dir = path.join(loop.work, `.${name}`);
  writeChangeSet(dir, products, cents);
  return { dir, name, ...(products[0] && { first: { id: products[0].id, price: (cents / 100).toFixed(2) } }) };
}

/**
 * Enqueues one of `sets` (prepared before the round: writing them is the producer's work, not
 * the service's, and stays out of the measured window) every `everyMs` until `signal` aborts,
 * then waits for the feed to apply those it was given.
 */
async function changeSetsUntil(loop: ChangeLoop, sets: readonly PreparedSet[], signal: AbortSignal): Promise<Arrivals> {
  const arrivals: Arrivals = { sets: 0, late: 0, applyMs: [], steps: [] };
  const names: string[] = [];
  const started = performance.now();
  for (const set of sets) {
    const wait = started + names.length * loop.everyMs - performance.now();
    if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => undefined);
    if (signal.aborted) break;
    const previous = names.at(-1);
    if (previous !== undefined && !loop.feed.done(previous)) arrivals.late++;
    loop.feed.enqueue(set.dir, set.name);
    names.push(set.name);
    arrivals.sets++;
    if (set.first) arrivals.last = set.first;
  }
  for (const name of names) {
    const { timings } = await loop.feed.applied(name, APPLIED_WITHIN_MS);
    arrivals.applyMs.push(timings.totalMs);
    arrivals.steps.push({ staged: timings.stageMs, ...timings.steps });
  }
  return arrivals;
}

/**
 * CPU seconds so far of the feed's PostgreSQL session (apart from the rest of PostgreSQL: the
 * service's connections, WAL writer, checkpointer, autovacuum) and of the feed's process. A
 * session replaced meanwhile (the database restarted) is not counted.
 */
async function feedCpu(loop: ChangeLoop): Promise<{ session: number; feed: number }> {
  const { rows } = await loop.client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [FEED_APPLICATION]);
  return { session: cpuSeconds(rows.map((r) => r.pid)), feed: cpuSeconds([loop.feed.pid]) };
}

/** The CPU between two feedCpu readings per set, in ms. */
const perSet = (a: { session: number; feed: number }, b: { session: number; feed: number }, sets: number): { sessionMs: number; feedMs: number } => ({
  sessionMs: (1000 * (b.session - a.session)) / Math.max(1, sets),
  feedMs: (1000 * (b.feed - a.feed)) / Math.max(1, sets),
});

// Change sets applied back to back without traffic, for their cost alone.
const IDLE_SETS = 5;

/**
 * What one change set costs with no traffic: IDLE_SETS sets prepared first, then enqueued
 * together, counting the CPU of every PostgreSQL process (the exited backends' through their
 * postmaster) and of the feed's process until the last is applied; per set, in ms.
 */
async function idleCost(loop: ChangeLoop): Promise<{ applyMs: number; postgresMs: number; sessionMs: number; feedMs: number }> {
  const sets: PreparedSet[] = [];
  for (let i = 0; i < IDLE_SETS; i++) sets.push(await prepareSet(loop));
  // The feed's session begins with its first set: one set first, so its start is not counted.
  loop.feed.enqueue(sets[0]!.dir, sets[0]!.name);
  await loop.feed.applied(sets[0]!.name, APPLIED_WITHIN_MS);
  const postgresBefore = cpuSeconds(pidsNamed('postgres'), true);
  const feedBefore = await feedCpu(loop);
  for (const set of sets.slice(1)) loop.feed.enqueue(set.dir, set.name);
  const applyMs: number[] = [];
  for (const set of sets.slice(1)) applyMs.push((await loop.feed.applied(set.name, APPLIED_WITHIN_MS)).timings.totalMs);
  const n = IDLE_SETS - 1;
  return {
    applyMs: median(applyMs),
    postgresMs: ((cpuSeconds(pidsNamed('postgres'), true) - postgresBefore) * 1000) / n,
    ...perSet(feedBefore, await feedCpu(loop), n),
  };
}

/** The share of cache lookups that hit between two counts. */
const hitRatio = (from: { hits: number; misses: number }, to: { hits: number; misses: number }): number =>
  (to.hits - from.hits) / (to.hits - from.hits + to.misses - from.misses);

/** Cache hits and misses, and seconds in the garbage collector (every kind), so far, summed over the workers. */
async function cacheCounts(service: Service): Promise<{ hits: number; misses: number; gcSeconds: number }> {
  const text = await service.metricsText();
  const sum = (name: string): number =>
    text
      .split('\n')
      .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
  return { hits: sum('atelier_cache_hits_total'), misses: sum('atelier_cache_misses_total'), gcSeconds: sum('nodejs_gc_duration_seconds_sum') };
}

/** The service's CPU a request (µs) and its workers' time in the collector (ms a second) over one measured run. */
const perRequest = (m: Measured, gcSeconds: number, seconds: number): string =>
  `${((1e6 * m.serverCores) / m.rps).toFixed(0)} µs CPU a request, GC ${((1000 * gcSeconds) / seconds).toFixed(0)} ms/s`;

/**
 * Hot page views (the default model, the hot scenario's products) on a copy of the catalog's
 * database, in rounds with change sets arriving (scenarios.json's `bench.changes`), each between
 * two rounds without: the throughput with them over the mean of the two without, and the hit
 * ratio while they arrive. Two rows; the second is judged.
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
  // As a deployment runs it: `npm run etl -- --changes-feed`, its own process and session.
  const feed = startFeed(url, work, path.join(dir, 'changes-feed.log'));
  let sequence = 0;
  try {
    // Products drawn by the traffic's own Zipf law over its ranks (popular products are the ones repriced).
    const rank = zipfSampler(ctx.shape.size, file.traffic.zipfExponent, createRandom(3).next);
    const position = rankToPosition(ctx.shape.size);
    let cents = 10_00;
    const loop: ChangeLoop = {
      client,
      feed,
      work,
      products,
      everyMs,
      nextId: () => ctx.shape.idAt(position(rank())),
      nextCents: () => (cents = cents >= 999_99 ? 10_00 : cents + 1),
      nextName: () => String(++sequence).padStart(6, '0'),
    };
    const idle = await idleCost(loop);
    const cost = `idle: apply ${idle.applyMs.toFixed(0)} ms, CPU PostgreSQL ${idle.postgresMs.toFixed(0)} ms (the feed's session ${idle.sessionMs.toFixed(0)} ms) + feed ${idle.feedMs.toFixed(0)} ms a set`;
    ctx.say(`${name}: ${IDLE_SETS} change sets without traffic: ${cost}`);
    // Warm after the idle sets, which dropped what they changed.
    await warmUp(ctx, service, pathsFile, name, (_, round) => cachedEnough(round));
    const quiet: Measured[] = [];
    const changing: Measured[] = [];
    const ratios: number[] = [];
    const hits: number[] = [];
    // Without sets too: what the sets' dropped documents cost in misses is the difference.
    const quietHits: number[] = [];
    const rounds: Arrivals[] = [];
    // Each round with sets stands between two without, and is compared with their mean: the
    // service's rate drifts within a run (a cache still filling, a neighbour on the machine;
    // one run's rounds without sets read 31.0k, 26.9k, 21.1k req/s in turn), and a round
    // always measured second would carry the drift into every ratio.
    const quietCost: string[] = [];
    const measureQuiet = async (): Promise<void> => {
      const from = await cacheCounts(service);
      quiet.push(await ctx.measure(service.url, pathsFile, service.pids));
      const to = await cacheCounts(service);
      quietHits.push(hitRatio(from, to));
      quietCost.push(perRequest(quiet.at(-1)!, to.gcSeconds - from.gcSeconds, opt.duration));
    };
    await measureQuiet();
    for (let r = 0; r < opt.rounds; r++) {
      // One more than the round can take, so arrivals never run out before it ends.
      const sets: PreparedSet[] = [];
      for (let i = 0; i <= Math.ceil((1000 * opt.duration) / everyMs); i++) sets.push(await prepareSet(loop));
      const before = await cacheCounts(service);
      const cpuBefore = await feedCpu(loop);
      const stop = new AbortController();
      const arrivals = changeSetsUntil(loop, sets, stop.signal);
      const c = await ctx.measure(service.url, pathsFile, service.pids);
      stop.abort();
      rounds.push(await arrivals);
      const cpu = perSet(cpuBefore, await feedCpu(loop), rounds.at(-1)!.sets);
      const after = await cacheCounts(service);
      hits.push(hitRatio(before, after));
      changing.push(c);
      await measureQuiet();
      const [q0, q1] = quiet.slice(-2) as [Measured, Measured];
      ratios.push(c.rps / ((q0.rps + q1.rps) / 2));
      const round = rounds.at(-1)!;
      ctx.say(`${name}: round ${r + 1}: ${q0.rps.toFixed(0)} req/s without, ${c.rps.toFixed(0)} with ${round.sets} change sets, ${q1.rps.toFixed(0)} without (ratio ${ratios.at(-1)!.toFixed(2)}) (apply median ${median(round.applyMs).toFixed(0)} ms, max ${Math.max(...round.applyMs).toFixed(0)} ms, ${round.late} late; CPU a set: the feed's session ${cpu.sessionMs.toFixed(0)} ms + feed ${cpu.feedMs.toFixed(0)} ms), hit ratio ${(100 * quietHits.at(-1)!).toFixed(2)} % without (after), ${(100 * hits.at(-1)!).toFixed(2)} % with; service ${quietCost.at(-2)!} without (before), ${perRequest(c, after.gcSeconds - before.gcSeconds, opt.duration)} with`);
    }
    // The change sets reached the service: the last one's price, from every worker, 1 s after it committed (the fleet-wide target).
    await sleep(1000);
    const last = [...rounds].reverse().find((a) => a.last !== undefined)?.last;
    const served: string[] = [];
    if (last !== undefined) for (let i = 0; i < 2 * ctx.workers; i++) served.push(await priceServed(service.url, last.id));
    const applyMs = rounds.flatMap((a) => a.applyMs);
    // Where a set's time goes under traffic: each step's median over every set of the rounds.
    const steps = rounds.flatMap((a) => a.steps);
    const stepNames = [...new Set(steps.flatMap((s) => Object.keys(s)))];
    ctx.say(`${name}: a set's steps under traffic, median ms: ${stepNames.map((k) => `${k} ${median(steps.map((s) => s[k] ?? 0)).toFixed(0)}`).join(', ')}`);
    const sets = rounds.reduce((n, a) => n + a.sets, 0);
    const targets = file.bench.targets;
    const ratio = median(ratios);
    ctx.rows.push(summarise(`${name}, no change sets (hit ratio ${(100 * Math.min(...quietHits)).toFixed(2)} % at worst)`, quiet, { target: 'no errors', pass: true }));
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
    await feed.stop();
    await client.end().catch(() => undefined);
    await service.stop();
  }
}
