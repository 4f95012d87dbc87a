import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import pino from 'pino';
import { intOption, UsageError } from '../src/cli/options';
import { loadConfig } from '../src/config';
import { listenForCatalogChanges } from '../src/postgres/listener';
import { bareCopy } from './etl/bare-copy';
import { openDatabase } from '../src/postgres/open-database';
import { withDatabase } from '../src/postgres/urls';
import { formatBytes, formatCount } from './etl/format';
import { createProgress } from './etl/progress';
import { formatReconciliation } from './etl/reconcile';
import { DEFAULT_JOBS, reloadCatalog } from './etl/reload-catalog';
import { FILES } from './etl/files';
import { benchChanges } from './bench-changes';

const dirBytes = (dir: string): number => FILES.reduce((sum, f) => sum + fs.statSync(path.join(dir, f.file)).size, 0);

const USAGE = `usage: npm run bench:etl -- [--products N] [--seed S] [--dir DIR] [--reuse] [--jobs N] [--keep-db]
       npm run bench:etl -- --changes N [--no-prewarm]
  --changes   instead: change sets on a copy of the live catalog's database (db/bench-changes.ts),
              after reading the live documents into the buffer pool (--no-prewarm: not)
  Runs generate (child process) -> ETL (this process) -> bare COPY of the same files, in a
  scratch database on DATABASE_URL's server (or the embedded one), then drops it.
  --products  products to generate (default 1000011, the full export)
  --dir       where the CSV files go (default .data/bench/csv)
  --reuse     keep files already generated there with the same --products and --seed`;

interface Row {
  phase: string;
  ms: number;
  rows?: number;
}

