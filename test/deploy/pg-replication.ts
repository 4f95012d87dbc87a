import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serverUser } from '../../src/postgres/embedded-server';
import { freePort } from '../support/postgres';

/** Debian's PostgreSQL 15 server binaries (apt-get install postgresql-15). */
export const PG15_BIN = '/usr/lib/postgresql/15/bin';

export const pg15Available = (): boolean => ['postgres', 'initdb', 'pg_basebackup'].every((b) => fs.existsSync(path.join(PG15_BIN, b)));

/** One PostgreSQL 15 server on loopback, owned by the test. */
export interface PgServer {
  readonly port: number;
  /** Connection string for `database` (trust authentication, loopback only). */
  url(database?: string): string;
  /** Starts (again), with `settings` as `-c name=value`, and resolves when it accepts connections. */
  start(settings?: Record<string, string>): Promise<void>;
  /** SIGINT: PostgreSQL's fast shutdown, which ends every session, as a planned stop would. */
  stop(): Promise<void>;
}

type User = ReturnType<typeof serverUser>;

function run(bin: string, args: string[], user: User): void {
  execFileSync(path.join(PG15_BIN, bin), args, { ...user, stdio: ['ignore', 'ignore', 'pipe'], env: { LC_ALL: 'C', PATH: '/usr/bin:/bin' } });
}

function ownedDir(dir: string, user: User): string {
  fs.mkdirSync(dir, { mode: 0o700 });
  if (user) fs.chownSync(dir, user.uid, user.gid);
  return dir;
}

function server(dataDir: string, port: number, user: User): PgServer {
  let child: ChildProcess | undefined;
  const running = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;
  const onExit = (): void => void (running() && child!.kill('SIGKILL'));
  return {
    port,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    start: (settings = {}) =>
      new Promise((resolve, reject) => {
        const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dataDir}`,
          // Test data only: durability is not what is tested, speed is welcome.
          '-c', 'fsync=off', '-c', 'max_connections=100', '-c', 'wal_level=replica', '-c', 'max_wal_senders=5',
          ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])];
        const c = spawn(path.join(PG15_BIN, 'postgres'), args, { ...user, stdio: ['ignore', 'ignore', 'pipe'], env: { LC_ALL: 'C' } });
        child = c;
        process.once('exit', onExit);
        let log = '';
        const timer = setTimeout(() => reject(new Error(`PostgreSQL on ${port} not ready in 20 s:\n${log}`)), 20_000);
        c.stderr!.on('data', (chunk: Buffer) => {
          log += chunk.toString();
          // "ready to accept connections" (primary) or "… read-only connections" (standby).
          if (/ready to accept (read-only )?connections/.test(log)) {
            clearTimeout(timer);
            resolve();
          }
        });
        c.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`PostgreSQL on ${port} exited with ${code}:\n${log}`));
        });
      }),
    async stop() {
      process.off('exit', onExit);
      if (!running()) return;
      const c = child!;
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGINT');
      const force = setTimeout(() => c.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(force);
    },
  };
}

/** A primary and a streaming replica made with `pg_basebackup -R`, each on a free loopback port. */
export interface ReplicationPair {
  primary: PgServer;
  replica: PgServer;
  /** Stops both and removes their data. */
  destroy(): Promise<void>;
}

export async function startReplicationPair(): Promise<ReplicationPair> {
  const user = serverUser();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-replication-'));
  // The unprivileged server user must reach the data directories inside.
  fs.chmodSync(root, 0o755);
  const primaryDir = ownedDir(path.join(root, 'primary'), user);
  const replicaDir = ownedDir(path.join(root, 'replica'), user);
  const primary = server(primaryDir, await freePort(), user);
  const replica = server(replicaDir, await freePort(), user);
  const destroy = async (): Promise<void> => {
    await replica.stop();
    await primary.stop();
    fs.rmSync(root, { recursive: true, force: true });
  };
  try {
    // initdb's default pg_hba.conf trusts loopback, replication connections included.
    run('initdb', ['-D', primaryDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C'], user);
    await primary.start();
    run('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', replicaDir, '-R', '-X', 'stream', '-c', 'fast'], user);
    await replica.start();
  } catch (err) {
    await destroy();
    throw err;
  }
  return { primary, replica, destroy };
}
