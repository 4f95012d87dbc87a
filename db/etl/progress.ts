import { formatBytes, formatCount, formatDuration } from './format';

/**
 * Load progress on stderr: a redrawn bar on a terminal, a plain line every few seconds
 * otherwise (logs, CI). Rates are averages since the load started: steadier than a window.
 */
export interface Progress {
  /** Counts bytes read and records parsed. */
  advance(bytes: number, rows: number): void;
  /** What is being worked on (file names, phase). */
  setLabel(label: string): void;
  /** Starts a phase without byte progress (indexes, views, swap); its elapsed time is shown. */
  phase(name: string): void;
  /** Prints a line of its own, above the bar. */
  log(line: string): void;
  stop(): void;
}

export interface ProgressOptions {
  out: { write(s: string): unknown };
  tty: boolean;
  totalBytes: number;
  /** Columns of the terminal (bar width follows). */
  columns?: number;
  /** Plain-line period, in ms. */
  intervalMs?: number;
  now?: () => number;
}

export function createProgress(opts: ProgressOptions): Progress {
  const now = opts.now ?? Date.now;
  const started = now();
  let bytes = 0;
  let rows = 0;
  let label = '';
  let phaseName: string | undefined;
  let phaseStarted = 0;
  let lastDraw = 0;
  let drawn = false;
  const interval = opts.intervalMs ?? (opts.tty ? 250 : 5000);

  const status = (): string => {
    if (phaseName !== undefined) return `${phaseName}: ${formatDuration(now() - phaseStarted)} elapsed`;
    const secs = Math.max((now() - started) / 1000, 0.001);
    const fraction = opts.totalBytes > 0 ? Math.min(bytes / opts.totalBytes, 1) : 1;
    const byteRate = bytes / secs;
    const eta = byteRate > 0 ? ((opts.totalBytes - bytes) / byteRate) * 1000 : NaN;
    const parts = [
      `${(fraction * 100).toFixed(1)}%`,
      `${formatBytes(bytes)}/${formatBytes(opts.totalBytes)}`,
      `${formatCount(rows)} rows`,
      `${formatCount(rows / secs)} rows/s`,
      `ETA ${Number.isFinite(eta) ? formatDuration(eta) : '?'}`,
    ];
    if (!opts.tty) return `load ${parts.join(', ')}${label ? ` (${label})` : ''}`;
    const width = Math.max(10, Math.min(40, (opts.columns ?? 80) - 80));
    const filled = Math.round(fraction * width);
    return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${parts.join('  ')}${label ? `  ${label}` : ''}`;
  };

  const draw = (force: boolean): void => {
    const t = now();
    if (!force && t - lastDraw < interval) return;
    lastDraw = t;
    if (opts.tty) {
      opts.out.write(`\r\x1b[K${status()}`);
      drawn = true;
    } else {
      opts.out.write(`${status()}\n`);
    }
  };

  const timer = setInterval(() => draw(false), interval);
  timer.unref();
  // Plain mode: the first line comes after one period, not at once.
  lastDraw = opts.tty ? 0 : started;

  const clearBar = (): void => {
    if (opts.tty && drawn) opts.out.write('\r\x1b[K');
    drawn = false;
  };

  return {
    advance(b, r) {
      bytes += b;
      rows += r;
      draw(false);
    },
    setLabel(l) {
      label = l;
    },
    phase(name) {
      phaseName = name;
      phaseStarted = now();
      lastDraw = opts.tty ? 0 : phaseStarted;
      draw(opts.tty);
    },
    log(line) {
      clearBar();
      opts.out.write(`${line}\n`);
      if (opts.tty) draw(true);
    },
    stop() {
      clearInterval(timer);
      clearBar();
    },
  };
}
