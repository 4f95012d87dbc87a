/**
 * The open-model load generator (a process of its own, so its CPU is its own): requests at a
 * constant arrival rate (k6's constant-arrival-rate), request i scheduled at start + i / rate,
 * whatever the answers before it. A due request takes a free connection, else opens one (up
 * to maxConnections), else waits for one. Each latency is measured from the scheduled send
 * time (coordinated omission corrected: a stall delays the requests scheduled during it, and
 * every one of them counts its wait), and also from the actual send, as a closed-model tool
 * would; both into HdrHistograms (hdr-histogram-js, µs, 3 significant digits). The first
 * warmUpSeconds run at the same rate unrecorded (wrk2's calibration period): the generator's
 * own compiler and its connections settle there, not in the figures.
 *
 * Run as `node --import tsx generator.ts JSON` (OpenModelOptions); prints one line
 * `OPEN_MODEL {...}` (GeneratorResult) at the end.
 */
import fs from 'node:fs';
import { latencyHistogram, percentileCurve } from '../latency-histogram';
import { Connection, formatRequest, type Outcome } from './http1';
import type { GeneratorResult, OpenModelOptions } from './types';

// A request unanswered this long is a timeout (as wrk's --timeout in wrk.ts), in ms.
const TIMEOUT_MS = 5000;
// How often in-flight requests are checked for the timeout, in ms.
const TIMEOUT_CHECK_MS = 100;

interface Due {
  /** Scheduled send time (performance.now(), ms). */
  at: number;
  index: number;
}

/** Per-second counters, by second since the start (index 0 = first second). */
class Seconds {
  readonly responses: number[] = [];
  readonly non2xx: number[] = [];
  readonly errors: number[] = [];
  readonly sent: number[] = [];
  readonly late: number[] = [];
  add(series: number[], second: number): void {
    const s = Math.max(0, Math.floor(second));
    while (series.length <= s) series.push(0);
    series[s] = series[s]! + 1;
  }
}

