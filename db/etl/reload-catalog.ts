import path from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/postgres/migrate';
import { checkCampus, DEFAULT_CAMPUS } from './campus';
import { EtlError } from './errors';
import { FILES, PARENT_FILE, type ParentName } from './files';
import { IdSet } from './id-set';
import { loadFile } from './load-file';
import { preflight } from './preflight';
import { formatCount, formatDuration } from './format';
import type { Progress } from './progress';
import type { FileCounts } from './reconcile';
import { openRejectsWriter } from './rejects';
import { dropSchema, foreignKeyTasks, indexTasks, NEXT_SCHEMA, prepareSchema } from './schema';
import { recordEtlSummary } from './summary';
import { carryTimestamps, changedKeys, MAX_RELOAD_KEYS } from './reload-diff';
import { dropOldCatalog, swapCatalog } from './swap';
import { runTasks, type Task } from './tasks';
import { viewTasks } from './views';
import { ADVISORY_LOCKS } from '../../src/postgres/locks';
import { lowerSessionPriority } from './priority';

export interface ReloadOptions {
  url: string;
  /** Folder holding the six CSV files. */
  dir: string;
  /** The catalog's campus code, baked into every product and list document (default DEFAULT_CAMPUS). */
  campus?: string;
  rejectsPath: string;
  /** Connections working in parallel (files, indexes, views). */
  jobs?: number;
  /** Largest share of a file's records that may be rejected before the load is refused. */
  maxRejectRatio?: number;
  progress?: Progress;
  /** Receives one line per finished step. */
  log?: (line: string) => void;
  /**
   * Unix priority of the load's database sessions, 0 (default: as every session) to 19: above
   * 0 they use no parallel workers, and their backends are reniced when PostgreSQL runs on
   * this host (priority.ts). The caller lowers its own process.
   */
  nice?: number;
  /** Aborting ends the load's connections; the live catalog stays as it was. */
  signal?: AbortSignal;
  /** Runs just before the swap (tests use it to look at the service mid-reload). */
  beforeSwap?: () => Promise<void>;
  /** Runs right after the swap committed, before the old catalog is dropped (tests). */
  afterSwap?: () => Promise<void>;
}

export interface ReloadResult {
  version: number;
  campus: string;
  files: FileCounts[];
  rejectsPath: string;
  bytes: number;
  /** Epoch ms at which the swap (and its notification) committed. */
  swapCommittedAt: number;
  /** Cache keys announced as changed (reload-diff.ts); undefined: the workers cleared their caches. */
  keysAnnounced?: number;
  /** `diffMs`: carrying timestamps over and comparing the documents with the served ones. */
  timings: { loadMs: number; indexesMs: number; viewsMs: number; diffMs: number; swapMs: number; totalMs: number };
}

// 2 connections match the 2-core target machine: one PostgreSQL backend per core.
export const DEFAULT_JOBS = 2;
// Off by default: the contract says a reject is never fatal. Operators may set e.g. 0.01
// to refuse an export that is mostly broken (the real one rejects well under 1%).
export const DEFAULT_MAX_REJECT_RATIO = 1;

// Per-session settings of the loader's connections. Index builds sort in memory (the
// 11.3M-row skus indexes need ~0.5 GB); the document views aggregate in memory.
const SESSION_SETTINGS = [
  "SET maintenance_work_mem = '1GB'",
  "SET work_mem = '256MB'",
  'SET synchronous_commit = off',
  'SET statement_timeout = 0',
];

/** A loader session; `kept` receives why its backend kept its priority when `nice` > 0 could not apply. */
async function connect(url: string, name: string, nice: number, kept: (why: string) => void): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: `atelier-products etl ${name}` });
  client.on('error', () => undefined);
  await client.connect();
  for (const s of SESSION_SETTINGS) await client.query(s);
  if (nice > 0) {
    const why = await lowerSessionPriority(client, nice);
    if (why !== undefined) kept(why);
  }
  return client;
}

/**
 * Loads the CSV export in `dir` into a new catalog beside the live one and swaps it in
 * atomically. On any failure the new schema is dropped and the live catalog is untouched.
 */
