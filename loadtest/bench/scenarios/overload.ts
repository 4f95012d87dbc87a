import path from 'node:path';
import { createRandom } from '../../../db/generate/prng';
import { uniformPageViews } from '../../lib/traffic';
import { summarise, writePaths, type BenchContext, type Measured } from '../context';

// Database connections and queued reads per worker: small, so the bound is reached.
const POOL_MAX = 2;
const QUEUE_MAX = 6;

/**
 * Every request reads the database (no cache) through a small pool and queue, so the
 * database-read bound is reached: once at a load it can carry, once with twice as many
 * connections as the bound can hold, once back at the first load. Three rows.
 */
export async function overloadScenario(ctx: BenchContext): Promise<void> {
  const bound = ctx.workers * (POOL_MAX + QUEUE_MAX);
  const service = await ctx.startService('overload', {
    CACHE_MAX_BYTES: '1024',
    PG_POOL_MAX: String(POOL_MAX),
    PG_DOCUMENT_READS: String(Math.min(POOL_MAX, ctx.documentReads)),
    PG_QUEUE_MAX: String(QUEUE_MAX),
  });
  const overloadFile = path.join(ctx.dir, 'overload.paths');
  writePaths(overloadFile, uniformPageViews(ctx.shape, createRandom(7).next), ctx.opt.paths);
  const carried = Math.max(1, Math.floor(bound / 2));
  const phases: Array<[string, number]> = [
    [`overload: before, ${carried} connections`, carried],
    [`overload: ${2 * bound} connections (2× the ${bound} reads in flight it holds)`, 2 * bound],
    [`overload: after, ${carried} connections`, carried],
  ];
  const results: Measured[] = [];
  for (const [name, connections] of phases) {
    const m = await ctx.measure(service.url, overloadFile, service.pids, { connections, countStatuses: true });
    results.push(m);
    const others = Object.keys(m.statuses ?? {}).filter((code) => code !== '200' && code !== '503');
    ctx.rows.push(summarise(name, [m], { statuses: m.statuses, pass: others.length === 0 }));
  }
  await service.stop();
  const [before, over, after] = results as [Measured, Measured, Measured];
  const last = ctx.rows[ctx.rows.length - 1]!;
  last.ratio = after.rps / before.rps;
  last.target = 'only 200/503, some 503 (the bound is reached); after ≥ 0.8× before';
  last.pass = last.pass! && after.rps >= 0.8 * before.rps && (over.statuses?.['503'] ?? 0) > 0;
}
