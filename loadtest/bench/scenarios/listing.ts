import fs from 'node:fs';
import path from 'node:path';
import { median, summarise, type BenchContext, type Measured } from '../context';

// Listing runs use few connections: each request is a database read, what is compared is its latency.
const CONNECTIONS = 8;

/** The first 1000 listing pages against 1000 deep ones, both uncached: two rows. */
export async function listingScenario(ctx: BenchContext): Promise<void> {
  const { opt, dir } = ctx;
  const count = ctx.file.traffic.listingCount;
  const lastPage = Math.max(1, Math.ceil(ctx.shape.size / count));
  // Page 200000 of the full catalog, or the last 1000 pages of a smaller one.
  const deepTo = Math.min(200_000, lastPage);
  const deepFrom = Math.max(1, deepTo - 999);
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `/products?page=${from + i}&count=${count}`);
  const shallowFile = path.join(dir, 'listing-first.paths');
  const deepFile = path.join(dir, 'listing-deep.paths');
  fs.writeFileSync(shallowFile, range(1, Math.min(1000, lastPage)).join('\n') + '\n');
  fs.writeFileSync(deepFile, range(deepFrom, deepTo).join('\n') + '\n');
  // No document cache (1 KiB): every request reads the database, which is what is compared.
  const service = await ctx.startService('listing', { CACHE_MAX_BYTES: '1024' });
  const first: Measured[] = [];
  const deep: Measured[] = [];
  for (let r = 0; r < opt.rounds; r++) {
    first.push(await ctx.measure(service.url, shallowFile, service.pids, { connections: CONNECTIONS }));
    deep.push(await ctx.measure(service.url, deepFile, service.pids, { connections: CONNECTIONS }));
  }
  await service.stop();
  const maxRatio = ctx.file.bench.targets.deepListingLatencyRatio!;
  const latencyRatio = median(deep.map((d) => d.p50Ms)) / median(first.map((f) => f.p50Ms));
  ctx.rows.push(summarise('listing: pages 1-1000, uncached', first));
  ctx.rows.push(
    summarise(`listing: pages ${deepFrom}-${deepTo}, uncached`, deep, {
      latencyRatio,
      target: `p50 ≤ ${maxRatio}× pages 1-1000`,
      pass: latencyRatio <= maxRatio,
    }),
  );
}