export async function reloadCatalog(opts: ReloadOptions): Promise<ReloadResult> {
  const started = Date.now();
  const log = opts.log ?? (() => undefined);
  const jobs = Math.max(1, opts.jobs ?? DEFAULT_JOBS);
  const maxRejectRatio = opts.maxRejectRatio ?? DEFAULT_MAX_REJECT_RATIO;
  const campus = checkCampus(opts.campus ?? DEFAULT_CAMPUS);
  const sizes = preflight(opts.dir);
  const bytes = [...sizes.values()].reduce((a, b) => a + b, 0);

  const nice = opts.nice ?? 0;
  const kept = new Set<string>();
  const main = await connect(opts.url, 'main', nice, (why) => kept.add(why));
  const workers: pg.Client[] = [];
  const onAbort = (): void => void Promise.all(workers.map((c) => c.end().catch(() => undefined)));
  opts.signal?.addEventListener('abort', onAbort);
  let built = false;
  try {
    const { rows } = await main.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [ADVISORY_LOCKS.reload]);
    if (!rows[0]?.locked) throw new EtlError('another catalog load is running on this database');
    await migrate(main);
    await dropOldCatalog(main);
    built = true;
    const ddl = await prepareSchema(main, NEXT_SCHEMA);
    // Before the views are built: they read it.
    await main.query(`UPDATE ${NEXT_SCHEMA}.catalog_campus SET campus = $1`, [campus]);
    for (let i = 0; i < jobs; i++) workers.push(await connect(opts.url, `worker ${i + 1}`, nice, (why) => kept.add(why)));
    if (nice > 0) {
      log(
        kept.size === 0
          ? `priority: the load's ${jobs + 1} database sessions run at nice ${nice}, without parallel workers`
          : `priority: the load's database sessions run without parallel workers, at their usual priority: ${[...kept].join('; ')}`,
      );
    }
    if (opts.signal?.aborted) throw new EtlError('interrupted');

    const rejects = await openRejectsWriter(opts.rejectsPath);
    const counts: FileCounts[] = [];
    const parents: Record<ParentName, IdSet> = { product: new IdSet(), styles: new IdSet() };
    const t0 = Date.now();
    const active = new Set<string>();
    try {
      // Priority among the files ready to go: styles early (its two big children wait on it).
      const loadTasks: Task[] = [
        'product.csv',
        'styles.csv',
        'photos.csv',
        'skus.csv',
        'features.csv',
        'related.csv',
      ].map((name) => {
        const spec = FILES.find((f) => f.file === name)!;
        const parentKey = (Object.keys(parents) as ParentName[]).find((k) => k === spec.table);
        return {
          name,
          // A file waits for the files its `parent` columns reference.
          after: [...new Set(spec.columns.flatMap((c) => (c.parent ? [PARENT_FILE[c.parent]] : [])))],
          run: async (client) => {
            active.add(spec.file);
            opts.progress?.setLabel([...active].join(', '));
            const fileStarted = Date.now();
            const ids = parentKey ? { seen: new IdSet(), loaded: parents[parentKey] } : { seen: new IdSet() };
            const c = await loadFile({
              client,
              schema: NEXT_SCHEMA,
              dir: opts.dir,
              spec,
              ids,
              parents,
              rejects,
              ...(opts.progress ? { progress: opts.progress } : {}),
            });
            counts.push(c);
            active.delete(spec.file);
            const secs = (Date.now() - fileStarted) / 1000;
            log(
              `${spec.file}: ${formatCount(c.read)} read, ${formatCount(c.loaded)} loaded, ${formatCount(c.rejected)} rejected, ${formatCount(c.dropped)} dropped in ${formatDuration(secs * 1000)} (${formatCount(c.read / Math.max(secs, 0.001))} rows/s)`,
            );
          },
        };
      });
      await runTasks(workers, loadTasks);
    } finally {
      await rejects.close();
    }
    counts.sort((a, b) => FILES.findIndex((f) => f.file === a.file) - FILES.findIndex((f) => f.file === b.file));
    const loadMs = Date.now() - t0;
    checkRejectRatios(counts, maxRejectRatio, opts.rejectsPath);

    const tc = Date.now();
    const carried = await carryTimestamps(main);
    let diffMs = Date.now() - tc;
    log(`created_at/updated_at of ${formatCount(carried)} products already live carried over in ${formatDuration(diffMs)}`);

    const t1 = Date.now();
    opts.progress?.phase('indexes');
    const rowsByTable = new Map(counts.map((c) => [FILES.find((f) => f.file === c.file)!.table, c.loaded]));
    await runTasks(workers, indexTasks(ddl, rowsByTable));
    // Statistics before the views: their plans (hash vs sort, memory) depend on them.
    await main.query(`ANALYZE ${FILES.map((f) => `${NEXT_SCHEMA}.${f.table}`).join(', ')}`);
    const indexesMs = Date.now() - t1;
    log(`indexes and statistics built in ${formatDuration(indexesMs)}`);

    const t2 = Date.now();
    opts.progress?.phase('document views and foreign keys');
    // styles_doc alone outlasts the other three views: the connection that finishes
    // first validates the foreign keys meanwhile.
    await runTasks(workers, [...viewTasks(NEXT_SCHEMA), ...foreignKeyTasks(ddl)]);
    const viewsMs = Date.now() - t2;
    log(`document views and foreign keys built in ${formatDuration(viewsMs)}`);
    if (opts.signal?.aborted) throw new EtlError('interrupted');

    // Per-file counts for the service's metrics, swapped in with the catalog they describe.
    await recordEtlSummary(main, NEXT_SCHEMA, counts);
    const td = Date.now();
    opts.progress?.phase('comparing documents');
    const changed = await changedKeys(main);
    const compareMs = Date.now() - td;
    diffMs += compareMs;
    const outcome =
      changed === undefined
        ? `the workers clear their caches (no catalog served, or more than ${formatCount(MAX_RELOAD_KEYS)} documents changed)`
        : `${formatCount(changed.length)} cache keys changed, the workers keep the rest`;
    log(`documents compared with the served catalog in ${formatDuration(compareMs)}: ${outcome}`);
    await opts.beforeSwap?.();
    const t3 = Date.now();
    opts.progress?.phase('swap');
    const version = await swapCatalog(main, `CSV export ${path.resolve(opts.dir)}, campus ${campus}`, changed);
    const swapCommittedAt = Date.now();
    built = false;
    await opts.afterSwap?.();
    await dropOldCatalog(main).catch((err: unknown) =>
      log(`warning: the previous catalog could not be dropped yet (${(err as Error).message}); the next load drops it`),
    );
    const swapMs = Date.now() - t3;
    log(`catalog version ${version} is live (swap and cleanup ${formatDuration(swapMs)})`);
    return {
      version,
      campus,
      files: counts,
      rejectsPath: opts.rejectsPath,
      bytes,
      swapCommittedAt,
      ...(changed !== undefined && { keysAnnounced: changed.length }),
      timings: { loadMs, indexesMs, viewsMs, diffMs, swapMs, totalMs: Date.now() - started },
    };
  } catch (err) {
    if (opts.signal?.aborted && !(err instanceof EtlError)) throw new EtlError('interrupted');
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await Promise.all(workers.map((c) => c.end().catch(() => undefined)));
    if (built) await dropSchema(main, NEXT_SCHEMA).catch(() => undefined);
    await main.end().catch(() => undefined);
  }
}

function checkRejectRatios(counts: readonly FileCounts[], maxRatio: number, rejectsPath: string): void {
  const product = counts.find((c) => c.file === 'product.csv');
  if (!product || product.loaded === 0) {
    throw new EtlError(`product.csv: no product could be loaded; see ${rejectsPath}`);
  }
  if (maxRatio >= 1) return;
  const bad = counts.filter((c) => c.read > 0 && c.rejected / c.read > maxRatio);
  if (bad.length > 0) {
    const list = bad.map((c) => `${c.file} ${formatCount(c.rejected)} of ${formatCount(c.read)}`).join(', ');
    throw new EtlError(
      `too many rejects (more than ${(maxRatio * 100).toFixed(2)}% of a file): ${list}; see ${rejectsPath}`,
    );
  }
}
