import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { intOption, numberOption, UsageError } from '../src/cli/options';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/postgres/open-database';
import { checkCampus, DEFAULT_CAMPUS } from './etl/campus';
import { preflight } from './etl/preflight';
import { formatDuration } from './etl/format';
import { createProgress } from './etl/progress';
import { formatReconciliation } from './etl/reconcile';
import { applyChanges } from './etl/apply-changes';
import { runChangeFeed } from './etl/change-feed';
import { DEFAULT_JOBS, DEFAULT_MAX_REJECT_RATIO, reloadCatalog } from './etl/reload-catalog';
import { lowerOwnPriority, MAX_NICE } from './etl/priority';

const USAGE = `usage: npm run etl -- --dir DIR [--campus CODE] [--rejects FILE] [--jobs N] [--max-reject-ratio R] [--nice N] [--summary-json FILE]
       npm run etl -- --changes DIR [--base-version N] [--rejects FILE] [--summary-json FILE]
       npm run etl -- --changes-feed DIR
  --dir               folder holding product.csv, features.csv, styles.csv, photos.csv, skus.csv, related.csv
  --changes           apply a change set to the live catalog in one transaction: any of the six files (rows replace
                      the row with the same id or add one) and deletions.csv (header file,id: rows to remove)
  --changes-feed      keep applying change sets as they arrive in DIR/incoming (each a folder as for --changes, moved
                      in whole; names starting with "." are skipped), in name order, on one database session; each
                      then moves to DIR/applied (with summary.json, rejects.csv) or DIR/failed (with error.txt)
  --base-version      refuse the change set unless the live catalog is at this version
  --campus            the catalog's code, the "campus" of every product and list document (default ${DEFAULT_CAMPUS});
                      1 to 64 printable ASCII characters without spaces
  --rejects           CSV report of rejected records (file,line,reason); default .data/rejects/etl-<time>.csv
  --jobs              parallel database connections (default ${DEFAULT_JOBS})
  --max-reject-ratio  refuse the load when a file rejects more than this share of its records (default ${DEFAULT_MAX_REJECT_RATIO})
  --nice              run the load at this Unix priority, 0 (default) to ${MAX_NICE} (lowest), on a host that also serves:
                      this process, and its database sessions when PostgreSQL runs on this host (without parallel workers)
  --summary-json      also write counts, timings and peak memory as JSON to this file`;

/**
 * `npm run etl -- --dir D`: loads the CSV export into a new catalog and swaps it in.
 * Calls `reachingDatabase` once the command line is checked and the load itself begins,
 * so a failure can say whether the live catalog was at stake.
 */
