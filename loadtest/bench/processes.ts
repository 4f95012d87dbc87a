import fs from 'node:fs';
import { childEnv } from '../../src/config';
import { startService as startServiceProcess } from '../../src/fleet/service-process';

export { freePort } from '../../src/fleet/process';

const TICKS_PER_SECOND = 100;
// Far beyond a clean drain (the service's default SHUTDOWN_TIMEOUT_MS of 8 s and the 2 s its
// primary grants its workers on top): only a stuck service is killed, in ms.
const STOP_GRACE_MS = 20_000;
// Long enough for a service to open and check a large catalog, in ms.
const READY_TIMEOUT_MS = 60_000;

/**
 * User + system CPU seconds of the given processes so far (/proc/PID/stat fields 14 and 15),
 * plus, with `reaped`, that of their children that have exited (fields 16 and 17): a
 * PostgreSQL backend's CPU reaches its postmaster's count when its connection ends.
 */
export function cpuSeconds(pids: number[], reaped = false): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
      if (reaped) ticks += Number(fields[13]) + Number(fields[14]);
    } catch {
      // exited
    }
  }
  return ticks / TICKS_PER_SECOND;
}

/** Every process whose command name is `name` (e.g. the PostgreSQL server's processes). */
export function pidsNamed(name: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) pids.push(Number(entry));
    } catch {
      // exited
    }
  }
  return pids;
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
  /** The service's Prometheus endpoint as text (every worker's metrics summed), for labelled series. */
  metricsText(): Promise<string>;
  pid: number;
  pids(): number[];
  workerPids(): number[];
  /** The largest resident set of its workers, in MiB (0 with none). */
  workerRssMb(): number;
  stop(): Promise<void>;
}

/** Runs the built service (dist/src/server.js) with PATH and `env` only, logging to `logFile`, until ready. */
export async function startService(env: Record<string, string>, logFile: string): Promise<Service> {
  const service = await startServiceProcess({
    env: { PATH: childEnv({}).PATH ?? '', ...env },
    logFile,
    probePath: '/readyz',
    readyTimeoutMs: READY_TIMEOUT_MS,
    stopGraceMs: STOP_GRACE_MS,
  });
  const { pid } = service;
  const metricsText = async (): Promise<string> => (await fetch(service.metricsUrl)).text();
  return {
    url: service.url,
    pid,
    metricsText,
    async metric(name) {
      const text = await metricsText();
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      return Number(line?.split(' ').pop() ?? NaN);
    },
    pids: () => [pid, ...service.workerPids()],
    workerPids: () => service.workerPids(),
    workerRssMb: () => Math.max(0, ...service.workerPids().map(rssBytes)) / 2 ** 20,
    stop: async () => void (await service.stop(STOP_GRACE_MS)),
  };
}