/** 36.2s, 3m19.4s: the table needs more precision than progress lines. */
function seconds(ms: number): string {
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)}s` : `${Math.floor(s / 60)}m${(s % 60).toFixed(1).padStart(4, '0')}s`;
}

function table(rows: Row[]): string {
  const cells = rows.map((r) => [
    r.phase,
    seconds(r.ms),
    r.rows === undefined ? '' : formatCount(r.rows),
    r.rows === undefined ? '' : formatCount(r.rows / Math.max(r.ms / 1000, 0.001)),
  ]);
  const head = ['phase', 'time', 'rows', 'rows/s'];
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string => c.map((x, i) => (i === 0 ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join('  ');
  return [line(head), ...cells.map(line)].join('\n');
}

/** `npm run data:generate` in a child process (its memory is not the loader's). */
async function generate(dir: string, products: number, seed: number): Promise<number> {
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [path.join(__dirname, 'generate.js'), '--out', dir, '--products', String(products), '--seed', String(seed)],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`the generator exited with ${code}`);
  return Date.now() - started;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      products: { type: 'string' },
      seed: { type: 'string' },
      dir: { type: 'string' },
      reuse: { type: 'boolean' },
      jobs: { type: 'string' },
      'keep-db': { type: 'boolean' },
      changes: { type: 'string' },
      'no-prewarm': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  if (values.changes !== undefined) return benchChanges(loadConfig(), intOption('changes', values.changes, 10_000, 1, 100_000), !values['no-prewarm']);
  // The generator's and the ETL's own ranges: a value they would refuse is refused here, before any work.
  const products = intOption('products', values.products, 1_000_011, 1, 50_000_000);
  const seed = intOption('seed', values.seed, 1, 0, 2 ** 32 - 1);
  const jobs = intOption('jobs', values.jobs, DEFAULT_JOBS, 1, 16);
  const dir = path.resolve(values.dir ?? path.join('.data', 'bench', 'csv'));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-bench-'));
  const config = loadConfig();
  const server = await openDatabase(config, 'postgres');
  const scratch = `atelier_bench_${process.pid}`;
  const url = withDatabase(server.url, scratch);
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  const rows: Row[] = [];
  try {
    await admin.query(`CREATE DATABASE ${scratch}`);
    const version = (await admin.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v;
    process.stderr.write(
      `bench: ${formatCount(products)} products, seed ${seed}, ${jobs} jobs, PostgreSQL ${version}, ${os.availableParallelism()} cores; scratch database ${scratch}\n`,
    );

    const marker = path.join(dir, '.generated.json');
    const params = JSON.stringify({ products, seed });
    let generateMs: number | undefined;
    if (values.reuse && fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === params) {
      process.stderr.write(`bench: reusing ${dir}\n`);
    } else {
      process.stderr.write(`bench: generating into ${dir}\n`);
      fs.rmSync(marker, { force: true });
      generateMs = await generate(dir, products, seed);
      fs.writeFileSync(marker, params);
    }

    // A worker's listener on the scratch database: measures notify-to-worker latency.
    let noticeAt = 0;
    const listener = listenForCatalogChanges({
      connectionString: url,
      log: pino({ level: 'silent' }),
      onChange: () => void (noticeAt ||= Date.now()),
    });
    // LISTENing before the load can notify (a worker waits as long at most).
    await listener.ready(3_000);
    process.stderr.write('bench: ETL\n');
    const rssBefore = process.memoryUsage().rss;
    const progress = createProgress({
      out: process.stderr,
      tty: process.stderr.isTTY === true,
      totalBytes: dirBytes(dir),
    });
    const etlStarted = Date.now();
    const s = await reloadCatalog({
      url,
      dir,
      rejectsPath: path.join(work, 'rejects.csv'),
      jobs,
      progress,
      log: (line) => progress.log(line),
    });
    const etlMs = Date.now() - etlStarted;
    // Peak of this process so far: the generator ran in its own process, so this is the loader's.
    const peakRss = process.resourceUsage().maxRSS * 1024;
    progress.stop();
    // 500 ms for the swap's notification to reach the listener before it is closed.
    await sleep(500);
    await listener.close();
    process.stdout.write(`${formatReconciliation(s.files)}\n`);
    const read = s.files.reduce((n, f) => n + f.read, 0);
    if (generateMs !== undefined) rows.push({ phase: 'generate (separate process)', ms: generateMs, rows: read });
    rows.push(
      { phase: 'ETL: parse + validate + COPY', ms: s.timings.loadMs, rows: read },
      { phase: 'ETL: indexes + ANALYZE', ms: s.timings.indexesMs },
      { phase: 'ETL: document views + foreign keys', ms: s.timings.viewsMs },
      { phase: 'ETL: timestamps carried + documents compared with the served ones', ms: s.timings.diffMs },
      { phase: 'ETL: swap + drop old catalog', ms: s.timings.swapMs },
      { phase: 'ETL total', ms: etlMs, rows: read },
    );

    process.stderr.write('bench: bare COPY of the same files\n');
    const bare = await bareCopy(url, dir, jobs);
    rows.push({ phase: 'bare COPY, same files (lower bound)', ms: bare.ms, rows: bare.lines });

    const loadAndIndexes = s.timings.loadMs + s.timings.indexesMs;
    const lines = [
      '',
      table(rows),
      '',
      `input: ${formatBytes(s.bytes)}, ${formatCount(read)} records; notify -> listener ${noticeAt ? `${noticeAt - s.swapCommittedAt} ms` : 'not received'}`,
      `ETL + views ${seconds(etlMs)} (target <= 10m: ${etlMs <= 600_000 ? 'met' : 'MISSED'})`,
      `ETL load / bare COPY = ${(s.timings.loadMs / bare.ms).toFixed(2)}x; load + indexes / bare COPY = ${(loadAndIndexes / bare.ms).toFixed(2)}x; ` +
        `whole ETL with views / bare COPY = ${(etlMs / bare.ms).toFixed(2)}x (target <= 2x)`,
      `loader peak RSS ${(peakRss / 1e6).toFixed(0)} MB, ${(rssBefore / 1e6).toFixed(0)} MB before the load (target <= 300 MB: ${peakRss <= 300e6 ? 'met' : 'MISSED'})`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    if (!values['keep-db']) await admin.query(`DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    await server.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    // A bad command line is answered with the usage, as `--help` would show it.
    const usage = err instanceof UsageError ? `\n${USAGE}` : '';
    process.stderr.write(`bench:etl failed: ${message}${usage}\n`);
    process.exit(1);
  });
}