async function run(reachingDatabase: () => void): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string' },
      changes: { type: 'string' },
      'changes-feed': { type: 'string' },
      'base-version': { type: 'string' },
      campus: { type: 'string' },
      rejects: { type: 'string' },
      jobs: { type: 'string' },
      'max-reject-ratio': { type: 'string' },
      nice: { type: 'string' },
      'summary-json': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const modes = [values.dir, values.changes, values['changes-feed']].filter((v) => v !== undefined).length;
  if (modes !== 1) throw new UsageError(`give one of --dir, --changes and --changes-feed\n${USAGE}`);
  const feed = values['changes-feed'];
  if (feed !== undefined && Object.keys(values).length > 1) throw new UsageError(`--changes-feed takes no other option\n${USAGE}`);
  if (values.changes !== undefined && (values.campus !== undefined || values.jobs !== undefined || values['max-reject-ratio'] !== undefined || values.nice !== undefined)) {
    throw new UsageError(`--campus, --jobs, --max-reject-ratio and --nice belong to full loads (--dir)\n${USAGE}`);
  }
  if (values.dir !== undefined && values['base-version'] !== undefined) throw new UsageError(`--base-version belongs to change sets (--changes)\n${USAGE}`);
  const campus = checkCampus(values.campus ?? DEFAULT_CAMPUS);
  const jobs = intOption('jobs', values.jobs, DEFAULT_JOBS, 1, 16);
  const nice = intOption('nice', values.nice, 0, 0, MAX_NICE);
  const maxRejectRatio = numberOption('max-reject-ratio', values['max-reject-ratio'], DEFAULT_MAX_REJECT_RATIO, 0, 1);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const baseVersion = values['base-version'] === undefined ? undefined : intOption('base-version', values['base-version'], 0, 1, Number.MAX_SAFE_INTEGER);
  const rejectsPath = path.resolve(values.rejects ?? path.join('.data', 'rejects', `etl-${stamp}.csv`));
  if (values.rejects === undefined && feed === undefined) process.stderr.write(`rejects will be written to ${rejectsPath}\n`);

  const config = loadConfig();
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (++signals > 1) process.exit(130);
    process.stderr.write(`\n${sig}: stopping (again to quit at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  if (feed !== undefined) {
    // Not reachingDatabase(): sets the feed applied before a failure did change the catalog.
    const db = await openDatabase(config);
    try {
      const applied = await runChangeFeed({ url: db.url, dir: feed, log: (line) => process.stderr.write(`${line}\n`), signal: controller.signal });
      process.stdout.write(`change feed stopped: ${applied} change sets applied\n`);
    } finally {
      await db.close();
    }
    return;
  }
  reachingDatabase();
  if (values.changes !== undefined) {
    const db = await openDatabase(config);
    try {
      const result = await applyChanges({
        url: db.url,
        dir: values.changes,
        rejectsPath,
        ...(baseVersion === undefined ? {} : { baseVersion }),
        log: (line) => process.stderr.write(`${line}\n`),
        signal: controller.signal,
      });
      process.stdout.write(`${formatReconciliation(result.files)}\n`);
      const rejected = result.files.reduce((n, c) => n + c.rejected, 0);
      process.stdout.write(
        `catalog version ${result.version}: change set applied in ${formatDuration(result.timings.totalMs)}; ` +
          `${result.products} products rebuilt, ${result.documents} documents changed; ${rejected} rejects written to ${result.rejectsPath}\n`,
      );
      if (values['summary-json']) fs.writeFileSync(values['summary-json'], JSON.stringify(result, null, 2));
    } finally {
      await db.close();
    }
    return;
  }
  const dir = values.dir!;
  const sizes = preflight(dir);
  if (nice > 0) lowerOwnPriority(nice);
  const db = await openDatabase(config);
  const progress = createProgress({
    out: process.stderr,
    tty: process.stderr.isTTY === true,
    totalBytes: [...sizes.values()].reduce((a, b) => a + b, 0),
    ...(process.stderr.columns ? { columns: process.stderr.columns } : {}),
  });
  try {
    const result = await reloadCatalog({
      url: db.url,
      dir,
      campus,
      rejectsPath,
      jobs,
      maxRejectRatio,
      nice,
      progress,
      log: (line) => progress.log(line),
      signal: controller.signal,
    });
    progress.stop();
    const peakRss = process.resourceUsage().maxRSS * 1024;
    process.stdout.write(`${formatReconciliation(result.files)}\n`);
    const rejected = result.files.reduce((n, c) => n + c.rejected, 0);
    process.stdout.write(
      `catalog version ${result.version} loaded in ${formatDuration(result.timings.totalMs)} (campus ${result.campus}); ` +
        `${rejected} rejects written to ${result.rejectsPath}; peak RSS ${(peakRss / 1048576).toFixed(0)} MiB\n`,
    );
    if (values['summary-json']) {
      fs.writeFileSync(values['summary-json'], JSON.stringify({ ...result, peakRssBytes: peakRss }, null, 2));
    }
  } finally {
    progress.stop();
    await db.close();
  }
}

function main(): void {
  // Set once the load has begun: only then can a failure have touched (and spared) the live catalog.
  let reachedDatabase = false;
  run(() => (reachedDatabase = true)).then(
    () => process.exit(0),
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      const unchanged = reachedDatabase ? '\nThe live catalog is unchanged.' : '';
      process.stderr.write(`\netl failed: ${message}${unchanged}\n`);
      process.exit(1);
    },
  );
}

if (require.main === module) main();
