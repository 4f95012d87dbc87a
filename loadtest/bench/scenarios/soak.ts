import fs from 'node:fs';
import path from 'node:path';
import { preflight } from '../../../db/etl/preflight';
import { startBalancer } from '../../../src/fleet/balancer';
import { projectRoot } from '../../../src/project-paths';
import { median, writePaths, type BenchContext, type Measured } from '../context';
import { judge, type Row } from '../report';
import { startSoakEvents } from '../soak-events';
import { runPaced } from '../soak-generator';
import { longestGapMs, minuteRows, type MinuteInput } from '../soak-minutes';
import type { Service } from '../processes';
import { etlScript, startReload } from '../soak-reload';
import type { SoakReport } from '../soak-report';
import { takeSample, type SoakSample } from '../soak-sampler';
import { describeSchedule, SOAK_EVENTS, soakSchedule, type PlannedEvent, type SoakEventKind } from '../soak-schedule';
import { evaluateSoak, type TargetResult } from '../soak-targets';
import { threeDocumentPageViews } from './hot';
import { cachedEnough, warmUp } from './warm-up';

// One wrk run per minute gives per-minute latencies (wrk reports them per run), in s.
const MINUTE_SECONDS = 60;
// The gauges are read this long into each minute, in ms: near its end, inside its wrk run.
const SAMPLE_AFTER_MS = 55_000;
// Paths a minute's file holds beyond the minute's requests at the target rate (10 %): wrk
// starts the file over if it runs out.
const PATHS_MARGIN = 1.1;
// Seed of the soak's traffic: not the hot list's (seed 1, which warms the caches up), so the
// soak does not begin by replaying it.
const SOAK_SEED = 17;
// The capacity run counts once a run's evictions plus its reads the doorkeeper did not keep
// are at least this share of its misses (a miss no longer grows the caches), and is given as
// it is after MAX_CAPACITY_RUNS runs (a run's length each: 8 s by default).
const STEADY_EVICTIONS = 0.9;
const MAX_CAPACITY_RUNS = 12;

/** Everything the soak's scheduled events need before it spends any time; throws saying what is missing. */
function checkPrerequisites(ctx: BenchContext, csvDir: string, kinds: readonly SoakEventKind[]): () => Promise<void> {
  const restart = ctx.restartDatabase;
  if (kinds.includes('restart') && restart === undefined) {
    throw new Error(
      'soak: it restarts PostgreSQL, so it needs the embedded database the bench starts itself (DATABASE_URL unset, and no `npm start` running on the same data directory)',
    );
  }
  if (kinds.includes('reload')) {
    try {
      preflight(csvDir);
    } catch (err) {
      throw new Error(`soak: it reloads the catalog from ${csvDir} (--soak-csv): ${(err as Error).message}`);
    }
    if (!fs.existsSync(etlScript())) throw new Error(`soak: ${etlScript()} is missing: run npm run build`);
  }
  return (
    restart ??
    (() => {
      throw new Error('soak: no restart was scheduled');
    })
  );
}

/**
 * The stream's closed-model capacity once the caches are full and evicting, as they are for
 * the whole soak: runs of fresh stream paths until a run's evictions and refused reads
 * (CACHE_ADMIT_AFTER) reach STEADY_EVICTIONS of its misses (every document read pushes one
 * out or is not kept), at most MAX_CAPACITY_RUNS. A single
 * run right after the warm-up measured caches still filling (no evictions, no garbage from
 * them), a state the stream leaves after about half a minute (four 8 s runs on 2026-12-07),
 * so "half the capacity" meant half of another state's (9,641 req/s in the first run, 10,823
 * in the first steady one).
 */
async function steadyCapacity(
  ctx: BenchContext,
  service: Service,
  url: string,
  file: string,
  draw: Parameters<typeof writePaths>[1],
): Promise<Measured> {
  for (let run = 1; ; run++) {
    if (run > 1) writePaths(file, draw, ctx.opt.paths);
    const misses = await service.metric('atelier_cache_misses_total');
    const evictions = await service.metric('atelier_cache_evictions_total');
    const refusals = await service.metric('atelier_cache_refused_total');
    const m = await ctx.measure(url, file, service.pids, { countStatuses: true });
    const missed = (await service.metric('atelier_cache_misses_total')) - misses;
    const evicted = (await service.metric('atelier_cache_evictions_total')) - evictions;
    const refused = (await service.metric('atelier_cache_refused_total')) - refusals;
    const steady = evicted + refused >= STEADY_EVICTIONS * missed;
    ctx.say(
      `soak: capacity run ${run}: ${m.rps.toFixed(0)} req/s, misses ${((100 * missed) / m.requests).toFixed(1)} % of requests, evictions ${evicted}, not kept ${refused} (${steady ? 'caches full' : 'caches filling'})`,
    );
    if (steady || run >= MAX_CAPACITY_RUNS) return m;
  }
}

