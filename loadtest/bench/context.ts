import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import type { CatalogShape, PlannedRequest, TrafficMix } from '../lib/traffic';
import { cpuSeconds, startService, type Service } from './processes';
import type { Row } from './report';
import { runWrk, type WrkResult } from './wrk';

/** loadtest/scenarios.json, the parts the bench reads. */
export interface BenchFile {
  traffic: TrafficMix;
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
  };
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
}

/** One wrk run with the cores the service's processes used meanwhile. */
export type Measured = WrkResult & { serverCores: number };

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

/** A report row from runs: medians of rates and latencies, sums of counts. */
export function summarise(name: string, runs: Measured[], extra: Partial<Row> = {}): Row {
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

export interface ContextSetup extends Pick<BenchContext, 'opt' | 'file' | 'shape' | 'db' | 'dir' | 'workers' | 'documentReads' | 'databaseUrl' | 'say'> {
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
      const result = await runWrk({ url, pathsFile, connections, threads: opt.threads, durationSeconds, countStatuses, ...(headers && { headers }) });
      const serverCores = (cpuSeconds(pids()) - before) / ((Date.now() - started) / 1000);
      return { ...result, serverCores };
    },
  };
  return { ctx, cleanups };
}
