import type { SoakDefaults } from './context';

/** What the soak does to the service while it drives traffic. */
export type SoakEventKind = 'reload' | 'kill' | 'restart';
/** Every kind, in the order --soak-events lists them. */
export const SOAK_EVENTS: readonly SoakEventKind[] = ['reload', 'kill', 'restart'];

/** One event of the plan, in ms after the start of the measured run. */
export interface PlannedEvent {
  kind: SoakEventKind;
  atMs: number;
}

export interface SoakSchedule {
  minutes: number;
  /** 1 for runs long enough for the natural periods; below, the factor every time was multiplied by. */
  scale: number;
  /** Between two reloads, in ms. */
  reloadEveryMs: number;
  /** Between two worker kills, in ms. */
  killEveryMs: number;
  /** In time order; at equal times a kill, then the restart, then a reload. */
  events: PlannedEvent[];
}

const MINUTE_MS = 60_000;
const ORDER: Record<SoakEventKind, number> = { kill: 0, restart: 1, reload: 2 };

/**
 * The events of an N-minute soak: a reload every `reloadEveryMinutes`, a worker kill every
 * `killEveryMinutes`, each strictly before the end, and one PostgreSQL restart at
 * `restartAtShare` of the run. A run must hold at least one of each, and the first kill at 7
 * minutes needs 8 (a kill in the last instant would show nothing): shorter runs multiply the
 * periods by minutes / (longest period + 1), so a 3-minute run reloads at 1.9 min and kills
 * at 2.6 min. The restart is always at its share of the run. Only the `kinds` asked for are
 * planned (--soak-events): the others' times stay as they would be, so a soak without kills
 * reloads when the full one does.
 */
export function soakSchedule(
  minutes: number,
  s: Pick<SoakDefaults, 'reloadEveryMinutes' | 'killEveryMinutes' | 'restartAtShare'>,
  kinds: readonly SoakEventKind[] = SOAK_EVENTS,
): SoakSchedule {
  const naturalMinutes = Math.max(s.reloadEveryMinutes, s.killEveryMinutes) + 1;
  const scale = Math.min(1, minutes / naturalMinutes);
  const endMs = minutes * MINUTE_MS;
  const reloadEveryMs = Math.round(s.reloadEveryMinutes * MINUTE_MS * scale);
  const killEveryMs = Math.round(s.killEveryMinutes * MINUTE_MS * scale);
  const every = (kind: SoakEventKind, periodMs: number): PlannedEvent[] => {
    const out: PlannedEvent[] = [];
    for (let at = periodMs; at < endMs; at += periodMs) out.push({ kind, atMs: at });
    return out;
  };
  const events = [
    ...every('reload', reloadEveryMs),
    ...every('kill', killEveryMs),
    { kind: 'restart' as const, atMs: Math.round(s.restartAtShare * endMs) },
  ]
    .filter((e) => kinds.includes(e.kind))
    .sort((a, b) => a.atMs - b.atMs || ORDER[a.kind] - ORDER[b.kind]);
  return { minutes, scale, reloadEveryMs, killEveryMs, events };
}

/** ms as m:ss. */
export const clock = (ms: number): string => {
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
};

/** The schedule in one line for the operator, times as m:ss after the start. */
export function describeSchedule(schedule: SoakSchedule): string {
  if (schedule.events.length === 0) return 'no events (--soak-events none): traffic alone';
  const times = (kind: SoakEventKind, what: string): string => {
    const at = schedule.events.filter((e) => e.kind === kind).map((e) => clock(e.atMs));
    return at.length > 0 ? `${what} at ${at.join(', ')}` : `no ${what} (--soak-events)`;
  };
  const periods = `reload every ${clock(schedule.reloadEveryMs)}, kill every ${clock(schedule.killEveryMs)}`;
  const scaled = schedule.scale < 1 ? ` (periods compressed ×${schedule.scale.toFixed(3)} for a ${schedule.minutes}-minute run)` : '';
  return `${periods}${scaled}: ${times('reload', 'reloads')}; ${times('kill', 'worker kills')}; ${times('restart', 'PostgreSQL restart')}`;
}
