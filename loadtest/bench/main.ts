/**
 * `npm run bench`: reproduces the k6 scenarios on loopback with wrk and prints requests/s,
 * latency percentiles and errors per scenario beside nginx serving the same bodies as static
 * files, measured in the same run with the same generator.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import pg from 'pg';
import { intOption, UsageError } from '../../src/cli/options';
import { loadConfig } from '../../src/config';
import { migrate } from '../../src/postgres/migrate';
import { projectRoot } from '../../src/project-paths';
import { copyDatabase, type ScratchCopy } from '../../db/scratch-copy';
import { createContext, type BenchFile, type BenchOptions, type Scenario } from './context';
import { writeHtmlReport } from './html/write';
import { formatReport, type ReportContext } from './report';
import { runInfo } from './run-info';
import { atRateScenario } from './scenarios/at-rate';
import { changesScenario } from './scenarios/changes';
import { coldScenario, coldStylesScenario } from './scenarios/cold';
import { databaseScenario } from './scenarios/database';
import { prewarmDocuments } from '../../db/prewarm';
import { hotScenario, hotStylesScenario, hotThreeDocumentsScenario } from './scenarios/hot';
import { hotCompressedScenario } from './scenarios/hot-compressed';
import { listingScenario } from './scenarios/listing';
import { memoryScenario } from './scenarios/memory';
import { overloadScenario } from './scenarios/overload';
import { soakScenario } from './scenarios/soak';
import { openBenchDatabase } from './soak-postgres';
import { SOAK_EVENTS, type SoakEventKind } from './soak-schedule';

/**
 * Every scenario, in the order they run (hot-compressed compares its wire bytes with hot's,
 * the cold ones compare themselves with the hot ones' baselines and the database's). The
 * soak is last: it restarts PostgreSQL, which ends the bench's own connection.
 */
export const SCENARIOS: ReadonlyArray<readonly [string, Scenario]> = [
  ['hot', hotScenario],
  ['hot-three-documents', hotThreeDocumentsScenario],
  ['hot-compressed', hotCompressedScenario],
  ['hot-styles', hotStylesScenario],
  ['database', databaseScenario],
  ['cold', coldScenario],
  ['cold-styles', coldStylesScenario],
  ['at-rate', atRateScenario],
  ['changes', changesScenario],
  ['memory', memoryScenario],
  ['listing', listingScenario],
  ['overload', overloadScenario],
  ['soak', soakScenario],
];

/** Run only when named in --scenarios: the soak takes half an hour by default. */
export const OPT_IN_SCENARIOS: ReadonlySet<string> = new Set(['soak']);
const DEFAULT_SCENARIOS = SCENARIOS.map(([name]) => name).filter((name) => !OPT_IN_SCENARIOS.has(name));

const USAGE = `usage: npm run bench -- [--duration S] [--churn S] [--rounds N] [--connections C] [--threads T]
    [--paths N] [--scenarios ${SCENARIOS.map(([name]) => name).join(',')}] [--json FILE]
    [--soak-minutes N] [--soak-csv DIR] [--soak-events E] [--soak-rate N] [--report FILE.html] [--rate N]
  --duration     seconds of each wrk run          --churn    seconds of the memory scenario's run
  --rounds       runs per scenario (medians)      --paths    paths per generated list
  --connections  wrk connections                  --threads  wrk threads
  --scenarios    which to run (all but ${[...OPT_IN_SCENARIOS].join(', ')} by default; they run in the order above)
  --json         also write the rows as JSON to FILE (the soak's per-minute samples included)
  --soak-minutes length of the soak's measured run, in minutes
  --soak-csv     the export the soak reloads (relative to the project root)
  --soak-events  which events the soak runs: ${SOAK_EVENTS.join(',')} (all, by default) or none
  --soak-rate    requests/s the soak paces to, instead of half the capacity it measures (to compare builds at one load)
  --report       also write the rows as one self-contained HTML page (charts; no network)
  --rate         open model: requests/s at a constant arrival rate, hot and cold, for --duration
                 (latency from each scheduled send); alone, runs only the at-rate scenario
  defaults: the "bench" part of loadtest/scenarios.json`;

