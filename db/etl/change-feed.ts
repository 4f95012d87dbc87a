import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { isDatabaseUnavailable } from '../../src/postgres/errors';
import { applyChanges, changeSession, type ChangeResult, type ChangeSession } from './apply-changes';
import { EtlError } from './errors';

/**
 * `npm run etl -- --changes-feed DIR`: a long-lived applier. Change sets (folders as for
 * `--changes`) arrive in DIR/incoming, moved there whole (write `incoming/.NAME`, then rename
 * it to `incoming/NAME`: names starting with a dot are never read). Each is applied in name
 * order, one at a time, as `--changes` applies one, on one PostgreSQL session kept for the
 * feed's life: a new session per set costs PostgreSQL more CPU (its caches and plans start
 * cold; figures in README, Changing the catalog). Then the folder moves to DIR/applied
 * (with summary.json and rejects.csv) or, refused or failed, to DIR/failed (with error.txt
 * and rejects.csv). A set that could not reach the database stays queued and is retried.
 */

export interface FeedOptions {
  url: string;
  dir: string;
  log?: (line: string) => void;
  /** Stops the feed: a set being applied rolls back and stays queued. */
  signal: AbortSignal;
  /** How often DIR/incoming is listed when no file event woke the feed, in ms (default 250). */
  pollMs?: number;
}

export interface FeedPaths {
  incoming: string;
  applied: string;
  failed: string;
}

export const feedPaths = (dir: string): FeedPaths => ({
  incoming: path.join(dir, 'incoming'),
  applied: path.join(dir, 'applied'),
  failed: path.join(dir, 'failed'),
});

/** The feed session's application_name (pg_stat_activity). */
export const FEED_APPLICATION = 'atelier-products etl change feed';

// Waits between attempts while the database is away: from 0.5 s, doubling to 30 s.
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 30_000;
const DEFAULT_POLL_MS = 250;

/** The queued change sets, in the order they are applied. */
function queued(incoming: string): string[] {
  return fs
    .readdirSync(incoming, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

/** Moves a finished set out of the queue; a name already taken there gets a suffix, never overwritten. */
function moveOut(from: string, toDir: string, name: string): string {
  let to = path.join(toDir, name);
  for (let k = 2; fs.existsSync(to); k++) to = path.join(toDir, `${name}.${k}`);
  fs.renameSync(from, to);
  return to;
}

/** Resolves at the next file event in the watched folder, after `ms`, or when `signal` aborts. */
async function nextEvent(watcher: fs.FSWatcher, ms: number, signal: AbortSignal): Promise<void> {
  // Cancels the timer when a file event comes first: no timer outlives the wait.
  const woken = new AbortController();
  const wake = (): void => woken.abort();
  watcher.once('change', wake);
  try {
    await sleep(ms, undefined, { signal: AbortSignal.any([signal, woken.signal]) }).catch(() => undefined);
  } finally {
    watcher.off('change', wake);
  }
}

/** Runs the feed until `signal` aborts; resolves with the number of sets it applied. */
export async function runChangeFeed(opts: FeedOptions): Promise<number> {
  const log = opts.log ?? (() => undefined);
  const dirs = feedPaths(opts.dir);
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
  const watcher = fs.watch(dirs.incoming);
  watcher.on('error', () => undefined);
  let session: ChangeSession | undefined;
  let applied = 0;
  let retryMs = RETRY_FIRST_MS;
  // Ends a session that failed (or the last one); a late error of an old session never touches its successor.
  const dropSession = async (failed: ChangeSession | undefined): Promise<void> => {
    if (failed === undefined) return;
    if (session === failed) session = undefined;
    await failed.client.end().catch(() => undefined);
  };
  const waitToRetry = async (name: string, err: unknown): Promise<void> => {
    log(`${name}: the database is not reachable (${err instanceof Error ? err.message : String(err)}); retrying in ${retryMs / 1000} s`);
    await sleep(retryMs, undefined, { signal: opts.signal }).catch(() => undefined);
    retryMs = Math.min(2 * retryMs, RETRY_MAX_MS);
  };
  log(`change feed: applying change sets as they arrive in ${dirs.incoming}`);
  try {
    while (!opts.signal.aborted) {
      const name = queued(dirs.incoming)[0];
      if (name === undefined) {
        await nextEvent(watcher, opts.pollMs ?? DEFAULT_POLL_MS, opts.signal);
        continue;
      }
      const setDir = path.join(dirs.incoming, name);
      const rejectsPath = path.join(setDir, 'rejects.csv');
      if (session === undefined) {
        const made = changeSession(new pg.Client({ connectionString: opts.url, application_name: FEED_APPLICATION }));
        // A session lost between sets: ended, and replaced at the next set.
        made.client.on('error', () => void dropSession(made));
        try {
          await made.client.connect();
        } catch (err) {
          await made.client.end().catch(() => undefined);
          // Away is retried; any other refusal (a wrong password, no such database) ends the feed.
          if (!isDatabaseUnavailable(err)) throw new EtlError(`the change feed cannot connect: ${err instanceof Error ? err.message : String(err)}`);
          await waitToRetry(name, err);
          continue;
        }
        session = made;
      }
      const current = session;
      try {
        const result: ChangeResult = await applyChanges({ url: opts.url, dir: setDir, rejectsPath, session: current, signal: opts.signal });
        fs.writeFileSync(path.join(setDir, 'summary.json'), `${JSON.stringify(result, null, 2)}\n`);
        moveOut(setDir, dirs.applied, name);
        applied++;
        retryMs = RETRY_FIRST_MS;
        log(`${name}: catalog version ${result.version}, ${result.products} products rebuilt, ${result.documents} documents changed in ${result.timings.totalMs} ms`);
      } catch (err) {
        if (opts.signal.aborted) break;
        const message = err instanceof Error ? err.message : String(err);
        if (isDatabaseUnavailable(err)) {
          // Nothing was applied (one transaction): the set stays first in the queue.
          await dropSession(current);
          await waitToRetry(name, err);
          continue;
        }
        fs.writeFileSync(path.join(setDir, 'error.txt'), `${message}\nThe live catalog is unchanged.\n`);
        const to = moveOut(setDir, dirs.failed, name);
        log(`${name}: not applied: ${message} (moved to ${to})`);
      }
    }
  } finally {
    watcher.close();
    await dropSession(session);
  }
  return applied;
}
