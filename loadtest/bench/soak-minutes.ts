import type { EventRecord, RestartWindow } from './soak-events';
import type { SecondCount, TimedPacedRun } from './soak-generator';
import type { SoakSample } from './soak-sampler';

/** One minute of the soak: its wrk run and the sample taken near its end. */
export interface MinuteInput {
  run: TimedPacedRun;
  sample?: SoakSample;
}

/** Responses of a run by kind; 503s split by whether their second touched a restart window. */
export interface StatusClasses {
  ok: number;
  unavailableInWindow: number;
  unavailableOutside: number;
  /** Any other status outside 2xx (404, 500, …), wherever it happened. */
  otherNon2xx: number;
}

/** One line of the per-minute table (and of the JSON output). */
export interface MinuteRow extends StatusClasses {
  /** 1-based. */
  minute: number;
  /** Epoch ms: the wrk run's start and end. */
  startedAt: number;
  endedAt: number;
  requests: number;
  rps: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /**
   * The service's own p99 over the same stretch (servicePercentileMs): the bound of its
   * histogram bucket, in ms; NaN when it cannot be told. Beside wrk's p99 it shows how much of
   * the tail is spent outside the service's handling (event-loop stalls before a request is
   * read, nginx, the generator itself on the shared cores).
   */
  serviceP99Ms: number;
  /** Connect, read, write errors and timeouts; wrk gives them per run, not per second. */
  socketErrors: number;
  /** Statuses above 399 by wrk's own count; differs from the tally only if the script missed responses. */
  wrkNon2xx: number;
  /** Epoch ms of the run's first and last response (undefined: none). */
  firstResponseAt?: number;
  lastResponseAt?: number;
  /** Responses per status code. */
  statuses: Record<string, number>;
  /** The statuses outside 2xx by the second they arrived in, for a timeline (2xx left out: the JSON stays small). */
  non2xxPerSecond: SecondCount[];
  /** Each live worker's RSS at the sample, in MiB (empty without a sample). */
  workerRssMb: number[];
  /** The largest of them; NaN without a sample. */
  maxWorkerRssMb: number;
  heapUsedMb: number;
  fds: number;
  pgService: number;
  pgAll: number;
  /** Events that happened during the minute, in order. */
  events: string[];
  /** Their kinds, in the same order. */
  eventKinds: string[];
}

const SECOND_MS = 1000;

/**
 * The q-quantile of the service's request durations between two samples, as the upper bound
 * (ms) of the histogram bucket it falls in. NaN when either sample lacks the buckets, when the
 * workers differ between them (a replaced worker's counts restart: the difference of the sums
 * is no longer the stretch's), or when no request was counted.
 */
export function servicePercentileMs(before: SoakSample | undefined, after: SoakSample | undefined, q: number): number {
  if (before === undefined || after === undefined || before.requestBuckets.length === 0 || after.requestBuckets.length === 0) return NaN;
  const pids = (s: SoakSample): string => s.workers.map((w) => w.pid).sort((a, b) => a - b).join(',');
  if (pids(before) !== pids(after)) return NaN;
  const earlier = new Map(before.requestBuckets);
  const counts = after.requestBuckets.map(([bound, n]): [number, number] => [bound, n - (earlier.get(bound) ?? NaN)]);
  const total = counts.at(-1)![1];
  if (!(total > 0)) return NaN;
  const found = counts.find(([, n]) => n >= q * total);
  return found === undefined ? NaN : found[0] * SECOND_MS;
}

/** Whether the wall-clock second `second` (Unix s) overlaps one of the windows (epoch ms). */
export function inWindow(second: number, windows: readonly RestartWindow[]): boolean {
  const from = second * SECOND_MS;
  return windows.some((w) => from < w.to && from + SECOND_MS > w.from);
}

/**
 * Splits per-second status counts into 2xx, 503 inside a restart window, 503 outside, and
 * everything else. A second is inside when any part of it is, so a 503 up to a second before
 * the stop counts as inside: the buckets are whole seconds.
 */
