import fs from 'node:fs';
import path from 'node:path';
import type { CorsOrigins } from '../config';
import { sharedNginxDir, writeNginxConfig } from './nginx-config';
import { findNginx, startNginx, testNginxConfig } from './nginx';
import type { NginxTls } from './nginx-tls';
import { freePort } from './process';

/** nginx with the fleet's configuration on loopback, in front of instances something else runs. */
export interface Balancer {
  /** http://127.0.0.1:PORT, or https:// with `tls`. */
  url: string;
  statusUrl: string;
  /** nginx's prefix: its configuration and logs/. */
  dir: string;
  pid: number;
  /** Graceful stop (in-flight requests finish), forced after 2 s. */
  stop(): Promise<void>;
}

export interface BalancerOptions {
  /** Instances as host:port. */
  upstreams: readonly string[];
  /** nginx's prefix (created if missing). */
  dir: string;
  microcache?: boolean;
  /** Never rate limited (default: this host, as the fleet sets it). */
  limitExempt?: string[];
  corsAllowOrigins?: CorsOrigins;
  tls?: NginxTls;
  /** nginx worker processes (default 1: the instances and the load generator share the cores). */
  workerProcesses?: 'auto' | number;
}

// How long nginx gets to answer /healthz after starting, in ms.
const READY_TIMEOUT_MS = 10_000;
// A stop's grace for in-flight requests, in ms.
const STOP_GRACE_MS = 2_000;

/**
 * The project's nginx (as `npm run fleet` renders it) on free loopback ports, in front of
 * `upstreams`: for the tests and the bench, which start their instances themselves.
 */
export async function startBalancer(opts: BalancerOptions): Promise<Balancer> {
  const bin = findNginx();
  if (bin === undefined) throw new Error('nginx not installed (Debian package nginx)');
  fs.mkdirSync(opts.dir, { recursive: true });
  const port = await freePort();
  const statusPort = await freePort();
  const conf = writeNginxConfig(opts.dir, {
    sharedDir: sharedNginxDir(),
    listen: `127.0.0.1:${port}`,
    statusListen: `127.0.0.1:${statusPort}`,
    upstreams: opts.upstreams,
    microcache: opts.microcache ?? false,
    limitExempt: opts.limitExempt ?? ['127.0.0.1'],
    workerProcesses: opts.workerProcesses ?? 1,
    corsAllowOrigins: opts.corsAllowOrigins ?? '*',
    ...(opts.tls !== undefined && { tls: opts.tls }),
  });
  await testNginxConfig(bin, opts.dir, conf);
  const nginx = startNginx({ bin, prefix: opts.dir, conf, errorLog: path.join(opts.dir, 'logs', 'error.log') });
  const url = `${opts.tls !== undefined ? 'https' : 'http'}://127.0.0.1:${port}`;
  try {
    await nginx.ready(`${url}/healthz`, READY_TIMEOUT_MS);
  } catch (err) {
    await nginx.stop(0);
    throw err;
  }
  return { url, statusUrl: `http://127.0.0.1:${statusPort}/stub_status`, dir: opts.dir, pid: nginx.pid, stop: () => nginx.stop(STOP_GRACE_MS) };
}
