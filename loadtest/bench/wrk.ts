import { spawn } from 'node:child_process';
import path from 'node:path';
import type { PercentilePoint } from './trace';

export interface WrkOptions {
  url: string;
  pathsFile: string;
  connections: number;
  threads: number;
  durationSeconds: number;
  /** Also tally response statuses (costs the generator a Lua call per response). */
  countStatuses?: boolean;
  /** Headers every request carries besides wrk's own (e.g. Accept-Encoding). */
  headers?: Readonly<Record<string, string>>;
  /** Called with the pid of the shell that runs wrk (wrk is its child), for sampling wrk's CPU. */
  onSpawn?: (shellPid: number | undefined) => void;
}

export interface WrkResult {
  requests: number;
  /** Bytes read from the server: response headers and bodies, as sent (compressed or not). */
  bytes: number;
  rps: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Socket errors: connect, read, write and timeouts. */
  socketErrors: number;
  /** Responses with status >= 400 (wrk counts every status above 399). */
  non2xx: number;
  /** CPU the load generator used, in cores (1.0 = one core busy for the whole run). */
  generatorCores: number;
  /** Responses per status code, when `countStatuses` was asked for. */
  statuses?: Record<string, number>;
  /** Responses and statuses above 399 per second of the run, as rates (paths.lua). */
  perSecond: { responses: number[]; non2xx: number[] };
  /** wrk's latency percentiles from p50 to p99.999 and the max (100), in ms. */
  percentiles: PercentilePoint[];
}

/**
 * The WRK_TIMELINE line of paths.lua: per-second counts of the run's `durationSeconds` whole
 * seconds (the answers wrk reads after -d's end are left out of the series, not of the
 * totals) and the percentile curve; empty ones if missing.
 */
export function parseTimeline(out: string, durationSeconds: number): Pick<WrkResult, 'perSecond' | 'percentiles'> {
  const line = out.split('\n').find((l) => l.startsWith('WRK_TIMELINE '));
  if (line === undefined) return { perSecond: { responses: [], non2xx: [] }, percentiles: [] };
  const t = JSON.parse(line.slice('WRK_TIMELINE '.length)) as { responses: number[]; non2xx: number[]; percentilesUs: Array<[number, number]> };
  const seconds = Math.min(t.responses.length, durationSeconds);
  // Lua tables end at their last counted second: pad the statuses to the responses' length.
  const series = (xs: readonly number[]): number[] => Array.from({ length: seconds }, (_, i) => xs[i] ?? 0);
  return {
    perSecond: { responses: series(t.responses), non2xx: series(t.non2xx) },
    percentiles: t.percentilesUs.map(([p, us]) => [p, us / 1000] as const),
  };
}

const SCRIPT = path.join(__dirname, 'paths.lua');
const STATUS_SCRIPT = path.join(__dirname, 'statuses.lua');

/**
 * Runs Debian's wrk (C, event loop per thread: far cheaper per request than a Node generator)
 * over a file of paths. `times` after wrk reports its CPU seconds, so the table can show the
 * generator was not the bottleneck.
 */
export function runWrk(opts: WrkOptions): Promise<WrkResult> {
  const args = [
    '-t', String(opts.threads), '-c', String(opts.connections), '-d', `${opts.durationSeconds}s`,
    ...Object.entries(opts.headers ?? {}).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
    '--timeout', '5s', '-s', opts.countStatuses ? STATUS_SCRIPT : SCRIPT, opts.url, '--', opts.pathsFile, String(Date.now()),
  ];
  const quoted = args.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `wrk ${quoted}; status=$?; times; exit $status`], { stdio: ['ignore', 'pipe', 'pipe'] });
    opts.onSpawn?.(child.pid);
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '));
      if (code !== 0 || line === undefined) return reject(new Error(`wrk failed (${code}): ${err || out}`));
      const j = JSON.parse(line.slice('WRK_JSON '.length)) as Record<string, number>;
      // `times` prints the shell's own, then its children's user and system time: "0m1.234s 0m0.567s".
      const timesLines = out.trim().split('\n').filter((l) => /^\d+m[\d.]+s \d+m[\d.]+s$/.test(l));
      const seconds = (s: string): number => {
        const m = /^(\d+)m([\d.]+)s$/.exec(s);
        return m ? Number(m[1]) * 60 + Number(m[2]) : 0;
      };
      const children = timesLines[timesLines.length - 1]?.split(' ') ?? [];
      const cpu = children.reduce((sum, s) => sum + seconds(s), 0);
      const n = (k: string): number => j[k] ?? 0;
      const statusLine = out.split('\n').find((l) => l.startsWith('WRK_STATUSES '));
      const statuses = statusLine ? (JSON.parse(statusLine.slice('WRK_STATUSES '.length)) as Record<string, number>) : undefined;
      const durationS = n('durationUs') / 1e6;
      resolve({
        requests: n('requests'),
        bytes: n('bytes'),
        rps: n('requests') / durationS,
        p50Ms: n('p50') / 1000,
        p95Ms: n('p95') / 1000,
        p99Ms: n('p99') / 1000,
        maxMs: n('max') / 1000,
        socketErrors: n('connect') + n('read') + n('write') + n('timeout'),
        non2xx: n('status'),
        generatorCores: cpu / durationS,
        statuses,
        ...parseTimeline(out, opts.durationSeconds),
      });
    });
  });
}