/** Runs the schedule; `onMeasuring` is called when the measured window opens (after the warm-up). */
export async function generate(opts: OpenModelOptions, onMeasuring: () => void = () => undefined): Promise<GeneratorResult> {
  const url = new URL(opts.url);
  const port = Number(url.port);
  const host = url.hostname;
  const requests = fs
    .readFileSync(opts.pathsFile, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((p) => formatRequest(p, url.host, opts.headers ?? {}));
  if (requests.length === 0) throw new Error(`no paths in ${opts.pathsFile}`);
  const corrected = latencyHistogram();
  const fromSend = latencyHistogram();
  const seconds = new Seconds();
  const free: Connection[] = [];
  const all = new Set<Connection>();
  const inFlight = new Map<Connection, Due>();
  const queue: Due[] = [];
  let opening = 0;
  let sent = 0;
  let sentInWindow = 0;
  let late = 0;
  // Measurement start (performance.now(), ms): the schedule begins warmUpSeconds earlier.
  let start = 0;

  const onDone = (connection: Connection, outcome: Outcome): void => {
    const due = inFlight.get(connection);
    inFlight.delete(connection);
    const now = performance.now();
    if (due !== undefined && due.at >= start) {
      const second = (now - start) / 1000;
      if ('error' in outcome) seconds.add(seconds.errors, second);
      else {
        seconds.add(seconds.responses, second);
        if (outcome.status > 399) seconds.add(seconds.non2xx, second);
        corrected.recordValue(Math.max(1, Math.round((now - due.at) * 1000)));
        fromSend.recordValue(Math.max(1, Math.round((now - connection.sentAt) * 1000)));
      }
    }
    if (connection.closed) all.delete(connection);
    else free.push(connection);
    dispatch();
  };
  let opened = 0;
  const open = (): Connection => {
    const connection = new Connection(port, host, onDone);
    all.add(connection);
    opened++;
    return connection;
  };
  const sendOn = (connection: Connection, due: Due, now: number): void => {
    inFlight.set(connection, due);
    connection.send(requests[due.index % requests.length]!, now);
    if (due.at < start) return;
    sent++;
    if (now - start <= opts.durationSeconds * 1000) sentInWindow++;
    const second = (now - start) / 1000;
    seconds.add(seconds.sent, second);
    if (now - due.at > opts.lateMs) {
      late++;
      seconds.add(seconds.late, second);
    }
  };
  // Due requests onto free connections, oldest first; with none free, opens as many as wait (up to the maximum).
  const dispatch = (): void => {
    while (queue.length > 0) {
      let connection = free.pop();
      while (connection?.closed) {
        all.delete(connection);
        connection = free.pop();
      }
      if (connection === undefined) {
        const wanted = Math.min(queue.length - opening, opts.maxConnections - all.size);
        for (let k = 0; k < wanted; k++) {
          const fresh = open();
          opening++;
          fresh.ready().then(
            () => {
              opening--;
              free.push(fresh);
              dispatch();
            },
            () => {
              opening--;
              all.delete(fresh);
            },
          );
        }
        return;
      }
      sendOn(connection, queue.shift()!, performance.now());
    }
  };

  for (let i = 0; i < opts.connections; i++) free.push(open());
  await Promise.all(free.map((c) => c.ready()));
  const warmUp = Math.floor(opts.rate * opts.warmUpSeconds);
  const total = warmUp + Math.floor(opts.rate * opts.durationSeconds);
  const intervalMs = 1000 / opts.rate;
  const scheduleStart = performance.now();
  start = scheduleStart + warmUp * intervalMs;
  // The generator's own CPU counts from the measured window's start, per second and in all.
  const cpuSeconds: number[] = [];
  let cpuStart = process.cpuUsage();
  let cpuLast = cpuStart;
  let cpuTimer: NodeJS.Timeout | undefined;
  const measuring = setTimeout(() => {
    cpuStart = cpuLast = process.cpuUsage();
    cpuTimer = setInterval(() => {
      const now = process.cpuUsage();
      cpuSeconds.push((now.user + now.system - cpuLast.user - cpuLast.system) / 1e6);
      cpuLast = now;
    }, 1000);
    onMeasuring();
  }, Math.max(0, start - performance.now()));
  const timeoutTimer = setInterval(() => {
    const now = performance.now();
    for (const [connection] of inFlight) if (now - connection.sentAt > TIMEOUT_MS) connection.abort('timeout');
  }, TIMEOUT_CHECK_MS);

  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (next < total && scheduleStart + next * intervalMs <= now)
        queue.push({ at: scheduleStart + next * intervalMs, index: next++ });
      dispatch();
      if (next >= total) return resolve();
      setTimeout(tick, Math.max(0, scheduleStart + next * intervalMs - performance.now()));
    };
    tick();
  });
  const scheduleEnd = start + opts.durationSeconds * 1000;
  // Wait for the queue and the answers in flight, at most the timeout past the schedule's end.
  while ((queue.length > 0 || inFlight.size > 0) && performance.now() < scheduleEnd + TIMEOUT_MS)
    await new Promise((r) => setTimeout(r, 5));
  const endedAt = performance.now();
  const cpu = process.cpuUsage(cpuStart);
  clearTimeout(measuring);
  clearInterval(cpuTimer);
  clearInterval(timeoutTimer);
  // Never sent: at least this long without an answer, and counted as such in the corrected histogram.
  const unsent = queue.filter((due) => due.at >= start).length;
  for (const due of queue.splice(0)) if (due.at >= start) corrected.recordValue(Math.round((endedAt - due.at) * 1000));
  for (const connection of all) connection.close();
  const elapsed = (endedAt - start) / 1000;
  return {
    scheduled: total - warmUp,
    sent,
    sentInWindow,
    late,
    unsent,
    answered: fromSend.totalCount,
    elapsedSeconds: elapsed,
    connectionsOpened: opened,
    generatorCores: (cpu.user + cpu.system) / 1e6 / elapsed,
    perSecond: { ...seconds, generatorCores: cpuSeconds },
    percentiles: percentileCurve(corrected),
    sendPercentiles: percentileCurve(fromSend),
  };
}

if (require.main === module) {
  // run.ts starts sampling the service's CPU at this line: its series then matches the generator's.
  generate(JSON.parse(process.argv[2] ?? '{}') as OpenModelOptions, () => process.stdout.write('OPEN_MODEL_START\n')).then(
    (result) => {
      process.stdout.write(`OPEN_MODEL ${JSON.stringify(result)}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`open-model generator: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