/** The gauges read `afterMs` from now, unless cancelled (the minute's run failed). */
function sampleLater(read: () => Promise<SoakSample>, afterMs: number): { sample: Promise<SoakSample | undefined>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  let settle: (s: SoakSample | undefined) => void = () => undefined;
  const sample = new Promise<SoakSample | undefined>((resolve) => {
    settle = resolve;
    timer = setTimeout(() => void read().then(resolve, () => resolve(undefined)), afterMs);
  });
  return {
    sample,
    cancel() {
      clearTimeout(timer);
      settle(undefined);
    },
  };
}

/**
 * Issue 17's soak: the hot page-view mix paced to half the capacity measured just before, for
 * --soak-minutes, while the catalog is reloaded by the real ETL, a worker is SIGKILLed and
 * PostgreSQL is restarted once (soak-schedule.ts). Per minute: throughput, latencies, statuses
 * (503s placed inside or outside the restart window by the second), the workers' RSS, heap,
 * descriptors and database sessions. One row in the bench table, a per-minute table after it.
 */
export async function soakScenario(ctx: BenchContext): Promise<void> {
  const settings = ctx.file.bench.soak;
  const csvDir = path.resolve(projectRoot(), ctx.opt.soakCsv);
  const restartDatabase = checkPrerequisites(ctx, csvDir, ctx.opt.soakEvents);
  const schedule = soakSchedule(ctx.opt.soakMinutes, settings, ctx.opt.soakEvents);
  ctx.say(`soak: ${describeSchedule(schedule)}`);

  // One Zipf stream for the capacity run and the whole soak, never replayed: a replayed list
  // is all cache hits after its first pass, and a soak of hits alone measures neither the
  // database reads nor the cache's turnover. The caches are warmed up on the hot list first
  // (the same distribution: its popular documents are the stream's).
  const draw = threeDocumentPageViews(ctx, SOAK_SEED);
  const warmFile = path.join(ctx.dir, 'soak-warm-up.paths');
  writePaths(warmFile, threeDocumentPageViews(ctx, 1), ctx.opt.paths);
  const capacityFile = path.join(ctx.dir, 'soak-capacity.paths');
  writePaths(capacityFile, draw, ctx.opt.paths);
  const cacheBytes = ctx.file.bench.hotCacheBytes;
  const service = await ctx.startService('soak', { CACHE_MAX_BYTES: String(cacheBytes) });
  await warmUp(ctx, service, warmFile, 'soak', (_, round) => cachedEnough(round));
  // Storefronts reach an instance through the fleet's nginx, which re-sends a request whose
  // kept-alive connection died with a killed worker; wrk alone would count those as errors.
  // (Left running if the bench fails: nginx stops with the bench's process, see startNginx.)
  const lb = await startBalancer({ upstreams: [new URL(service.url).host], dir: path.join(ctx.dir, 'soak-nginx') });
  const capacity = await steadyCapacity(ctx, service, lb.url, capacityFile, draw);
  const targetRps = ctx.opt.soakRate ?? Math.max(1, Math.round(capacity.rps * settings.rateShare));
  const connections = settings.connections;
  ctx.say(
    `soak: capacity ${capacity.rps.toFixed(0)} req/s closed-model on the stream (${ctx.opt.connections} connections, ${ctx.opt.duration} s, statuses ${JSON.stringify(capacity.statuses)}); ` +
      `pacing to ${targetRps} req/s over ${connections} connections, through nginx (${lb.url})`,
  );

  // A minute of the stream per file, written while the minute before runs.
  const pathsPerMinute = Math.ceil(targetRps * MINUTE_SECONDS * PATHS_MARGIN);
  const minuteFile = (m: number): string => path.join(ctx.dir, `soak-minute-${m}.paths`);
  writePaths(minuteFile(1), draw, pathsPerMinute);

  // The restart ends every session of the bench's own connection: its error must not crash the bench.
  ctx.db.on('error', () => undefined);
  // The service's request counts before the first minute, for its own p99 over that minute.
  const start = await takeSample(service, ctx.databaseUrl);
  const startedAt = Date.now();
  const events = startSoakEvents({
    schedule,
    startedAt,
    service,
    workers: ctx.workers,
    restartDatabase,
    startReload: (n) =>
      startReload({
        csvDir,
        databaseUrl: ctx.databaseUrl,
        logFile: path.join(ctx.dir, `soak-reload-${n}.log`),
        rejectsFile: path.join(ctx.dir, `soak-reload-${n}-rejects.csv`),
        nice: settings.reloadNice,
      }),
    restartGraceMs: settings.restartGraceSeconds * 1000,
    say: ctx.say,
  });
  const minutes: MinuteInput[] = [];
  try {
    for (let m = 1; m <= schedule.minutes && events.failure() === undefined; m++) {
      const later = sampleLater(() => takeSample(service, ctx.databaseUrl), SAMPLE_AFTER_MS);
      const running = runPaced({ url: lb.url, pathsFile: minuteFile(m), connections, threads: ctx.opt.threads, rate: targetRps, durationSeconds: MINUTE_SECONDS });
      if (m < schedule.minutes) writePaths(minuteFile(m + 1), draw, pathsPerMinute);
      const run = await running.catch((err: unknown) => {
        later.cancel();
        throw err;
      });
      fs.rmSync(minuteFile(m), { force: true });
      const sample = await later.sample;
      minutes.push({ run, ...(sample && { sample }) });
      ctx.say(`soak: minute ${m}/${schedule.minutes}: ${run.rps.toFixed(0)} req/s, p99 ${run.p99Ms.toFixed(2)} ms, ${run.socketErrors} socket errors`);
    }
  } finally {
    await events.stop();
  }
  await lb.stop();
  await service.stop();

  const perMinute = minuteRows(minutes, events.log, events.windows, start);
  const failure = events.failure();
  const targets: TargetResult[] = [
    ...evaluateSoak(perMinute, events.windows.length, settings),
    ...(failure ? [{ name: 'every planned event ran', short: 'events ran', verdict: 'MISSED' as const, detail: failure.message }] : []),
  ];
  const soak: SoakReport = {
    minutes: schedule.minutes,
    capacityRps: capacity.rps,
    targetRps,
    connections,
    schedule: { text: describeSchedule(schedule), events: schedule.events },
    startedAt,
    events: events.log,
    restartWindows: events.windows,
    perMinute,
    longestGapMs: longestGapMs(perMinute),
    targets,
  };
  ctx.rows.push(soakRow(soak, cacheBytes / 2 ** 20 + ctx.file.bench.targets.workerRssOverCacheMb!));
}

