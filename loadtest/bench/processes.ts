import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { childPids, freePort, waitForOk } from '../../src/fleet/process';

export { freePort };

const TICKS_PER_SECOND = 100;

/** User + system CPU seconds of the given processes so far (/proc/PID/stat fields 14 and 15). */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited
    }
  }
  return ticks / TICKS_PER_SECOND;
}

/** A process's resident set in bytes; 0 once it has exited. */
export function rssBytes(pid: number): number {
  let status: string;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return 0;
  }
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

export interface Service {
  url: string;
  /** A metric's value summed over workers (from the service's Prometheus endpoint), e.g. `atelier_cache_misses_total`. */
  metric(name: string): Promise<number>;
  pid: number;
  pids(): number[];
  workerPids(): number[];
  /** The largest resident set of its workers, in MiB (0 with none). */
  workerRssMb(): number;
  stop(): Promise<void>;
}

/** Runs the built service (dist/src/server.js) with `env`, logging to `logFile`, until ready. */
export async function startService(env: Record<string, string>, logFile: string): Promise<Service> {
  const port = await freePort();
  const metricsPort = await freePort();
  const out = fs.openSync(logFile, 'a');
  const child: ChildProcess = spawn(process.execPath, [path.resolve(__dirname, '../../dist/src/server.js')], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), METRICS_PORT: String(metricsPort), ...env },
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForOk(`${url}/readyz`, 60_000, () => (child.exitCode !== null ? `service exited (${child.exitCode})` : undefined));
  } catch (err) {
    child.kill('SIGTERM');
    throw new Error(`${(err as Error).message}; see ${logFile}`);
  }
  const pid = child.pid!;
  return {
    url,
    pid,
    async metric(name) {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      return Number(line?.split(' ').pop() ?? NaN);
    },
    pids: () => [pid, ...childPids(pid)],
    workerPids: () => childPids(pid),
    workerRssMb: () => Math.max(0, ...childPids(pid).map(rssBytes)) / 2 ** 20,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
