/**
 * `npm run bench`: reproduces the k6 scenarios on loopback with wrk and prints requests/s,
 * latency percentiles and errors per scenario beside nginx serving the same bodies as static
 * files, measured in the same run with the same generator.
 *
 * Options: --duration S (per run), --churn S (the memory scenario's run), --rounds N, --connections C, --threads T, --paths N,
 * --scenarios hot,cold,memory,listing,overload, --json FILE.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../../src/config';
import { openDatabase } from '../../src/postgres/open-database';
import { createRandom } from '../../db/generate/prng';
import { pageViews, uniformPageViews, type CatalogShape, type PlannedRequest, type TrafficMix } from '../lib/traffic';
import { exportDocuments, startStaticBaseline } from './baseline';
import { cpuSeconds, freePort, startService, type Service } from './processes';
import { formatReport, type Row } from './report';
import { runWrk, type WrkResult } from './wrk';

interface BenchFile {
  traffic: TrafficMix;
  bench: {
    connections: number;
    threads: number;
    durationSeconds: number;
    rounds: number;
    pathsPerList: number;
    hotCacheBytes: number;
    churnSeconds: number;
    targets: Record<string, number>;
  };
}

const root = path.resolve(__dirname, '../..');
const scenarioFile = JSON.parse(fs.readFileSync(path.join(root, 'loadtest/scenarios.json'), 'utf8')) as BenchFile;

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string' },
    churn: { type: 'string' },
    rounds: { type: 'string' },
    connections: { type: 'string' },
    threads: { type: 'string' },
    paths: { type: 'string' },
    scenarios: { type: 'string', default: 'hot,cold,memory,listing,overload' },
    json: { type: 'string' },
  },
});
const opt = {
  duration: Number(args.duration ?? scenarioFile.bench.durationSeconds),
  churn: Number(args.churn ?? scenarioFile.bench.churnSeconds),
  rounds: Number(args.rounds ?? scenarioFile.bench.rounds),
  connections: Number(args.connections ?? scenarioFile.bench.connections),
  threads: Number(args.threads ?? scenarioFile.bench.threads),
  paths: Number(args.paths ?? scenarioFile.bench.pathsPerList),
  scenarios: new Set(args.scenarios!.split(',')),
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

function writePaths(file: string, draw: () => PlannedRequest[], n: number): string[] {
  const paths: string[] = [];
  while (paths.length < n) for (const r of draw()) paths.push(r.path);
  fs.writeFileSync(file, paths.join('\n') + '\n');
  return paths;
}

/** One wrk run against `service`, with the CPU the service's processes used meanwhile. */
async function measure(
  url: string,
  pathsFile: string,
  pids: () => number[],
  { connections = opt.connections, countStatuses = false, durationSeconds = opt.duration } = {},
) {
  const before = cpuSeconds(pids());
  const started = Date.now();
  const result = await runWrk({ url, pathsFile, connections, threads: opt.threads, durationSeconds, countStatuses });
  const serverCores = (cpuSeconds(pids()) - before) / ((Date.now() - started) / 1000);
  return { ...result, serverCores };
}
type Measured = WrkResult & { serverCores: number };

