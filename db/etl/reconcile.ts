import { formatCount } from './format';

/** What happened to the records of one file. */
export interface FileCounts {
  file: string;
  /** Data records parsed (the header excluded; a multi-line record counts once). */
  read: number;
  loaded: number;
  rejected: number;
  /** Rows the format says to ignore (related rows naming product 0). */
  dropped: number;
}

export const emptyCounts = (file: string): FileCounts => ({ file, read: 0, loaded: 0, rejected: 0, dropped: 0 });

/**
 * The per-file reconciliation table: read = loaded + rejected + dropped holds by construction
 * of the counts; what is checked is that PostgreSQL stored `loaded` rows (load-file.ts fails
 * the load otherwise, before the swap).
 */
export function formatReconciliation(counts: readonly FileCounts[]): string {
  const total = counts.reduce(
    (t, c) => ({
      file: 'total',
      read: t.read + c.read,
      loaded: t.loaded + c.loaded,
      rejected: t.rejected + c.rejected,
      dropped: t.dropped + c.dropped,
    }),
    emptyCounts('total'),
  );
  const rows = [...counts, total].map((c) => [
    c.file,
    formatCount(c.read),
    formatCount(c.loaded),
    formatCount(c.rejected),
    formatCount(c.dropped),
  ]);
  const head = ['file', 'read', 'loaded', 'rejected', 'dropped'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}
