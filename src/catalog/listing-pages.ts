import { mergeListChanges, type ListChange } from '../postgres/catalog-notice';

/**
 * Listing pages in the cache. `/products?page&count` is cached under `l<page>:<count>` and
 * holds positions (page − 1)·count + 1 … page·count of the id order; a change set names the
 * positions whose entries it changed (catalog-notice.ts), and a worker drops only the
 * cached pages holding one of them: a repriced product empties one page of each size, not
 * every page a worker holds (with a change set a second, the popular first pages were read
 * again every second).
 */
export const pageKey = (page: number, count: number): string => `l${page}:${count}`;

/** Page and count of a page key. */
export function pageOfKey(key: string): { page: number; count: number } {
  const colon = key.indexOf(':');
  return { page: Number(key.slice(1, colon)), count: Number(key.slice(colon + 1)) };
}

/** Whether the page cached under `key` holds one of the changed positions. */
export function stalePages(changes: readonly ListChange[]): (key: string) => boolean {
  // Disjoint and sorted, so one binary search answers each page.
  const ranges = mergeListChanges(changes);
  return (key) => {
    const { page, count } = pageOfKey(key);
    const first = (page - 1) * count + 1;
    const last = page * count;
    // The first range ending at or after the page's first position: stale when it starts by its last.
    let lo = 0;
    let hi = ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ranges[mid]!.to < first) lo = mid + 1;
      else hi = mid;
    }
    const range = ranges[lo];
    return range !== undefined && range.from <= last;
  };
}