export function classifyStatuses(perSecond: readonly SecondCount[], windows: readonly RestartWindow[]): StatusClasses {
  const classes: StatusClasses = { ok: 0, unavailableInWindow: 0, unavailableOutside: 0, otherNon2xx: 0 };
  for (const [second, status, n] of perSecond) {
    if (status >= 200 && status < 300) classes.ok += n;
    else if (status === 503 && inWindow(second, windows)) classes.unavailableInWindow += n;
    else if (status === 503) classes.unavailableOutside += n;
    else classes.otherNon2xx += n;
  }
  return classes;
}

/** Index of the minute an instant falls in: the last one started at or before it (the first for earlier instants). */
function minuteOf(at: number, starts: readonly number[]): number {
  let index = 0;
  for (let i = 0; i < starts.length; i++) if (starts[i]! <= at) index = i;
  return index;
}

/**
 * The per-minute rows: figures of each run, its sample, its events, its statuses classified
 * against the restart windows. `start` is a sample taken before the first minute: the first
 * minute's service p99 is counted from it.
 */
export function minuteRows(inputs: readonly MinuteInput[], events: readonly EventRecord[], windows: readonly RestartWindow[], start?: SoakSample): MinuteRow[] {
  const starts = inputs.map((m) => m.run.startedAt);
  const eventsOf: EventRecord[][] = inputs.map(() => []);
  for (const e of [...events].sort((a, b) => a.at - b.at)) eventsOf[minuteOf(e.at, starts)]?.push(e);
  return inputs.map(({ run, sample }, i): MinuteRow => {
    const statuses: Record<string, number> = {};
    for (const [, status, n] of run.perSecond) statuses[String(status)] = (statuses[String(status)] ?? 0) + n;
    const rss = sample?.workers.map((w) => w.rssMb) ?? [];
    return {
      minute: i + 1,
      startedAt: run.startedAt,
      endedAt: run.endedAt,
      requests: run.requests,
      rps: run.rps,
      p50Ms: run.p50Ms,
      p95Ms: run.p95Ms,
      p99Ms: run.p99Ms,
      maxMs: run.maxMs,
      serviceP99Ms: servicePercentileMs(i === 0 ? start : inputs[i - 1]!.sample, sample, 0.99),
      socketErrors: run.socketErrors,
      wrkNon2xx: run.non2xx,
      ...(run.firstResponseAt !== undefined && { firstResponseAt: run.firstResponseAt }),
      ...(run.lastResponseAt !== undefined && { lastResponseAt: run.lastResponseAt }),
      ...classifyStatuses(run.perSecond, windows),
      statuses,
      non2xxPerSecond: run.perSecond.filter(([, status]) => status < 200 || status >= 300),
      workerRssMb: rss,
      maxWorkerRssMb: rss.length > 0 ? Math.max(...rss) : NaN,
      heapUsedMb: sample?.heapUsedMb ?? NaN,
      fds: sample?.fds ?? NaN,
      pgService: sample?.pgService ?? NaN,
      pgAll: sample?.pgAll ?? NaN,
      events: (eventsOf[i] ?? []).map((e) => e.text),
      eventKinds: (eventsOf[i] ?? []).map((e) => e.kind),
    };
  });
}

/**
 * Longest pause between one minute's run and the next, in ms: from the last response of one
 * to the first of the next (wrk's start-up and connecting included), or between the two
 * processes when a run had no response.
 */
export function longestGapMs(rows: readonly Pick<MinuteRow, 'startedAt' | 'endedAt' | 'firstResponseAt' | 'lastResponseAt'>[]): number {
  let gap = 0;
  for (let i = 1; i < rows.length; i++) {
    const before = rows[i - 1]!;
    const after = rows[i]!;
    gap = Math.max(gap, (after.firstResponseAt ?? after.startedAt) - (before.lastResponseAt ?? before.endedAt));
  }
  return gap;
}