/** The kinds of event the soak ran, in the bench table's words. */
function eventsText(events: readonly PlannedEvent[]): string {
  const words: Record<SoakEventKind, string> = { reload: 'reloads', kill: 'worker kills', restart: 'a PostgreSQL restart' };
  const kinds = SOAK_EVENTS.filter((kind) => events.some((e) => e.kind === kind));
  return kinds.length > 0 ? kinds.map((kind) => words[kind]).join(', ') : 'no events';
}

/** The soak's line in the bench table: medians over its minutes, sums of its counts, its targets. */
function soakRow(soak: SoakReport, rssLimitMb: number): Row {
  const rows = soak.perMinute;
  const statuses: Record<string, number> = {};
  for (const r of rows) for (const [code, n] of Object.entries(r.statuses)) statuses[code] = (statuses[code] ?? 0) + n;
  const judged = soak.targets.filter((t) => t.verdict !== 'not judged');
  const of = (xs: number[]): number => (xs.length > 0 ? median(xs) : NaN);
  return {
    scenario: `soak: page views at ${soak.targetRps} req/s for ${soak.minutes} min; ${eventsText(soak.schedule.events)}`,
    rps: of(rows.map((r) => r.rps)),
    p50Ms: of(rows.map((r) => r.p50Ms)),
    p95Ms: of(rows.map((r) => r.p95Ms)),
    p99Ms: of(rows.map((r) => r.p99Ms)),
    errors: rows.reduce((s, r) => s + r.socketErrors, 0),
    non2xx: rows.reduce((s, r) => s + r.unavailableInWindow + r.unavailableOutside + r.otherNon2xx, 0),
    requests: rows.reduce((s, r) => s + r.requests, 0),
    // Killed workers take their CPU counters with them: not measured.
    serverCores: NaN,
    generatorCores: NaN,
    workerRssMb: Math.max(0, ...rows.map((r) => r.maxWorkerRssMb).filter(Number.isFinite)),
    rssLimitMb,
    statuses,
    ...judge(judged.map((t) => [t.short, t.verdict === 'met'] as const)),
    soak,
  };
}
