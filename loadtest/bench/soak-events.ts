import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitForOk } from '../../src/fleet/process';
import type { Service } from './processes';
import { clock, type SoakEventKind, type SoakSchedule } from './soak-schedule';
import type { Reload } from './soak-reload';

/** What happened, when (epoch ms), in words for the per-minute table. */
export interface EventRecord {
  kind: SoakEventKind | 'reload-end' | 'reload-skipped';
  at: number;
  text: string;
}

/** From the moment PostgreSQL is told to stop until /readyz answered 200 again plus the grace (epoch ms). */
export interface RestartWindow {
  from: number;
  to: number;
}

export interface SoakEventsOptions {
  schedule: SoakSchedule;
  /** Start of the measured run (epoch ms): planned times count from here. */
  startedAt: number;
  service: Service;
  /** Number of workers the service keeps. */
  workers: number;
  restartDatabase: () => Promise<void>;
  /** Starts reload number `n` (1-based). */
  startReload: (n: number) => Reload;
  /** Added to the restart window after /readyz answers 200, in ms. */
  restartGraceMs: number;
  say(line: string): void;
}

export interface SoakEvents {
  log: EventRecord[];
  windows: RestartWindow[];
  /** Why the events stopped, when one failed so that the soak cannot go on (PostgreSQL did not come back). */
  failure(): Error | undefined;
  /** Runs no further event; a reload still running is stopped (SIGTERM) and recorded. */
  stop(): Promise<void>;
}

// A replacement worker appears well within this after a kill, in ms (README: 0.3–0.9 s).
const REPLACE_TIMEOUT_MS = 30_000;
// Longest wait for /readyz after PostgreSQL is back, in ms: beyond it the soak is aborted.
const READY_TIMEOUT_MS = 60_000;
// A restart waits for a running reload at most until this share of the run, then goes ahead.
const RESTART_WAIT_UNTIL_SHARE = 0.8;
// A reload stopped at the end gets this long to abort before SIGKILL, in ms.
const RELOAD_STOP_GRACE_MS = 60_000;
const POLL_MS = 100;

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** The worker that has lived longest (smallest start time, /proc/PID/stat field 22). */
function oldest(pids: number[]): number | undefined {
  const started = (pid: number): number => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    } catch {
      return Infinity;
    }
  };
  return [...pids].sort((a, b) => started(a) - started(b))[0];
}

/**
 * Runs the schedule's events at their times, one after the other, beside the traffic:
 * reloads in the background (one at a time: a reload due while one runs is skipped and
 * recorded), a kill of the oldest worker with SIGKILL, and the PostgreSQL restart, which
 * waits for a running reload (at most until 80 % of the run) so that the two are seen apart.
 */
export function startSoakEvents(opts: SoakEventsOptions): SoakEvents {
  const log: EventRecord[] = [];
  const windows: RestartWindow[] = [];
  const abort = new AbortController();
  const endMs = opts.schedule.minutes * 60_000;
  let reload: { n: number; process: Reload; startedAt: number; stoppedByUs?: boolean } | undefined;
  let reloads = 0;
  let failure: Error | undefined;
  const record = (kind: EventRecord['kind'], text: string, at = Date.now()): EventRecord => {
    const entry = { kind, at, text };
    log.push(entry);
    opts.say(`soak ${clock(at - opts.startedAt)}: ${text}`);
    return entry;
  };
  const reloadRunning = (): boolean => reload !== undefined && reload.process.running();

  function startReload(): void {
    if (reload !== undefined && reloadRunning()) {
      record('reload-skipped', `reload due, skipped: reload ${reload.n} still running`);
      return;
    }
    const n = ++reloads;
    const current: NonNullable<typeof reload> = { n, process: opts.startReload(n), startedAt: Date.now() };
    reload = current;
    record('reload', `reload ${n} started`);
    void current.process.exited.then(({ code, signal }) => {
      // The loader aborts on SIGTERM and exits 1: stop() records that, not as a failure.
      if (current.stoppedByUs) return;
      const took = clock(Date.now() - current.startedAt);
      if (code === 0) record('reload-end', `reload ${n} done in ${took}`);
      else record('reload-end', `reload ${n} FAILED after ${took} (${signal ?? `exit ${code}`}): ${current.process.lastLine()}`);
    });
  }

  async function killWorker(): Promise<void> {
    const victim = oldest(opts.service.workerPids());
    if (victim === undefined) {
      record('kill', 'worker kill due, skipped: no worker alive');
      return;
    }
    try {
      process.kill(victim, 'SIGKILL');
    } catch {
      record('kill', `worker kill due, skipped: worker ${victim} exited by itself`);
      return;
    }
    const entry = record('kill', `SIGKILL worker ${victim}`);
    const deadline = Date.now() + REPLACE_TIMEOUT_MS;
    for (;;) {
      const pids = opts.service.workerPids();
      if (pids.length >= opts.workers && !pids.includes(victim)) break;
      if (Date.now() > deadline) {
        entry.text += ` (not replaced within ${seconds(REPLACE_TIMEOUT_MS)})`;
        return;
      }
      await sleep(POLL_MS, undefined, { signal: abort.signal });
    }
    entry.text += ` (replaced after ${seconds(Date.now() - entry.at)})`;
  }

  async function restartDatabase(): Promise<void> {
    const waitUntil = opts.startedAt + RESTART_WAIT_UNTIL_SHARE * endMs;
    const waitedFrom = Date.now();
    while (reloadRunning() && Date.now() < waitUntil) await sleep(POLL_MS * 10, undefined, { signal: abort.signal });
    const waited = Date.now() - waitedFrom > POLL_MS ? ` (waited ${clock(Date.now() - waitedFrom)} for reload ${reload?.n} to end)` : '';
    const under = reloadRunning() ? ` under reload ${reload?.n}, which will fail` : '';
    const from = Date.now();
    const entry = record('restart', `PostgreSQL restart${waited}${under}`, from);
    await opts.restartDatabase();
    const upAt = Date.now();
    try {
      await waitForOk(`${opts.service.url}/readyz`, READY_TIMEOUT_MS, () => (abort.signal.aborted ? 'the soak ended' : undefined));
    } catch (err) {
      windows.push({ from, to: Date.now() });
      throw new Error(`the service was not ready again after the PostgreSQL restart: ${(err as Error).message}`);
    }
    const readyAt = Date.now();
    windows.push({ from, to: readyAt + opts.restartGraceMs });
    entry.text += `: stopped and started in ${seconds(upAt - from)}, /readyz 200 ${seconds(readyAt - upAt)} later`;
  }

  const run = (async () => {
    for (const event of opts.schedule.events) {
      try {
        const wait = opts.startedAt + event.atMs - Date.now();
        if (wait > 0) await sleep(wait, undefined, { signal: abort.signal });
        if (event.kind === 'reload') startReload();
        else if (event.kind === 'kill') await killWorker();
        else await restartDatabase();
      } catch (err) {
        if (abort.signal.aborted) return;
        failure = err instanceof Error ? err : new Error(String(err));
        record(event.kind, `events stopped: ${event.kind} failed: ${failure.message}`);
        return;
      }
    }
  })();

  return {
    log,
    windows,
    failure: () => failure,
    async stop() {
      abort.abort();
      await run;
      const current = reload;
      if (current !== undefined && current.process.running()) {
        current.stoppedByUs = true;
        await current.process.stop(RELOAD_STOP_GRACE_MS);
        record('reload-end', `reload ${current.n} stopped at the end of the run after ${clock(Date.now() - current.startedAt)} (SIGTERM: the live catalog stays as it was)`);
      }
    },
  };
}
