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
// 24, not 40 (2026-12-06, `npm run bench -- --scenarios memory`, two runs each): peak worker
// RSS 218–222 MiB against 234–235, the same cold rate; the collector's major pauses over a
// 40 s cold run of both workers 0.91 s against 0.54 s (0.5 % of their CPU more).
const BASE_HEAP_MIB = 24;
// The collector's room beside the documents (MiB) is a quarter of the budget, but never less
// than this: with a tiny budget (the bench's listing and overload services run with 1 KiB) a
// quarter is nothing, and a 25 MiB heap left workers collecting all the time: listing pages
// 409-450 req/s at 1.8 cores against 4,551-4,897 with a 41 MiB heap (2026-12-07, `npm run
// bench -- --scenarios listing,overload`, one run each). At 64 MiB and above it changes nothing.
const MIN_GARBAGE_ROOM_MIB = 16;
// The young generation (MiB per semi-space). With V8's default (16) cold-run workers were
// 40–60 MiB larger than with 2; 2 made 3.6× the scavenges of 8 (about 1–2 ms each here).
const SEMI_SPACE_MIB = 8;

/** Bytes the document cache may fill. */
export function documentBytes(cacheMaxBytes: number): number {
  return Math.floor(cacheMaxBytes * DOCUMENT_SHARE);
}

/**
 * V8 flags for a worker with this cache budget: its heap limit follows the budget (documents,
 * the collector's room, at least MIN_GARBAGE_ROOM_MIB, and BASE_HEAP_MIB).
 */
export function workerHeapFlags(cacheMaxBytes: number): string[] {
  const room = Math.max(cacheMaxBytes - documentBytes(cacheMaxBytes), MIN_GARBAGE_ROOM_MIB * MiB);
  const oldSpaceMib = Math.ceil((documentBytes(cacheMaxBytes) + room) / MiB) + BASE_HEAP_MIB;
  return [`--max-semi-space-size=${SEMI_SPACE_MIB}`, `--max-old-space-size=${oldSpaceMib}`];
}
