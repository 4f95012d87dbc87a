import path from 'node:path';
import type { Config } from '../config';
import { projectRoot } from '../project-paths';
import { startFleetDatabase, type FleetDatabase } from './database';
import { superviseInstance, type Instance } from './instance';
import { sharedNginxDir, writeNginxConfig } from './nginx-config';
import { findNginx, startNginx, testNginxConfig, type NginxProcess } from './nginx';
import type { NginxTls } from './nginx-tls';
import { freePort } from './process';

export interface FleetOptions {
  config: Config;
  instances: number;
  /** Loopback port nginx listens on. */
  port: number;
  /** WORKERS of each instance; unset: the service's default. */
  workers?: number;
  /** nginx's prefix and the logs of everything (created if missing). */
  runDir: string;
  microcache: boolean;
  /** nginx binary; unset: found on PATH or in the usual places. */
  nginxBin?: string;
  /** HTTPS with HTTP/2 on `port`; unset: plain HTTP. */
  tls?: NginxTls;
  /** An unpacked release (or a link to one) the instances run; unset: this checkout's dist/. */
  release?: string;
  say: (line: string) => void;
}

export interface Fleet {
  /** The load balancer: the URL clients use (https:// with a certificate). */
  url: string;
  /** nginx's stub_status on its private listener (for the exporter). */
  statusUrl: string;
  nginxPid: number;
  instances: readonly Instance[];
  /** nginx's access log: one line per request, with the instance that answered it. */
  accessLog: string;
  database: string;
  /** nginx first (in-flight requests finish), then the instances (they drain), then the database. */
  stop(): Promise<void>;
}

// Long enough for a cold instance to migrate an empty database, in ms.
const READY_TIMEOUT_MS = 60_000;

/** Starts the database, N supervised instances and nginx in front of them, on loopback. */
export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  const nginxBin = findNginx(opts.nginxBin);
  if (nginxBin === undefined) {
    throw new Error('nginx not found (Debian: apt-get install nginx); pass --nginx /path/to/nginx');
  }
  const runDir = path.resolve(opts.runDir);
  const logs = path.join(runDir, 'logs');
  const cleanup: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    for (const step of cleanup.reverse().splice(0)) await step().catch(() => undefined);
  };

  try {
    const database: FleetDatabase = await startFleetDatabase(opts.config, opts.say);
    cleanup.push(() => database.stop());

    const slots: Array<{ port: number; metricsPort: number }> = [];
    for (let i = 0; i < opts.instances; i++) slots.push({ port: await freePort(), metricsPort: await freePort() });
    const statusPort = await freePort();

    const conf = writeNginxConfig(runDir, {
      sharedDir: sharedNginxDir(),
      listen: `127.0.0.1:${opts.port}`,
      statusListen: `127.0.0.1:${statusPort}`,
      upstreams: slots.map((s) => `127.0.0.1:${s.port}`),
      microcache: opts.microcache,
      // The host itself (load tests, probes) is never throttled; see nginx/README.md.
      limitExempt: ['127.0.0.1'],
      workerProcesses: 'auto',
      corsAllowOrigins: opts.config.corsAllowOrigins,
      ...(opts.tls !== undefined && { tls: opts.tls }),
    });
    await testNginxConfig(nginxBin, runDir, conf);

    const env: Record<string, string> = { DATABASE_URL: database.url };
    if (opts.workers !== undefined) env.WORKERS = String(opts.workers);
    const instances = slots.map((slot, i) =>
      superviseInstance({
        index: i + 1,
        ...slot,
        // Through the link, if it is one: each (re)start runs the release it points at then.
        serverJs: path.join(opts.release !== undefined ? path.resolve(opts.release) : projectRoot(), 'dist', 'src', 'server.js'),
        env,
        logFile: path.join(logs, `instance-${i + 1}.log`),
        pidFile: path.join(runDir, 'pids', `${slot.port}.pid`),
        stopGraceMs: opts.config.shutdownTimeoutMs + 2_000,
        say: opts.say,
      }),
    );
    cleanup.push(async () => void (await Promise.all(instances.map((instance) => instance.stop()))));
    await Promise.all(instances.map((instance) => instance.ready(READY_TIMEOUT_MS)));

    const nginx: NginxProcess = startNginx({ bin: nginxBin, prefix: runDir, conf, errorLog: path.join(logs, 'nginx-error.log') });
    cleanup.push(() => nginx.stop());
    const url = `${opts.tls !== undefined ? 'https' : 'http'}://127.0.0.1:${opts.port}`;
    await nginx.ready(`${url}/readyz`, 10_000);

    return {
      url,
      statusUrl: `http://127.0.0.1:${statusPort}/stub_status`,
      nginxPid: nginx.pid,
      instances,
      accessLog: path.join(logs, 'access.log'),
      database: database.description,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
