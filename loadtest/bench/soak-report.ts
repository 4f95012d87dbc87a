import type { EventRecord, RestartWindow } from './soak-events';
import type { MinuteRow } from './soak-minutes';
import type { PlannedEvent } from './soak-schedule';
import type { TargetResult } from './soak-targets';

/** Everything the soak measured, as the report row carries it (and --json writes it). */
export interface SoakReport {
  minutes: number;
  /** The closed-model run's rate before the soak, in requests/s. */
  capacityRps: number;
  /** The rate the generator was paced to, in requests/s. */
  targetRps: number;
  connections: number;
  schedule: { text: string; events: PlannedEvent[] };
  /** Epoch ms of the start of minute 1. */
  startedAt: number;
  events: EventRecord[];
  restartWindows: RestartWindow[];
  perMinute: MinuteRow[];
  /** Longest pause between two minutes' wrk processes, in ms. */
  longestGapMs: number;
  targets: TargetResult[];
}

const f = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');

/** The per-minute table and the targets block, in Markdown, after the bench's table. */
export function formatSoak(name: string, soak: SoakReport): string[] {
  const rates = soak.perMinute.map((r) => r.rps);
  const held = rates.length > 0 ? `; per minute ${f(Math.min(...rates))}–${f(Math.max(...rates))} req/s` : '';
  const lines = [
    '',
    `${name}: ${soak.minutes} min paced to ${f(soak.targetRps)} req/s (${f(soak.capacityRps)} measured closed-model before)${held}; ${soak.connections} connections, one wrk run per minute (longest pause between two runs' responses ${f(soak.longestGapMs)} ms)`,
    `schedule: ${soak.schedule.text}`,
    `restart window: ${soak.restartWindows.length === 0 ? 'none (no restart happened)' : soak.restartWindows.map((w) => `${f((w.from - soak.startedAt) / 1000, 1)}–${f((w.to - soak.startedAt) / 1000, 1)} s`).join(', ')} after the start (stop until /readyz 200, plus the grace)`,
    '',
    '| min | req/s | p50 ms | p99 ms | max ms | service p99 ms | 2xx | 503 in window | 503 outside | other non-2xx | socket errors | worker RSS MiB | heap MiB (all workers) | fds | PG sessions service / all | events |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|---|',
  ];
  for (const r of soak.perMinute) {
    const rss = r.workerRssMb.length > 0 ? r.workerRssMb.map((x) => f(x)).join(' / ') : '-';
    lines.push(
      `| ${r.minute} | ${f(r.rps)} | ${f(r.p50Ms, 2)} | ${f(r.p99Ms, 2)} | ${f(r.maxMs)} | ${Number.isFinite(r.serviceP99Ms) ? `≤ ${r.serviceP99Ms}` : '-'} | ${r.ok} | ${r.unavailableInWindow} | ${r.unavailableOutside} | ${r.otherNon2xx} | ${r.socketErrors} | ${rss} | ${f(r.heapUsedMb)} | ${f(r.fds)} | ${f(r.pgService)} / ${f(r.pgAll)} | ${r.events.join('; ')} |`,
    );
  }
  // The script's per-second tally and wrk's own count of statuses above 399 must agree.
  const disagree = soak.perMinute.filter((r) => Object.entries(r.statuses).reduce((n, [code, k]) => n + (Number(code) > 399 ? k : 0), 0) !== r.wrkNon2xx);
  lines.push(
    '',
    'Gauges (RSS, heap, fds, sessions) are sampled 5 s before the end of each minute; 503s are placed by the second they arrived in.',
    "p99 and max are wrk's, through nginx, from each request's send; service p99 is the service's own histogram (from parsing a request to answering it) between the samples, as the bound of its bucket ('-' where a worker was replaced).",
    ...(disagree.length > 0 ? [`WARNING: the per-second tally and wrk's own error count differ in minute ${disagree.map((r) => r.minute).join(', ')}`] : []),
    '',
    'soak targets:',
    ...soak.targets.map((t) => `- ${t.name}: ${t.verdict}${t.detail ? ` (${t.detail})` : ''}`),
  );
  return lines;
}
