import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import type { PageViewModels } from '../lib/page-views';
import type { CatalogShape, PlannedRequest, TrafficMix } from '../lib/traffic';
import { cpuSeconds, startService, type Service } from './processes';
import type { Row } from './report';
import type { SoakEventKind } from './soak-schedule';
import { childPids, sampleCpu, type RunTrace } from './trace';
import { runWrk, type WrkResult } from './wrk';

/** loadtest/scenarios.json, the parts the bench reads. */
export interface BenchFile {
  traffic: TrafficMix;
  /** What a product page view requests: named models, the default one for k6 and the page-view scenarios. */
  pageViews: PageViewModels;
  /** The SLO the k6 thresholds hold (the HTML report of a k6 run judges against it). */
  slo?: { p95Ms: number; p99Ms: number; maxFailedRate: number };
  /** The k6 scenarios (executor, rates, stages), for the report of a k6 run. */
  scenarios?: Record<string, Record<string, unknown>>;
  /** What storefront clients send with every request (Accept-Encoding); identity rows send none. */
  requestHeaders: Record<string, string>;
  bench: {
    connections: number;
    threads: number;
    durationSeconds: number;
    rounds: number;
    pathsPerList: number;
    hotCacheBytes: number;
    churnSeconds: number;
    targets: Record<string, number>;
    soak: SoakDefaults;
    openModel: OpenModelDefaults;
    /** The changes scenario's change sets: `products` products each, one every `everyMs`. */
    changes: { products: number; everyMs: number };
  };
}

/** The open-model runner's part of scenarios.json's `bench` (see open-model.ts). */
export interface OpenModelDefaults {
  /** The at-rate rows' rates, as shares of the closed-model capacity measured just before. */
  capacityShares: number[];
  /** Connections opened at the start (k6's preAllocatedVUs). */
  connections: number;
  /** Connections the generator may open in all (k6's maxVUs). */
  maxConnections: number;
  /** A request sent more than this after its scheduled time was not sent on time, in ms. */
  lateMs: number;
  /** Seconds at the rate before each measured run, unrecorded (wrk2's calibration). */
  warmUpSeconds: number;
  /** Largest share the achieved send rate may be off the asked rate for the run to count as held. */
  rateTolerance: number;
}

/** The soak scenario's part of scenarios.json's `bench` (see scenarios/soak.ts). */
export interface SoakDefaults {
  /** Length of the measured run, in minutes (--soak-minutes). */
  minutes: number;
  /** The catalog export reloaded by the ETL, relative to the project root (--soak-csv). */
  csvDir: string;
  /** Period of the full catalog reloads, in minutes (shorter runs compress it, see soak-schedule.ts). */
  reloadEveryMinutes: number;
  /** Period of the worker SIGKILLs, in minutes. */
  killEveryMinutes: number;
  /** When PostgreSQL is restarted, as a share of the run (0.6: at 60 %). */
  restartAtShare: number;
  /** Added after /readyz answers 200 again to close the restart window, in s. */
  restartGraceSeconds: number;
  /** The reloads' `npm run etl -- --nice`: 19 lets the service have the cores it needs. */
  reloadNice: number;
  /** Share of the measured capacity the soak drives (0.5: half). */
  rateShare: number;
  /** Connections of the paced runs: enough that the rate holds through a stall of the service. */
  connections: number;
  /** "Flat": each of the last 10 minutes within this share of the mean of minutes 5–15 (0.1: ±10 %). */
  flatTolerance: number;
  /** Each minute's p99 at most this many times the first minutes' median p99. */
  p99OverFirstMinutes: number;
}

/** The command line, defaults from scenarios.json. */
export interface BenchOptions {
  /** Length of one wrk run, in s. */
  duration: number;
  /** Length of the memory scenario's run, in s. */
  churn: number;
  rounds: number;
  /** wrk connections of a run (scenarios may set their own). */
  connections: number;
  /** wrk threads. */
  threads: number;
  /** Paths per generated list. */
  paths: number;
  /** Length of the soak scenario's measured run, in minutes. */
  soakMinutes: number;
  /** The export the soak reloads, relative to the project root or absolute. */
  soakCsv: string;
  /** The kinds of event the soak runs (--soak-events; all by default, none for drift alone). */
  soakEvents: readonly SoakEventKind[];
  /** --soak-rate: the soak's rate (requests/s) instead of a share of its measured capacity. */
  soakRate?: number;
  /** --rate: the at-rate scenario's one arrival rate (requests/s) instead of shares of the capacity. */
  rate?: number;
}

/** One wrk run with the cores the service's processes used meanwhile, and its course second by second. */
export type Measured = WrkResult & { serverCores: number; trace?: RunTrace };

export interface MeasureOptions {
  connections?: number;
  countStatuses?: boolean;
  /** In s. */
  durationSeconds?: number;
  /** Sent with every request (e.g. the clients' Accept-Encoding); none by default. */
  headers?: Readonly<Record<string, string>>;
}

