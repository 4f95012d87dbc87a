import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { dieWithParent } from '../parent-death';
import { projectRoot } from '../project-paths';
import { childPids, freePort, killGroup, waitForOk } from './process';

/**
 * The built service (`node dist/src/server.js`: a primary and its workers) as a child
 * process on loopback ports: the one way the fleet, the bench and the tests run it.
 */

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnServiceOptions {
  /** The service's whole environment (nothing else is inherited); PORT, METRICS_PORT and HOST are set over it. */
  env: Readonly<Record<string, string | undefined>>;
  port: number;
  /** Port of the Prometheus endpoint; 0 disables it. */
  metricsPort: number;
  /** stdout and stderr are appended to this file (its folder is created); unset: kept in memory, see output(). */
  logFile?: string;
  /**
   * Own process group: a Ctrl-C meant for the parent does not reach it, stop() kills the
   * whole group, workers never outlive their primary, and nothing survives the parent.
   */
  detached?: boolean;
  /** Default: this project's dist/src/server.js (`npm run build` first). */
  serverJs?: string;
}

export interface ServiceProcess {
  readonly child: ChildProcess;
  /** The primary's pid. */
  readonly pid: number;
  readonly port: number;
  readonly metricsPort: number;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** http://127.0.0.1:METRICS_PORT/metrics */
  readonly metricsUrl: string;
  /** Resolves when the primary has exited. */
  readonly exited: Promise<ExitStatus>;
  running(): boolean;
  /** Everything it wrote so far (empty when it writes to a log file). */
  output(): string;
  /** PIDs of the primary's live workers. */
  workerPids(): number[];
  /** Resolves once `probePath` (/readyz, /healthz) answers 200; rejects if it exits first or after `timeoutMs`. */
  ready(probePath: string, timeoutMs: number): Promise<void>;
  /** SIGTERM (the service drains), SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs: number): Promise<ExitStatus>;
}

const HOST = '127.0.0.1';

/** Starts the service on the given ports; does not wait for it to answer (see ready()). */
export function spawnService(opts: SpawnServiceOptions): ServiceProcess {
  let out = '';
  let stdout: 'pipe' | number = 'pipe';
  if (opts.logFile !== undefined) {
    fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
    stdout = fs.openSync(opts.logFile, 'a');
  }
  // SIGTERM when this process dies without stop(): the service drains and exits by itself.
  const [file, args] = dieWithParent(process.execPath, [opts.serverJs ?? path.join(projectRoot(), 'dist', 'src', 'server.js')], 'SIGTERM');
  const child = spawn(file, args, {
    env: { ...opts.env, PORT: String(opts.port), METRICS_PORT: String(opts.metricsPort), HOST },
    detached: opts.detached ?? false,
    stdio: ['ignore', stdout, stdout],
  });
  if (typeof stdout === 'number') fs.closeSync(stdout);
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  if (child.pid === undefined) throw new Error(`could not start ${process.execPath}`);
  const pid = child.pid;
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const describeExit = (): string => (child.signalCode !== null ? `signal ${child.signalCode}` : `code ${child.exitCode}`);

  // Last resort if the parent exits without stop(): never leave an orphan process group.
  const onParentExit = (): void => killGroup(pid, 'SIGKILL');
  if (opts.detached) process.once('exit', onParentExit);
  const exited = new Promise<ExitStatus>((resolve) =>
    child.once('exit', (code, signal) => {
      if (opts.detached) {
        process.off('exit', onParentExit);
        // Workers of a killed primary may linger while they drain; a restart needs the port.
        killGroup(pid, 'SIGKILL');
      }
      resolve({ code, signal });
    }),
  );
  const url = `http://${HOST}:${opts.port}`;

  return {
    child,
    pid,
    port: opts.port,
    metricsPort: opts.metricsPort,
    url,
    metricsUrl: `http://${HOST}:${opts.metricsPort}/metrics`,
    exited,
    running,
    output: () => out,
    workerPids: () => childPids(pid),
    ready: (probePath, timeoutMs) =>
      waitForOk(`${url}${probePath}`, timeoutMs, () => (running() ? undefined : `service exited early (${describeExit()})`)),
    async stop(graceMs) {
      if (!running()) return exited;
      child.kill('SIGTERM');
      const force = setTimeout(() => (opts.detached ? killGroup(pid, 'SIGKILL') : child.kill('SIGKILL')), graceMs);
      const status = await exited;
      clearTimeout(force);
      return status;
    },
  };
}

export interface StartServiceOptions extends Omit<SpawnServiceOptions, 'port' | 'metricsPort'> {
  /** Default: a free port. */
  port?: number;
  /** Default: a free port; 0 disables metrics. */
  metricsPort?: number;
  /** Path that answers 200 once the service is up: /readyz (it can read the catalog) or /healthz. */
  probePath: string;
  /** Longest wait for the probe's 200, in ms. */
  readyTimeoutMs: number;
  /** Time stop() gives it to drain before SIGKILL when it does not get ready, in ms. */
  stopGraceMs: number;
}

/**
 * Starts the service on free ports (unless given) and waits until it is up. If it exits or
 * does not answer in time, it is stopped and the error says why, with its output or log file.
 */
export async function startService(opts: StartServiceOptions): Promise<ServiceProcess> {
  const port = opts.port ?? (await freePort());
  const metricsPort = opts.metricsPort ?? (await freePort());
  const service = spawnService({ ...opts, port, metricsPort });
  try {
    await service.ready(opts.probePath, opts.readyTimeoutMs);
  } catch (err) {
    await service.stop(opts.stopGraceMs);
    const where = opts.logFile !== undefined ? `; see ${opts.logFile}` : `:\n${service.output()}`;
    throw new Error(`${(err as Error).message}${where}`);
  }
  return service;
}
