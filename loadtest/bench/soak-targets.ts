import type { SoakDefaults } from './context';
import type { MinuteRow } from './soak-minutes';

export type Verdict = 'met' | 'MISSED' | 'not judged';

/** One target of the soak, its verdict and the figures behind it. */
export interface TargetResult {
  name: string;
  /** A few words for the bench table's target column. */
  short: string;
  verdict: Verdict;
  detail: string;
}

export type TargetSettings = Pick<SoakDefaults, 'flatTolerance' | 'p99OverFirstMinutes'>;

// Minutes 5–15 are the reference of "flat"; the last 10 are compared with it.
const REFERENCE_FROM = 5;
const REFERENCE_TO = 15;
const LAST_MINUTES = 10;
// The p99 baseline: the first minutes without events, at most this many.
const BASELINE_MINUTES = 3;

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const list = (minutes: readonly number[]): string => minutes.join(', ');
const f1 = (x: number): string => x.toFixed(1);

/** Socket errors, statuses outside 2xx but 503, and 503s outside the restart window: none allowed. */
function errorsTarget(rows: readonly MinuteRow[], restarts: number): TargetResult {
  const name = 'errors: only 503s, only in the PostgreSQL restart window';
  const short = 'errors only 503s in the restart window';
  const sum = (k: 'socketErrors' | 'otherNon2xx' | 'unavailableOutside' | 'unavailableInWindow'): number => rows.reduce((s, r) => s + r[k], 0);
  // Minutes holding a worker kill are marked: a killed worker's connections are cut, and a
  // client talking to the service without a proxy that retries sees that as socket errors.
  const where = (k: 'socketErrors' | 'otherNon2xx' | 'unavailableOutside'): string =>
    rows
      .filter((r) => r[k] > 0)
      .map((r) => `${r.minute}${r.eventKinds.includes('kill') ? ' [worker kill]' : ''}`)
      .join(', ');
  const expected = `${sum('unavailableInWindow')} 503s in the window${restarts === 0 ? ' (no restart happened)' : ''}`;
  const missed = (['socketErrors', 'unavailableOutside', 'otherNon2xx'] as const)
    .filter((k) => sum(k) > 0)
    .map((k) => `${sum(k)} ${{ socketErrors: 'socket errors', unavailableOutside: '503s outside the window', otherNon2xx: 'other non-2xx' }[k]} (minute ${where(k)})`);
  return missed.length === 0
    ? { name, short, verdict: 'met', detail: `none outside it; ${expected}` }
    : { name, short, verdict: 'MISSED', detail: `${missed.join('; ')}; ${expected}` };
}

/** Each of the last 10 minutes' values within ±tolerance of the mean of minutes 5–15. */
export function flatTarget(name: string, short: string, rows: readonly MinuteRow[], value: (r: MinuteRow) => number, tolerance: number, unit: string): TargetResult {
  if (rows.length < REFERENCE_TO) return { name, short, verdict: 'not judged', detail: `run shorter than ${REFERENCE_TO} min` };
  const reference = rows.filter((r) => r.minute >= REFERENCE_FROM && r.minute <= REFERENCE_TO).map(value).filter(Number.isFinite);
  const last = rows.slice(-LAST_MINUTES).filter((r) => Number.isFinite(value(r)));
  const unsampled = rows.slice(-LAST_MINUTES).filter((r) => !Number.isFinite(value(r))).map((r) => r.minute);
  if (reference.length === 0 || last.length === 0) return { name, short, verdict: 'not judged', detail: 'no sample in one of the windows' };
  const mean = reference.reduce((s, x) => s + x, 0) / reference.length;
  const deviation = (r: MinuteRow): number => (value(r) - mean) / mean;
  const outside = last.filter((r) => Math.abs(deviation(r)) > tolerance);
  const worst = last.reduce((w, r) => (Math.abs(deviation(r)) > Math.abs(deviation(w)) ? r : w));
  const span = `minutes ${rows.length - LAST_MINUTES + 1}–${rows.length}`;
  const detail =
    `mean of minutes ${REFERENCE_FROM}–${REFERENCE_TO} ${f1(mean)} ${unit}; ${span}: ${f1(Math.min(...last.map(value)))}–${f1(Math.max(...last.map(value)))} ${unit}, ` +
    `worst ${(100 * deviation(worst)).toFixed(1)} % in minute ${worst.minute} (bound ±${(100 * tolerance).toFixed(0)} %)` +
    (outside.length > 0 ? `; outside in minute ${list(outside.map((r) => r.minute))}` : '') +
    (unsampled.length > 0 ? `; no sample in minute ${list(unsampled)}` : '');
  return { name, short, verdict: outside.length === 0 ? 'met' : 'MISSED', detail };
}

/**
 * Each minute's p99 at most `factor` × the baseline: the median p99 of the first three
 * minutes in which no event happened (a run whose first minutes all hold one uses minute 1).
 */
export function p99Target(rows: readonly MinuteRow[], factor: number): TargetResult {
  const name = `p99 of every minute ≤ ${factor}× the first minutes'`;
  const short = `p99 ≤ ${factor}× first minutes`;
  const quiet = rows.slice(0, BASELINE_MINUTES).filter((r) => r.events.length === 0);
  const base = quiet.length > 0 ? quiet : rows.slice(0, 1);
  if (base.length === 0) return { name, short, verdict: 'not judged', detail: 'no minute measured' };
  const baseline = median(base.map((r) => r.p99Ms));
  const over = rows.filter((r) => !(r.p99Ms <= factor * baseline));
  const worst = rows.reduce((w, r) => (r.p99Ms > w.p99Ms ? r : w));
  const which = quiet.length > 0 ? `median of minute ${list(base.map((r) => r.minute))}, without events` : 'minute 1, which holds events';
  const detail =
    `baseline ${baseline.toFixed(2)} ms (${which}), bound ${(factor * baseline).toFixed(2)} ms; worst ${worst.p99Ms.toFixed(2)} ms in minute ${worst.minute}` +
    (over.length > 0 ? `; over in minute ${list(over.map((r) => r.minute))}` : '');
  return { name, short, verdict: over.length === 0 ? 'met' : 'MISSED', detail };
}

/** Every target of the soak, judged on the per-minute rows. */
export function evaluateSoak(rows: readonly MinuteRow[], restarts: number, s: TargetSettings): TargetResult[] {
  const tolerance = `±${(100 * s.flatTolerance).toFixed(0)} %`;
  return [
    errorsTarget(rows, restarts),
    flatTarget(`worker RSS flat (largest worker; last 10 min ${tolerance} of minutes 5–15)`, 'RSS flat', rows, (r) => r.maxWorkerRssMb, s.flatTolerance, 'MiB'),
    flatTarget(`PostgreSQL sessions of the service flat (last 10 min ${tolerance} of minutes 5–15)`, 'PG sessions flat', rows, (r) => r.pgService, s.flatTolerance, 'sessions'),
    p99Target(rows, s.p99OverFirstMinutes),
  ];
}
