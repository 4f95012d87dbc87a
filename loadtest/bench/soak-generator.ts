import { spawn } from 'node:child_process';
import path from 'node:path';

/**
 * The soak's load generator: Debian's wrk with soak-paced.lua, one run per minute. wrk is
 * closed-model; the script's delay() hook paces it to a fixed rate (see the script), and
 * counts statuses per wall-clock second. wrk.ts runs the throughput scenarios' scripts and
 * takes no script or script arguments, hence this runner of its own.
 */

export interface PacedOptions {
  url: string;
  pathsFile: string;
  connections: number;
  threads: number;
  /** Target of the whole run, in requests/s. */
  rate: number;
  /** In s. */
  durationSeconds: number;
}

/** [Unix second the responses arrived in, HTTP status, responses]. */
export type SecondCount = readonly [second: number, status: number, responses: number];

export interface PacedRun {
  requests: number;
  /** Requests answered per second of the run. */
  rps: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Connect, read and write errors and timeouts (wrk does not say when they happened). */
  socketErrors: number;
  /** wrk's own count of statuses above 399, to check the per-second tally against. */
  non2xx: number;
  perSecond: SecondCount[];
  /** Epoch ms of the first and last response; undefined when none came. */
  firstResponseAt?: number;
  lastResponseAt?: number;
}

/** A run with the wall-clock interval its process lived (epoch ms: spawn to exit). */
export interface TimedPacedRun extends PacedRun {
  startedAt: number;
  endedAt: number;
}

const SCRIPT = path.join(__dirname, 'soak-paced.lua');
// A request without an answer after this is a timeout (socket error), as in wrk.ts.
const TIMEOUT = '5s';

/** The figures of wrk's output with soak-paced.lua; undefined when a summary line is missing. */
export function parsePacedOutput(out: string): PacedRun | undefined {
  const lines = out.split('\n');
  const json = lines.find((l) => l.startsWith('WRK_JSON '));
  const seconds = lines.find((l) => l.startsWith('WRK_PER_SECOND '));
  const spanLine = lines.find((l) => l.startsWith('WRK_SPAN '));
  if (json === undefined || seconds === undefined || spanLine === undefined) return undefined;
  const span = JSON.parse(spanLine.slice('WRK_SPAN '.length)) as { first: number; last: number };
  const j = JSON.parse(json.slice('WRK_JSON '.length)) as Record<string, number>;
  const n = (k: string): number => j[k] ?? 0;
  const perSecond: SecondCount[] = Object.entries(JSON.parse(seconds.slice('WRK_PER_SECOND '.length)) as Record<string, number>)
    .map(([key, count]): SecondCount => {
      const [second, status] = key.split(':').map(Number);
      return [second ?? NaN, status ?? NaN, count];
    })
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const durationS = n('durationUs') / 1e6;
  return {
    requests: n('requests'),
    rps: durationS > 0 ? n('requests') / durationS : 0,
    p50Ms: n('p50') / 1000,
    p95Ms: n('p95') / 1000,
    p99Ms: n('p99') / 1000,
    maxMs: n('max') / 1000,
    socketErrors: n('connect') + n('read') + n('write') + n('timeout'),
    non2xx: n('status'),
    perSecond,
    ...(span.first > 0 && { firstResponseAt: span.first, lastResponseAt: span.last }),
  };
}

/** One paced wrk run; rejects when wrk fails or prints no summary. */
export function runPaced(opts: PacedOptions): Promise<TimedPacedRun> {
  const args = [
    '-t', String(opts.threads), '-c', String(opts.connections), '-d', `${opts.durationSeconds}s`, '--timeout', TIMEOUT,
    '-s', SCRIPT, opts.url, '--', opts.pathsFile, String(opts.rate), String(opts.threads),
  ];
  const startedAt = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const run = parsePacedOutput(out);
      if (code !== 0 || run === undefined) return reject(new Error(`wrk failed (${code}): ${err || out}`));
      resolve({ ...run, startedAt, endedAt: Date.now() });
    });
  });
}