export interface BenchArgs {
  opt: BenchOptions;
  /** Selected scenario names, in table order. */
  scenarios: string[];
  json?: string;
  /** --report: the HTML report's file. */
  report?: string;
}

const OPTIONS = {
  duration: { type: 'string' },
  churn: { type: 'string' },
  rounds: { type: 'string' },
  connections: { type: 'string' },
  threads: { type: 'string' },
  paths: { type: 'string' },
  scenarios: { type: 'string' },
  json: { type: 'string' },
  report: { type: 'string' },
  rate: { type: 'string' },
  'soak-minutes': { type: 'string' },
  'soak-csv': { type: 'string' },
  'soak-events': { type: 'string' },
  'soak-rate': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

function optionValues(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS }).values;
  } catch (err) {
    // parseArgs' own words: an unknown option, a missing value, a stray argument.
    throw new UsageError((err as Error).message);
  }
}

function soakCsv(raw: string | undefined, fallback: string): string {
  if (raw === undefined) return fallback;
  if (raw.trim() === '') throw new UsageError('--soak-csv must name a folder (got "")');
  return raw;
}

/** --soak-events: a list of event kinds, or `none` (a soak without events: drift under traffic alone). */
function soakEvents(raw: string | undefined): SoakEventKind[] {
  if (raw === undefined) return [...SOAK_EVENTS];
  if (raw.trim() === 'none') return [];
  const named = raw.split(',').map((s) => s.trim());
  const bad = named.filter((name) => !(SOAK_EVENTS as readonly string[]).includes(name));
  if (bad.length > 0) {
    throw new UsageError(`--soak-events takes ${SOAK_EVENTS.join(', ')} (comma-separated) or none; got ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
  }
  return SOAK_EVENTS.filter((kind) => named.includes(kind));
}

function nonEmpty(name: string, raw: string): string {
  if (raw.trim() === '') throw new UsageError(`--${name} must name a file (got "")`);
  return raw;
}

/** Parses argv (without node and the script), defaults from scenarios.json's `bench`. Throws UsageError. */
export function parseBenchArgs(argv: readonly string[], defaults: BenchFile['bench']): BenchArgs {
  const values = optionValues(argv);
  // --rate alone runs the open model only; with --scenarios, at-rate is added to them.
  const asked = values.scenarios?.split(',') ?? (values.rate !== undefined ? [] : DEFAULT_SCENARIOS);
  const selected = new Set(values.rate !== undefined ? [...asked, 'at-rate'] : asked);
  const unknown = [...selected].filter((name) => !SCENARIOS.some(([known]) => known === name));
  if (unknown.length > 0) throw new UsageError(`unknown scenario${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
  return {
    opt: {
      duration: intOption('duration', values.duration, defaults.durationSeconds, 1, 3600),
      churn: intOption('churn', values.churn, defaults.churnSeconds, 1, 3600),
      rounds: intOption('rounds', values.rounds, defaults.rounds, 1, 100),
      connections: intOption('connections', values.connections, defaults.connections, 1, 10_000),
      threads: intOption('threads', values.threads, defaults.threads, 1, 256),
      paths: intOption('paths', values.paths, defaults.pathsPerList, 1, 10_000_000),
      // Up to a day; 1 minute is allowed for a demonstration (the schedule is compressed, see soak-schedule.ts).
      soakMinutes: intOption('soak-minutes', values['soak-minutes'], defaults.soak.minutes, 1, 1440),
      soakCsv: soakCsv(values['soak-csv'], defaults.soak.csvDir),
      soakEvents: soakEvents(values['soak-events']),
      ...(values['soak-rate'] !== undefined && { soakRate: intOption('soak-rate', values['soak-rate'], 0, 1, 1_000_000) }),
      ...(values.rate !== undefined && { rate: intOption('rate', values.rate, 0, 1, 1_000_000) }),
    },
    scenarios: SCENARIOS.map(([name]) => name).filter((name) => selected.has(name)),
    ...(values.json !== undefined && { json: values.json }),
    ...(values.report !== undefined && { report: nonEmpty('report', values.report) }),
  };
}

const say = (line: string): void => void process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const file = JSON.parse(fs.readFileSync(path.join(projectRoot(), 'loadtest/scenarios.json'), 'utf8')) as BenchFile;
  let args: BenchArgs;
  try {
    args = parseBenchArgs(process.argv.slice(2), file.bench);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench: ${err.message}\n${USAGE}\n`);
    process.exit(2);
  }
  const { opt } = args;
  const config = loadConfig();
  const database = await openBenchDatabase(config);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-bench-'));
  // nginx workers run as an unprivileged user and must read the exported bodies.
  fs.chmodSync(dir, 0o755);
  const db = new pg.Client({ connectionString: database.url });
  let cleanups: Array<() => Promise<void>> = [];
  let changesCopy: ScratchCopy | undefined;
  try {
    if (args.scenarios.includes('changes')) {
      say('changes: copying the catalog database (the scenario changes the copy, never the catalog)');
      changesCopy = await copyDatabase(database.url, `atelier_bench_changes_${process.pid}`);
      say(`changes: copied in ${(changesCopy.copyMs / 1000).toFixed(1)} s`);
    }
    await db.connect();
    // The bench reads the catalog with the service's own statements, which expect the schema this build migrates to.
    await migrate(db);
    const { rows } = await db.query<{ ids: number[] | null }>('SELECT array_agg(id ORDER BY pos) AS ids FROM catalog.product_list_doc');
    const ids = rows[0]?.ids ?? [];
    if (ids.length === 0) throw new Error('no catalog loaded: run `npm run data:generate` and `npm run etl` (or `npm start` once for the sample)');
    const shape = { size: ids.length, idAt: (p: number) => ids[p]!, maxId: ids[ids.length - 1]! };
    const workers = config.workers;
    const cacheMb = config.cacheMaxBytes / 2 ** 20;
    const serviceEnv = {
      DATABASE_URL: database.url,
      WORKERS: String(workers),
      PG_DOCUMENT_READS: String(config.pgDocumentReads),
      COMPRESS_AFTER_REQUESTS: String(config.compressAfterRequests),
      COMPRESS_MAX_PER_SECOND: String(config.compressMaxPerSecond),
      COMPRESS_MAX_IN_FLIGHT: String(config.compressMaxInFlight),
      LOG_LEVEL: 'info',
    };
    say(`catalog: ${shape.size} products; ${workers} workers; runs of ${opt.duration} s × ${opt.rounds}; files in ${dir}`);

    if (args.scenarios.some((name) => name === 'database' || name.startsWith('cold'))) say(await prewarmDocuments(db));
    const restartDatabase = database.restart;
    const made = createContext({ opt, file, shape, db, dir, workers, documentReads: config.pgDocumentReads, databaseUrl: database.url, ...(restartDatabase && { restartDatabase }), ...(changesCopy && { changesDatabaseUrl: changesCopy.url }), serviceEnv, say });
    cleanups = made.cleanups;
    for (const [name, scenario] of SCENARIOS) if (args.scenarios.includes(name)) await scenario(made.ctx);

    const reportContext: ReportContext = {
      machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
      catalog: shape.size,
      workers,
      cacheMb,
      rssLimitMb: cacheMb + file.bench.targets.workerRssOverCacheMb!,
      runs: `${opt.rounds} × ${opt.duration} s, wrk ${opt.threads} thread(s), ${opt.connections} connections`,
    };
    process.stdout.write(formatReport(made.ctx.rows, reportContext));
    // Every row carries its run's context, so the JSON alone makes the HTML report (npm run bench:report).
    const run = runInfo(reportContext, { ...opt, soakEvents: opt.soakEvents.join(',') || 'none', ...serviceEnv, DATABASE_URL: '(the bench database)', pageViewModel: file.pageViews.default });
    const saved = made.ctx.rows.map((row) => ({ ...row, run }));
    if (args.json !== undefined) fs.writeFileSync(args.json, JSON.stringify(saved, null, 2));
    if (args.report !== undefined) writeHtmlReport(args.report, saved, file);
  } finally {
    for (const stop of cleanups.reverse()) await stop().catch(() => undefined);
    await db.end().catch(() => undefined);
    await changesCopy?.drop().catch((err: unknown) => say(`changes: the copy of the catalog database could not be dropped: ${String(err)}`));
    await database.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
