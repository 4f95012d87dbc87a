import fs from 'node:fs';
import path from 'node:path';
import { childEnv } from '../config';
import { createRestartBackoff, type RestartBackoffOptions } from '../cluster/restart-backoff';
import { waitForOk } from './process';
import { spawnService, type ServiceProcess } from './service-process';

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
  /** Holds the running primary's pid (rewritten at each restart, removed on stop). */
  pidFile: string;
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

// An instance that dies within 10 s of starting counts as a crash-loop step; it is restarted
// after 1 s following a healthy run, else after 1 s, 2 s, 4 s … capped at 30 s.
const INSTANCE_BACKOFF: RestartBackoffOptions = { healthyAfterMs: 10_000, afterHealthyMs: 1_000, baseDelayMs: 1_000, maxDelayMs: 30_000 };
// After this many quick deaths in a row, waiting for the instance to get ready is given up.
const GIVE_UP_AFTER_QUICK_DEATHS = 3;

/**
 * Starts the instance and restarts it whenever it exits unexpectedly, as systemd would on a
 * bare-metal host. It runs in its own process group: a crash test may kill the group, and
 * the fleet decides when the instance hears of a Ctrl-C.
 */
export function superviseInstance(opts: InstanceOptions): Instance {
  let service: ServiceProcess | undefined;
  let stopping = false;
  const backoff = createRestartBackoff(INSTANCE_BACKOFF);
  let restartTimer: NodeJS.Timeout | undefined;
  let lastExit = '';

  const start = (): void => {
    const startedAt = Date.now();
    const s = spawnService({
      env: childEnv(opts.env),
      port: opts.port,
      metricsPort: opts.metricsPort,
      serverJs: opts.serverJs,
      logFile: opts.logFile,
      detached: true,
    });
    service = s;
    fs.mkdirSync(path.dirname(opts.pidFile), { recursive: true });
    fs.writeFileSync(opts.pidFile, `${s.pid}\n`);
    void s.exited.then(({ code, signal }) => {
      lastExit = signal ? `signal ${signal}` : `code ${code}`;
      if (stopping) return;
      const delay = backoff.died(Date.now() - startedAt);
      opts.say(`instance ${opts.index} exited (${lastExit}): restarting in ${delay} ms (log ${opts.logFile})`);
      restartTimer = setTimeout(() => {
        if (stopping) return;
        start();
        opts.say(`instance ${opts.index} restarted (pid ${service?.pid})`);
      }, delay);
    });
  };
  start();

  const url = `http://127.0.0.1:${opts.port}`;
  return {
    index: opts.index,
    url,
    metricsUrl: `http://127.0.0.1:${opts.metricsPort}/metrics`,
    pid: () => (service?.running() ? service.pid : undefined),
    // Not service.ready(): an instance that exits is restarted, and may still get ready.
    ready: (timeoutMs) =>
      waitForOk(`${url}/readyz`, timeoutMs, () =>
        backoff.quickDeaths() >= GIVE_UP_AFTER_QUICK_DEATHS ? `instance ${opts.index} keeps exiting (${lastExit}); see ${opts.logFile}` : undefined,
      ),
    async stop() {
      stopping = true;
      clearTimeout(restartTimer);
      await service?.stop(opts.stopGraceMs);
      fs.rmSync(opts.pidFile, { force: true });
    },
  };
}