function summarise(name: string, runs: Measured[], extra: Partial<Row> = {}): Row {
  return {
    scenario: name,
    rps: median(runs.map((r) => r.rps)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p95Ms: median(runs.map((r) => r.p95Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    errors: runs.reduce((s, r) => s + r.socketErrors, 0),
    non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
    requests: runs.reduce((s, r) => s + r.requests, 0),
    serverCores: median(runs.map((r) => r.serverCores)),
    generatorCores: median(runs.map((r) => r.generatorCores)),
    ...extra,
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const database = await openDatabase(config);
  const databaseUrl = database.url;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-bench-'));
  // nginx workers run as an unprivileged user and must read the exported bodies.
  fs.chmodSync(dir, 0o755);
  const db = new pg.Client({ connectionString: databaseUrl });
  const cleanups: Array<() => Promise<void>> = [];
  try {
    await db.connect();
    const { rows } = await db.query<{ ids: number[] | null }>('SELECT array_agg(id ORDER BY pos) AS ids FROM catalog.product_list_doc');
    const ids = rows[0]?.ids ?? [];
    if (ids.length === 0) throw new Error('no catalog loaded: run `npm run data:generate` and `npm run etl` (or `npm start` once for the sample)');
    const shape: CatalogShape = { size: ids.length, idAt: (p) => ids[p]!, maxId: ids[ids.length - 1]! };
    const workers = config.workers;
    const cacheMb = config.cacheMaxBytes / 2 ** 20;
    const common = { DATABASE_URL: databaseUrl, WORKERS: String(workers), LOG_LEVEL: 'info' };
    process.stderr.write(`catalog: ${shape.size} products; ${workers} workers; runs of ${opt.duration} s × ${opt.rounds}; files in ${dir}\n`);

    const rowsOut: Row[] = [];
    const hotFile = path.join(dir, 'hot.paths');
    const hotPaths = writePaths(hotFile, pageViews(shape, { ...scenarioFile.traffic, unknownIdShare: 0 }, createRandom(1).next), opt.paths);

    if (opt.scenarios.has('hot')) {
      const files = await exportDocuments(db, hotPaths, path.join(dir, 'www'));
      const baseline = await startStaticBaseline(path.join(dir, 'www'), path.join(dir, 'nginx'), await freePort(), workers);
      cleanups.push(baseline.stop);
      const hotCache = scenarioFile.bench.hotCacheBytes;
      const service = await startService({ ...common, CACHE_MAX_BYTES: String(hotCache) }, path.join(dir, 'service-hot.log'));
      cleanups.push(service.stop);
      // Warm-up until the service's caches hold the working set: a run with fewer than 0.5 %
      // misses (at most 8 runs), and once through nginx for its file cache.
      for (let run = 0; run < 12; run++) {
        const misses = await service.metric('atelier_cache_misses_total');
        const warm = await measure(service.url, hotFile, service.pids);
        const ratio = ((await service.metric('atelier_cache_misses_total')) - misses) / warm.requests;
        process.stderr.write(`warm-up run ${run + 1}: ${warm.requests} requests, miss ratio ${(100 * ratio).toFixed(2)} %\n`);
        if (ratio < 0.005) break;
      }
      await measure(baseline.url, hotFile, () => []);
      const base: Measured[] = [];
      const hot: Measured[] = [];
      const ratios: number[] = [];
      for (let r = 0; r < opt.rounds; r++) {
        const b = await measure(baseline.url, hotFile, () => []);
        const s = await measure(service.url, hotFile, service.pids);
        base.push(b);
        hot.push(s);
        ratios.push(s.rps / b.rps);
      }
      const rss = service.workerRssMb();
      await service.stop();
      await baseline.stop();
      // A baseline answering 404/500 (a missing file, no descriptors left) would be fast for
      // the wrong reason: it must be as clean as the service is required to be.
      rowsOut.push(summarise(`baseline: nginx static (${files} files)`, base, { target: 'no errors', pass: true }));
      rowsOut.push(
        summarise(`hot: Zipf page views, warm caches (${hotCache / 2 ** 20} MiB)`, hot, {
          ratio: median(ratios),
          workerRssMb: rss,
          rssLimitMb: hotCache / 2 ** 20 + scenarioFile.bench.targets.workerRssOverCacheMb!,
          target: `≥ ${scenarioFile.bench.targets.hotVsBaseline}× baseline, p99 ≤ ${scenarioFile.bench.targets.hotP99Ms} ms`,
          pass: median(ratios) >= scenarioFile.bench.targets.hotVsBaseline! && median(hot.map((h) => h.p99Ms)) <= scenarioFile.bench.targets.hotP99Ms!,
        }),
      );
    }

    if (opt.scenarios.has('cold')) {
      const coldFile = path.join(dir, 'cold.paths');
      const cold: Measured[] = [];
      let rss = 0;
      for (let r = 0; r < opt.rounds; r++) {
        writePaths(coldFile, uniformPageViews(shape, createRandom(100 + r).next), opt.paths);
        // A fresh service per round: caches empty at start.
        const service: Service = await startService(common, path.join(dir, 'service-cold.log'));
        cold.push(await measure(service.url, coldFile, service.pids));
        rss = Math.max(rss, service.workerRssMb());
        await service.stop();
      }
      const baselineRps = rowsOut.find((r) => r.scenario.startsWith('baseline'))?.rps;
      const ratio = baselineRps ? median(cold.map((c) => c.rps)) / baselineRps : undefined;
      rowsOut.push(
        summarise('cold: uniform ids, empty caches', cold, {
          ratio,
          workerRssMb: rss,
          target: `≥ ${scenarioFile.bench.targets.coldVsBaseline}× baseline, p99 ≤ ${scenarioFile.bench.targets.coldP99Ms} ms`,
          pass: (ratio ?? 0) >= scenarioFile.bench.targets.coldVsBaseline! && median(cold.map((c) => c.p99Ms)) <= scenarioFile.bench.targets.coldP99Ms!,
        }),
      );
    }

    if (opt.scenarios.has('memory')) {
      // The RSS bound is for a cache that is full and churning, not one still filling: cold
      // traffic on one service until its caches have turned over, RSS sampled throughout.
      const memoryFile = path.join(dir, 'memory.paths');
      writePaths(memoryFile, uniformPageViews(shape, createRandom(200).next), 3 * opt.paths);
      const service = await startService(common, path.join(dir, 'service-memory.log'));
      cleanups.push(service.stop);
      let rss = 0;
      const sampler = setInterval(() => (rss = Math.max(rss, service.workerRssMb())), 500);
      const seconds = opt.churn;
      const run = await measure(service.url, memoryFile, service.pids, { durationSeconds: seconds });
      clearInterval(sampler);
      const turnover = (await service.metric('atelier_cache_evictions_total')) / (await service.metric('atelier_cache_entries'));
      await service.stop();
      rowsOut.push(
        summarise(`memory: uniform ids for ${seconds} s, caches turned over ${turnover.toFixed(1)}×`, [run], {
          workerRssMb: rss,
          target: 'peak RSS within the bound, caches turned over ≥ 1×',
          pass: turnover >= 1,
        }),
      );
    }

    if (opt.scenarios.has('listing')) {
      const count = scenarioFile.traffic.listingCount;
      const lastPage = Math.max(1, Math.ceil(shape.size / count));
      // Page 200000 of the full catalog, or the last 1000 pages of a smaller one.
      const deepTo = Math.min(200_000, lastPage);
      const deepFrom = Math.max(1, deepTo - 999);
      const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `/products?page=${from + i}&count=${count}`);
      const shallowFile = path.join(dir, 'listing-first.paths');
      const deepFile = path.join(dir, 'listing-deep.paths');
      fs.writeFileSync(shallowFile, range(1, Math.min(1000, lastPage)).join('\n') + '\n');
      fs.writeFileSync(deepFile, range(deepFrom, deepTo).join('\n') + '\n');
      // No document cache (1 KiB): every request reads the database, which is what is compared.
      const service = await startService({ ...common, CACHE_MAX_BYTES: '1024' }, path.join(dir, 'service-listing.log'));
      cleanups.push(service.stop);
      const first: Measured[] = [];
      const deep: Measured[] = [];
      for (let r = 0; r < opt.rounds; r++) {
        first.push(await measure(service.url, shallowFile, service.pids, { connections: 8 }));
        deep.push(await measure(service.url, deepFile, service.pids, { connections: 8 }));
      }
      await service.stop();
      const latencyRatio = median(deep.map((d) => d.p50Ms)) / median(first.map((f) => f.p50Ms));
      rowsOut.push(summarise('listing: pages 1-1000, uncached', first));
      rowsOut.push(
        summarise(`listing: pages ${deepFrom}-${deepTo}, uncached`, deep, {
          latencyRatio,
          target: `p50 ≤ ${scenarioFile.bench.targets.deepListingLatencyRatio}× pages 1-1000`,
          pass: latencyRatio <= scenarioFile.bench.targets.deepListingLatencyRatio!,
        }),
      );
    }

    if (opt.scenarios.has('overload')) {
      // Every request reads the database (no cache) through a small pool and queue, so the
      // database-read bound is reached: once at a load it can carry, once with twice as many
      // connections as the bound can hold, once back at the first load.
      const poolMax = 2;
      const queueMax = 6;
      const bound = workers * (poolMax + queueMax);
      const service = await startService(
        { ...common, CACHE_MAX_BYTES: '1024', PG_POOL_MAX: String(poolMax), PG_QUEUE_MAX: String(queueMax) },
        path.join(dir, 'service-overload.log'),
      );
      cleanups.push(service.stop);
      const overloadFile = path.join(dir, 'overload.paths');
      writePaths(overloadFile, uniformPageViews(shape, createRandom(7).next), opt.paths);
      const carried = Math.max(1, Math.floor(bound / 2));
      const phases: Array<[string, number]> = [
        [`overload: before, ${carried} connections`, carried],
        [`overload: ${2 * bound} connections (2× the ${bound} reads in flight it holds)`, 2 * bound],
        [`overload: after, ${carried} connections`, carried],
      ];
      const results: Measured[] = [];
      for (const [name, connections] of phases) {
        const m = await measure(service.url, overloadFile, service.pids, { connections, countStatuses: true });
        results.push(m);
        const others = Object.keys(m.statuses ?? {}).filter((code) => code !== '200' && code !== '503');
        rowsOut.push(summarise(name, [m], { statuses: m.statuses, pass: others.length === 0 }));
      }
      await service.stop();
      const [before, over, after] = results as [Measured, Measured, Measured];
      const last = rowsOut[rowsOut.length - 1]!;
      last.ratio = after.rps / before.rps;
      last.target = 'only 200/503, some 503 (the bound is reached); after ≥ 0.8× before';
      last.pass = last.pass! && after.rps >= 0.8 * before.rps && (over.statuses?.['503'] ?? 0) > 0;
    }

    const report = formatReport(rowsOut, {
      machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
      catalog: shape.size,
      workers,
      cacheMb,
      rssLimitMb: cacheMb + scenarioFile.bench.targets.workerRssOverCacheMb!,
      runs: `${opt.rounds} × ${opt.duration} s, wrk ${opt.threads} thread(s), ${opt.connections} connections`,
    });
    process.stdout.write(report);
    if (args.json) fs.writeFileSync(args.json, JSON.stringify(rowsOut, null, 2));
  } finally {
    for (const stop of cleanups.reverse()) await stop().catch(() => undefined);
    await db.end().catch(() => undefined);
    await database.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
