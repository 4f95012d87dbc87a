import fs from 'node:fs';
import path from 'node:path';
import { PAGE_STATEMENT } from '../../../src/catalog/documents';
import { median, summarise, type BenchContext, type Measured } from '../context';
import { runPgbench, type PgbenchRun } from '../pgbench';

// Listing runs use few connections: each request is a database read, what is compared is its latency.
const CONNECTIONS = 8;

/**
 * The service's page statement as a pgbench script: a page drawn uniformly from `from`…`to`,
 * its positions ((page − 1)·count, page·count] as the two parameters.
 */
function pageScript(from: number, to: number, count: number): string {
  const statement = PAGE_STATEMENT.replace(/\$([12])(?!\d)/g, (_, n: string) => (n === '1' ? ':lo' : ':hi')).replace(/\s*\n\s*/g, ' ');
  return `\\set page random(${from}, ${to})\n\\set lo (:page - 1) * ${count}\n\\set hi :page * ${count}\n${statement};\n`;
}

/**
 * The first 1000 listing pages against 1000 deep ones, both uncached, each beside
 * PostgreSQL's own rate for the same pages (the page statement from pgbench, as many
 * clients as the service has connections): four rows. The service's share of the
 * database's rate is the target, so a slower worker (last time: a heap too small for the
 * collector, 10× fewer pages) fails the run on any day's machine.
 */
export async function listingScenario(ctx: BenchContext): Promise<void> {
  const { opt, dir } = ctx;
  const count = ctx.file.traffic.listingCount;
  const lastPage = Math.max(1, Math.ceil(ctx.shape.size / count));
  // Page 200000 of the full catalog, or the last 1000 pages of a smaller one.
  const deepTo = Math.min(200_000, lastPage);
  const deepFrom = Math.max(1, deepTo - 999);
  const firstTo = Math.min(1000, lastPage);
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `/products?page=${from + i}&count=${count}`);
  const kinds = [
    { label: `pages 1-${firstTo}`, from: 1, to: firstTo, name: 'listing-first' },
    { label: `pages ${deepFrom}-${deepTo}`, from: deepFrom, to: deepTo, name: 'listing-deep' },
  ].map((kind) => {
    const paths = path.join(dir, `${kind.name}.paths`);
    const script = path.join(dir, `${kind.name}.pgbench`);
    fs.writeFileSync(paths, range(kind.from, kind.to).join('\n') + '\n');
    fs.writeFileSync(script, pageScript(kind.from, kind.to, count));
    return { ...kind, paths, script, service: [] as Measured[], database: [] as PgbenchRun[] };
  });
  // No document cache (1 KiB): every request reads the database, which is what is compared.
  const service = await ctx.startService('listing', { CACHE_MAX_BYTES: '1024' });
  for (let r = 0; r < opt.rounds; r++) {
    for (const kind of kinds) {
      kind.service.push(await ctx.measure(service.url, kind.paths, service.pids, { connections: CONNECTIONS }));
      kind.database.push(await runPgbench(ctx.databaseUrl, kind.script, CONNECTIONS, opt.duration));
    }
  }
  await service.stop();
  const targets = ctx.file.bench.targets;
  const least = targets.listingOfDatabase!;
  const [first, deep] = kinds as [(typeof kinds)[0], (typeof kinds)[0]];
  const latencyRatio = median(deep.service.map((d) => d.p50Ms)) / median(first.service.map((f) => f.p50Ms));
  for (const kind of kinds) {
    const rps = median(kind.service.map((m) => m.rps));
    const databaseRps = median(kind.database.map((d) => d.tps));
    const ofDatabase = rps / databaseRps;
    const checks: Array<[string, boolean]> = [[`≥ ${least} of the database's rate`, ofDatabase >= least]];
    if (kind === deep) checks.push([`p50 ≤ ${targets.deepListingLatencyRatio}× pages 1-${firstTo}`, latencyRatio <= targets.deepListingLatencyRatio!]);
    ctx.rows.push({
      // pgbench reports a mean latency, no percentiles: it goes in the name, the columns stay empty.
      scenario: `listing: pgbench, ${kind.label}, the service's statement, ${CONNECTIONS} clients (mean ${median(kind.database.map((d) => d.latencyMs)).toFixed(2)} ms)`,
      rps: databaseRps,
      p50Ms: NaN,
      p95Ms: NaN,
      p99Ms: NaN,
      errors: kind.database.reduce((s, d) => s + d.failed, 0),
      non2xx: 0,
      requests: kind.database.reduce((s, d) => s + d.transactions, 0),
      serverCores: median(kind.database.map((d) => d.cores)),
      generatorCores: NaN,
    });
    ctx.rows.push(
      summarise(`listing: ${kind.label}, uncached`, kind.service, {
        ofDatabase,
        ...(kind === deep && { latencyRatio }),
        target: checks.map(([label]) => label).join('; '),
        pass: checks.every(([, met]) => met),
      }),
    );
  }
}
