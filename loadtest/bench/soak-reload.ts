import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { childEnv } from '../../src/config';
import { projectRoot } from '../../src/project-paths';

/** A full catalog reload (`npm run etl -- --dir D`, built) running in a child process. */
export interface Reload {
  pid: number;
  /** Resolves when the loader has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
  /** Its log's last non-empty line (the summary, or why it failed). */
  lastLine(): string;
  /** SIGTERM (the loader aborts and leaves the live catalog as it was), SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs: number): Promise<void>;
}

export interface ReloadOptions {
  /** The export to load (six CSV files). */
  csvDir: string;
  databaseUrl: string;
  /** stdout and stderr go here. */
  logFile: string;
  rejectsFile: string;
  /** The loader's Unix priority (`--nice`): 0 as the service, up to 19 to take only what the service leaves. */
  nice: number;
}

/** The built ETL (npm run bench builds it first). */
export const etlScript = (): string => path.join(projectRoot(), 'dist', 'db', 'etl.js');

// The tail read for lastLine(), in bytes: the summary's last lines fit.
const TAIL_BYTES = 4096;

function lastLineOf(file: string): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    const lines = text.slice(-TAIL_BYTES).split('\n').map((l) => l.trim()).filter(Boolean);
    return lines[lines.length - 1] ?? '';
  } catch {
    return '';
  }
}

/**
 * Starts the real ETL on the catalog's database, as an operator's `npm run etl` would: it
 * loads the export beside the live catalog, swaps it in and notifies the service, whose
 * workers then clear their caches.
 */
export function startReload(opts: ReloadOptions): Reload {
  const log = fs.openSync(opts.logFile, 'a');
  const args = [etlScript(), '--dir', opts.csvDir, '--rejects', opts.rejectsFile, '--nice', String(opts.nice)];
  const child = spawn(process.execPath, args, {
    cwd: projectRoot(),
    // PATH and the database only: the bench's own settings stay out of the loader.
    env: { PATH: childEnv({}).PATH ?? '', DATABASE_URL: opts.databaseUrl },
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${etlScript()}`);
  const pid = child.pid;
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    // Not started after all (or not signalled): counted as a failed reload, not a crash of the bench.
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  return {
    pid,
    exited,
    running,
    lastLine: () => lastLineOf(opts.logFile),
    async stop(graceMs) {
      if (!running()) return;
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(force);
    },
  };
}
