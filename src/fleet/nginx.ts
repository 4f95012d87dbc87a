import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { dieWithParent } from '../parent-death';
import { killGroup, waitForOk } from './process';

// Where distributions and source builds put the binary; PATH first (found by spawn itself).
const CANDIDATES = ['nginx', '/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx', '/opt/homebrew/bin/nginx'];

/** The nginx binary to use: `explicit` if given, else the first candidate that runs. */
export function findNginx(explicit?: string): string | undefined {
  for (const candidate of explicit ? [explicit] : CANDIDATES) {
    const probe = spawnSync(candidate, ['-v'], { stdio: 'ignore' });
    if (probe.error === undefined && probe.status === 0) return candidate;
  }
  return undefined;
}

/** Arguments that make nginx use `prefix` for every relative path and log errors to stderr. */
const baseArgs = (prefix: string, conf: string): string[] => ['-p', prefix.endsWith('/') ? prefix : `${prefix}/`, '-e', 'stderr', '-c', conf];

/** `nginx -t`: resolves when the configuration is valid, else rejects with nginx's words. */
export function testNginxConfig(bin: string, prefix: string, conf: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // stdout is /dev/null, not a socket: a config logging to /dev/stdout must open it.
    const child = spawn(bin, ['-t', '-q', ...baseArgs(prefix, conf)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`nginx -t failed for ${conf}:\n${stderr.trim()}`))));
  });
}

export interface NginxProcess {
  readonly pid: number;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  /** Resolves once `url` answers 200 through nginx; rejects with its error log if it exits first, or after `timeoutMs`. */
  ready(url: string, timeoutMs: number): Promise<void>;
  /** Rereads the configuration (new upstream list) without dropping connections. */
  reload(): void;
  /** Graceful stop (in-flight requests finish), forced after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartNginxOptions {
  bin: string;
  /** nginx's prefix: the folder holding nginx.conf, upstream.conf, logs/ and temp/. */
  prefix: string;
  conf: string;
  /** nginx's own error log (its stderr) is appended here. */
  errorLog: string;
  /**
   * Own process group (default): a Ctrl-C meant for the parent does not reach nginx before
   * the parent decides to stop it. false: nginx shares the parent's group, for a parent that
   * does not handle signals and relies on a Ctrl-C stopping everything it started.
   */
  ownProcessGroup?: boolean;
}

/**
 * Runs nginx in the foreground (`daemon off`, which the configuration must not set itself)
 * as a child, by default in its own process group (see `ownProcessGroup`).
 */
export function startNginx(opts: StartNginxOptions): NginxProcess {
  const ownGroup = opts.ownProcessGroup ?? true;
  fs.mkdirSync(path.dirname(opts.errorLog), { recursive: true });
  const log = fs.openSync(opts.errorLog, 'a');
  // SIGQUIT (graceful stop) when the process that started it dies without stop().
  const [file, args] = dieWithParent(opts.bin, [...baseArgs(opts.prefix, opts.conf), '-g', 'daemon off;'], 'SIGQUIT');
  const child = spawn(file, args, {
    detached: ownGroup,
    stdio: ['ignore', 'ignore', log],
  });
  fs.closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${opts.bin}`);
  const pid = child.pid;
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const kill = (): void => void (ownGroup ? killGroup(pid, 'SIGKILL') : running() && child.kill('SIGKILL'));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Last resort if the parent exits without stop(): never leave an orphan balancer.
  process.once('exit', kill);

  return {
    pid,
    exited,
    ready: (url, timeoutMs) => waitForOk(url, timeoutMs, () => (running() ? undefined : `nginx exited:\n${tail(opts.errorLog)}`)),
    reload: () => void (running() && child.kill('SIGHUP')),
    async stop(graceMs = 5_000) {
      process.off('exit', kill);
      if (!running()) return;
      // SIGQUIT: stop accepting, finish in-flight requests, close idle keep-alive sockets.
      child.kill('SIGQUIT');
      const force = setTimeout(kill, graceMs);
      await exited;
      clearTimeout(force);
    },
  };
}

/** The tail of a log file, for error messages. */
function tail(file: string, bytes = 2000): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.slice(-bytes).trim();
  } catch {
    return '';
  }
}
