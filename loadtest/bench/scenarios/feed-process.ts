import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { childEnv } from '../../../src/config';
import { projectRoot } from '../../../src/project-paths';
import { feedPaths, type FeedPaths } from '../../../db/etl/change-feed';
import type { ChangeResult } from '../../../db/etl/apply-changes';

/** `npm run etl -- --changes-feed DIR` running as the bench's own child process. */
export interface FeedProcess {
  pid: number;
  /** Moves a change set folder (written anywhere on DIR's filesystem) into the queue as `name`. */
  enqueue(setDir: string, name: string): void;
  /** Whether `name` has left the queue. */
  done(name: string): boolean;
  /** Waits until `name` is applied and answers its summary; throws if it failed or `timeoutMs` passed. */
  applied(name: string, timeoutMs: number): Promise<ChangeResult>;
  stop(): Promise<void>;
}

// The unit's Nice= (test/deploy/systemd.test.ts holds the two equal).
export const FEED_NICE = 10;

// How often the bench looks for a set's summary, in ms: small against a set's ~0.1 s.
const POLL_MS = 5;

/** Starts the change feed of the built ETL (dist/) on `databaseUrl`, its spool in `dir`, its log in `logFile`. */
export function startFeed(databaseUrl: string, dir: string, logFile: string): FeedProcess {
  const paths: FeedPaths = feedPaths(dir);
  const etl = path.join(projectRoot(), 'dist', 'db', 'etl.js');
  const log = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [etl, '--changes-feed', dir], {
    env: { ...childEnv({}), DATABASE_URL: databaseUrl },
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  // As deployed: deploy/systemd/atelier-change-feed.service runs it with Nice=10 (its PostgreSQL session is not niced).
  os.setPriority(child.pid!, FEED_NICE);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  fs.mkdirSync(paths.incoming, { recursive: true });
  return {
    pid: child.pid!,
    enqueue(setDir, name) {
      fs.renameSync(setDir, path.join(paths.incoming, name));
    },
    done: (name) => !fs.existsSync(path.join(paths.incoming, name)),
    async applied(name, timeoutMs) {
      const summary = path.join(paths.applied, name, 'summary.json');
      const error = path.join(paths.failed, name, 'error.txt');
      const deadline = performance.now() + timeoutMs;
      while (!fs.existsSync(summary)) {
        if (fs.existsSync(error)) throw new Error(`change set ${name} failed: ${fs.readFileSync(error, 'utf8').trim()}`);
        if (gone) throw new Error(`the change feed exited before applying ${name} (see ${logFile})`);
        if (performance.now() > deadline) throw new Error(`change set ${name} not applied within ${timeoutMs} ms (see ${logFile})`);
        await sleep(POLL_MS);
      }
      return JSON.parse(fs.readFileSync(summary, 'utf8')) as ChangeResult;
    },
    async stop() {
      if (!gone) child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))]);
    },
  };
}
