import fs from 'node:fs';
import path from 'node:path';
import { childPids } from '../../src/fleet/process';
import { openDatabase, type DatabaseHandle } from '../../src/postgres/open-database';

/** The bench's database: openDatabase's, plus a restart when the bench owns the server. */
export interface BenchDatabase {
  readonly url: string;
  /** Stops the embedded server when the bench started it (the one running now, after restarts). */
  close(): Promise<void>;
  /** Fast shutdown, then a start on the same directory, port and password: the URL stays valid. */
  restart?: () => Promise<void>;
}

type DatabaseConfig = Parameters<typeof openDatabase>[0];

/**
 * Whether the embedded server of `dir` is a child of this process: the first line of its
 * postmaster.pid is the server's pid (setpriv execs it, so it keeps the pid spawn saw). A
 * server that `npm start` or another tool runs is not ours to restart.
 */
function ownsServer(dir: string): boolean {
  try {
    const pid = Number(fs.readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return childPids(process.pid).includes(pid);
  } catch {
    return false;
  }
}

/**
 * openDatabase (DATABASE_URL, a running embedded cluster, or one started here), and, when
 * this process started the embedded server, a restart of it: the soak scenario's PostgreSQL
 * restart must stop the very server the service reads from and bring it back where it was.
 */
export async function openBenchDatabase(config: DatabaseConfig): Promise<BenchDatabase> {
  let handle: DatabaseHandle = await openDatabase(config);
  const { url } = handle;
  const owned = config.databaseUrl === undefined && ownsServer(config.embeddedPgDir);
  const restart = async (): Promise<void> => {
    await handle.close();
    handle = await openDatabase(config);
    if (handle.url !== url) throw new Error(`PostgreSQL came back at another address than the service's DATABASE_URL`);
  };
  return {
    url,
    close: () => handle.close(),
    ...(owned && { restart }),
  };
}
