/**
 * How a worker spends its cache budget (CACHE_MAX_BYTES).
 *
 * Cached bodies are strings in the V8 heap (src/catalog/cache.ts), so the heap limit given to
 * the worker process bounds them and everything else the worker holds, and the garbage they
 * leave when evicted is freed by the same collector that is bounded. A quarter of the budget
 * is that garbage's room. Measured with cold traffic until the cache turned over (2 workers,
 * 128 MiB): no limit, RSS 540 MiB; documents filling the budget under a limit of budget
 * + 48 MiB, RSS 219–234 MiB (over budget + 100); at 3/4 under budget + 40 MiB, ≤ 225 MiB at
 * first, 234–236 MiB in later runs (over again). Of such a worker's RSS, about 41 MiB is the
 * node binary's mapped pages and 25 MiB native allocations (malloc arenas of the thread pool's
 * compressions, the C heap): the V8 heap must stay near budget + 30 MiB.
 */

const MiB = 2 ** 20;
/** Share of the budget the cached documents may fill; the rest is collector headroom. */
export const DOCUMENT_SHARE = 0.75;
// The heap a worker needs beside its cache (MiB): code, pools, router, metrics, reads in
// flight (a batch is ≤ 64 documents, a listing page ≤ 1000 products). An idle worker uses
// about 10 MB (nodejs_heap_size_used_bytes); the rest is margin and collector room.
// 40, not 24 (tried 2026-12-06, undone 2026-12-07): 24 kept the memory scenario's peak RSS
// under budget + 100 MiB (216–221 MiB against 224–236 at 128 MiB) but cost what the bound is
// not worth: cold styles with Accept-Encoding 9,517 / 8,270 req/s (0.87 / 0.81× identity)
// against 11,511 / 10,706 (1.05 / 0.92×), two interleaved pairs of `npm run bench --
// --scenarios cold-styles,memory` on one build; and a 1 KiB budget got a 25 MiB heap, in
// which listing pages fell from 4,551 / 4,897 to 450 / 478 req/s (`--scenarios listing,overload`).
const BASE_HEAP_MIB = 40;
// The young generation (MiB per semi-space). With V8's default (16) cold-run workers were
// 40–60 MiB larger than with 2; 2 made 3.6× the scavenges of 8 (about 1–2 ms each here).
const SEMI_SPACE_MIB = 8;

/** Bytes the document cache may fill. */
export function documentBytes(cacheMaxBytes: number): number {
  return Math.floor(cacheMaxBytes * DOCUMENT_SHARE);
}

/** V8 flags for a worker with this cache budget: its heap limit follows the budget. */
export function workerHeapFlags(cacheMaxBytes: number): string[] {
  const oldSpaceMib = Math.ceil(cacheMaxBytes / MiB) + BASE_HEAP_MIB;
  return [`--max-semi-space-size=${SEMI_SPACE_MIB}`, `--max-old-space-size=${oldSpaceMib}`];
}
