/**
 * Human-readable numbers for the data tools' output (ETL, generator, refresh, bench):
 * durations, byte sizes and counts, each in one wording everywhere.
 */

/** `ms` (milliseconds) as 42s, 3m07s or 1h02m: whole seconds, the two largest units. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** `n` bytes in decimal units (kB, MB, GB), as file sizes are usually quoted. */
export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e3).toFixed(0)} kB`;
}

/** `n` rounded to a whole number with thousands separators: 1,000,011. */
export const formatCount = (n: number): string => Math.round(n).toLocaleString('en-US');
