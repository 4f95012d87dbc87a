import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { childEnv } from '../config';
import { killGroup, waitForOk } from './process';

export interface InstanceOptions {
  /** 1-based, for messages and file names. */
  index: number;
  port: number;
  metricsPort: number;
  /** dist/src/server.js. */
  serverJs: string;
  /** Settings on top of the fleet's own environment (DATABASE_URL, WORKERS…). */
  env: Readonly<Record<string, string>>;
  /** stdout and stderr of every run of the instance are appended here. */
  logFile: string;
  /** Time the instance gets to drain on stop before it is killed, in ms. */
  stopGraceMs: number;
  /** Receives one human-readable line per lifecycle event. */
  say: (line: string) => void;
}

/** One service instance (`node dist/src/server.js`: a primary and its workers), kept running. */
export interface Instance {
  readonly index: number;
  readonly url: string;
  readonly metricsUrl: string;
  /** The primary's pid, while it runs. */
  pid(): number | undefined;
  /** Resolves when the instance answers /readyz with 200. */
  ready(timeoutMs: number): Promise<void>;
  /** Graceful stop (SIGTERM: drain), killed after the grace period; no restart afterwards. */
  stop(): Promise<void>;
}

// An instance that dies within this long of starting counts as a crash-loop step (ms).
const HEALTHY_AFTER_MS = 10_000;
// Restart delay after k consecutive quick deaths: 1 s, 2 s, 4 s … capped at 30 s.
const restartDelayMs = (k: number): number => Math.min(1000 * 2 ** Math.max(0, k - 1), 30_000);

/**
 * Starts the instance and restarts it whenever it exits unexpectedly, as systemd would on a
 * bare-metal host. It runs in its own process group: a crash test may kill the group, and
 * the fleet decides when the instance hears of a Ctrl-C.
 */
export function superviseInstance(opts: InstanceOptions): Instance {
  const host = '127.0.0.1';
  const url = `http://${host}:${opts.port}`;
  let child: ChildProcess | undefined;
  let stopping = false;
  let quickDeaths = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  let lastExit = '';

  const running = (c: ChildProcess | undefined): c is ChildProcess => c !== undefined && c.exitCode === null && c.signalCode === null;

  const start = (): void => {
    fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
    const log = fs.openSync(opts.logFile, 'a');
    const startedAt = Date.now();
    const c = spawn(process.execPath, [opts.serverJs], {
      env: childEnv({ ...opts.env, PORT: String(opts.port), METRICS_PORT: String(opts.metricsPort), HOST: host }),
      detached: true,
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    child = c;
    c.once('exit', (code, signal) => {
      lastExit = signal ? `signal ${signal}` : `code ${code}`;
      if (stopping) return;
      // Workers of a killed primary may linger while they drain; the new primary needs the port.
      if (c.pid !== undefined) killGroup(c.pid, 'SIGKILL');
      quickDeaths = Date.now() - startedAt < HEALTHY_AFTER_MS ? quickDeaths + 1 : 0;
      const delay = restartDelayMs(quickDeaths);
      opts.say(`instance ${opts.index} exited (${lastExit}): restarting in ${delay} ms (log ${opts.logFile})`);
      restartTimer = setTimeout(() => {
        if (stopping) return;
        start();
        opts.say(`instance ${opts.index} restarted (pid ${child?.pid})`);
      }, delay);
    });
  };

  // Last resort if the fleet exits without stop(): never leave orphan instances.
  const onExit = (): void => void (child?.pid !== undefined && killGroup(child.pid, 'SIGKILL'));
  process.once('exit', onExit);
  start();

  return {
    index: opts.index,
    url,
    metricsUrl: `http://${host}:${opts.metricsPort}/metrics`,
    pid: () => (running(child) ? child.pid : undefined),
    ready: (timeoutMs) =>
      waitForOk(`${url}/readyz`, timeoutMs, () =>
        quickDeaths >= 3 ? `instance ${opts.index} keeps exiting (${lastExit}); see ${opts.logFile}` : undefined,
      ),
    async stop() {
      stopping = true;
      clearTimeout(restartTimer);
      process.off('exit', onExit);
      const c = child;
      if (!running(c) || c.pid === undefined) return;
      const pid = c.pid;
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.kill('SIGTERM');
      const force = setTimeout(() => killGroup(pid, 'SIGKILL'), opts.stopGraceMs);
      await exited;
      clearTimeout(force);
      // The primary waits for its workers, but make sure nothing of the group survives.
      killGroup(pid, 'SIGKILL');
    },
  };
}