/** What every scenario gets: options, the catalog, a scratch folder, and where its rows go. */
export interface BenchContext {
  opt: BenchOptions;
  file: BenchFile;
  shape: CatalogShape;
  /** A connection to the catalog's database (for exporting the baseline's bodies). */
  db: pg.ClientBase;
  /** Scratch folder for path lists, logs, exported bodies; removed at the end. */
  dir: string;
  /** WORKERS of every service. */
  workers: number;
  /** PG_DOCUMENT_READS of every service: document statements a worker has in flight. */
  documentReads: number;
  /** The catalog's database, as the services get it. */
  databaseUrl: string;
  /**
   * Stops the catalog's PostgreSQL and starts it again on the same data directory and URL
   * (fast shutdown, so `db` is gone afterwards); undefined when the bench does not own the
   * server (DATABASE_URL given, or `npm start` runs it). Only the soak uses it, last.
   */
  restartDatabase?: () => Promise<void>;
  /** A copy of the catalog's database the changes scenario may change (made before the bench connects to the catalog: a copy needs its source alone). */
  changesDatabaseUrl?: string;
  /** Rows of the report, in order; a scenario appends its own (cold reads the baseline's). */
  rows: Row[];
  /** Progress for the operator (stderr). */
  say(line: string): void;
  /** Registers a stop to run at the end, even when a scenario fails. */
  onCleanup(stop: () => Promise<void>): void;
  /** Starts the built service with the bench's settings plus `env`, logging to service-NAME.log; stopped at the end at the latest. */
  startService(name: string, env?: Record<string, string>): Promise<Service>;
  /** One wrk run over the paths in `pathsFile`, with the CPU the processes `pids()` used meanwhile. */
  measure(url: string, pathsFile: string, pids: () => number[], opts?: MeasureOptions): Promise<Measured>;
}

export type Scenario = (ctx: BenchContext) => Promise<void>;

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Writes at least `n` paths drawn from `draw` to `file`, one a line; returns them. */
export function writePaths(file: string, draw: () => PlannedRequest[], n: number): string[] {
  const paths: string[] = [];
  while (paths.length < n) for (const r of draw()) paths.push(r.path);
  fs.writeFileSync(file, paths.join('\n') + '\n');
  return paths;
}

/** The run whose requests/s is the median's (the lower middle one of an even count): the one the HTML report draws. */
export function medianRun<T extends { rps: number }>(runs: readonly T[]): T | undefined {
  const sorted = [...runs].sort((a, b) => a.rps - b.rps);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** A report row from runs: medians of rates and latencies, sums of counts; the median run's trace. */
export function summarise(name: string, runs: Measured[], extra: Partial<Row> = {}): Row {
  const trace = medianRun(runs)?.trace;
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
    ...(trace && { trace }),
    ...extra,
  };
}

export interface ContextSetup
  extends Pick<BenchContext, 'opt' | 'file' | 'shape' | 'db' | 'dir' | 'workers' | 'documentReads' | 'databaseUrl' | 'restartDatabase' | 'changesDatabaseUrl' | 'say'> {
  /** Environment of every service (DATABASE_URL, WORKERS, LOG_LEVEL). */
  serviceEnv: Record<string, string>;
}

/** The context, and the stops it collected (to run in reverse order at the end). */
export function createContext(setup: ContextSetup): { ctx: BenchContext; cleanups: Array<() => Promise<void>> } {
  const cleanups: Array<() => Promise<void>> = [];
  const { opt } = setup;
  const ctx: BenchContext = {
    opt,
    file: setup.file,
    shape: setup.shape,
    db: setup.db,
    dir: setup.dir,
    workers: setup.workers,
    documentReads: setup.documentReads,
    databaseUrl: setup.databaseUrl,
    ...(setup.restartDatabase && { restartDatabase: setup.restartDatabase }),
    ...(setup.changesDatabaseUrl !== undefined && { changesDatabaseUrl: setup.changesDatabaseUrl }),
    rows: [],
    say: setup.say,
    onCleanup: (stop) => void cleanups.push(stop),
    async startService(name, env = {}) {
      const service = await startService({ ...setup.serviceEnv, ...env }, path.join(setup.dir, `service-${name}.log`));
      cleanups.push(service.stop);
      return service;
    },
    async measure(url, pathsFile, pids, { connections = opt.connections, countStatuses = false, durationSeconds = opt.duration, headers } = {}) {
      const before = cpuSeconds(pids());
      const started = Date.now();
      let shell: number | undefined;
      const cpu = sampleCpu(pids, () => childPids(shell));
      let cores = { service: [] as number[], generator: [] as number[] };
      const result = await runWrk({ url, pathsFile, connections, threads: opt.threads, durationSeconds, countStatuses, ...(headers && { headers }), onSpawn: (pid) => (shell = pid) }).finally(() => (cores = cpu.stop()));
      const serverCores = (cpuSeconds(pids()) - before) / ((Date.now() - started) / 1000);
      const trace: RunTrace = { generator: 'wrk', ...result.perSecond, serviceCores: cores.service, generatorCores: cores.generator, percentiles: result.percentiles };
      return { ...result, serverCores, trace };
    },
  };
  return { ctx, cleanups };
}
