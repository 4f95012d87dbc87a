import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { childEnv, type Config } from '../src/config';
import { startService, type ServiceProcess } from '../src/fleet/service-process';
import { openDatabase } from '../src/postgres/open-database';
import { withDatabase } from '../src/postgres/urls';
import { copyDatabase, type ScratchCopy } from './scratch-copy';
import { applyChanges, type ChangeResult } from './etl/apply-changes';
import { priceServed, productsSpread as pickProducts, writeChangeSet } from './change-set-files';
import { formatCount } from './etl/format';
import { prewarmDocuments } from './prewarm';

/** Polls until `times` consecutive fresh requests (every worker in turn) for each product answer `price`; ms taken. */
async function untilServed(service: ServiceProcess, ids: readonly number[], price: string, times: number): Promise<number> {
  const started = Date.now();
  for (const id of ids) {
    let streak = 0;
    while (streak < times) {
      streak = (await priceServed(service.url, id)) === price ? streak + 1 : 0;
      if (Date.now() - started > 60_000) throw new Error(`product ${id} not served at ${price} after 60 s`);
    }
  }
  return Date.now() - started;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * `npm run bench:etl -- --changes N`: on a copy of the live catalog's database (CREATE
 * DATABASE … TEMPLATE, so the live one is untouched), with the service running on it (2
 * workers): applies a change set of N products (new price, new sku quantities) and measures
 * command time and the time until a sample of them is served new by every worker; then five
 * one-product change sets, each product cached by every worker first, measuring the time from
 * the command's return to every worker serving it. First the live catalog's documents are
 * prewarmed into the buffer pool (db/prewarm.ts), unless `prewarm` is false: on a freshly
 * started server the apply's page reads fault the pool's shared memory in, which took 5–7 s
 * of a 12–14 s run here (`perf`: `shmem_fault` under `pread`), a start-up cost and not the
 * change set's.
 */
export async function benchChanges(config: Config, count: number, prewarm = true): Promise<void> {
  const server = await openDatabase(config, 'postgres');
  const scratch = `atelier_bench_changes_${process.pid}`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-bench-changes-'));
  let copy: ScratchCopy | undefined;
  let service: ServiceProcess | undefined;
  try {
    if (prewarm) {
      const live = new pg.Client({ connectionString: withDatabase(server.url, 'atelier') });
      await live.connect();
      try {
        process.stderr.write(`bench: ${await prewarmDocuments(live)}\n`);
      } finally {
        await live.end();
      }
    } else process.stderr.write('bench: not prewarmed (--no-prewarm): a freshly started server faults its buffer pool in during the run\n');
    process.stderr.write(`bench: copying database atelier to ${scratch} (needs no other session on atelier)\n`);
    copy = await copyDatabase(withDatabase(server.url, 'atelier'), scratch);
    const { url } = copy;
    process.stderr.write(`bench: copied in ${(copy.copyMs / 1000).toFixed(1)} s\n`);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM catalog.product');
    service = await startService({
      env: { ...childEnv({}), DATABASE_URL: url, WORKERS: '2', LOG_LEVEL: 'warn' },
      probePath: '/readyz',
      readyTimeoutMs: 60_000,
      stopGraceMs: 10_000,
    });

    const products = await pickProducts(client, count, 1);
    const sample = products.filter((_, i) => i % Math.max(1, Math.floor(products.length / 100)) === 0).map((p) => p.id);
    // Cached by both workers before the change: what is served new was dropped, not missed.
    for (const id of sample) for (let i = 0; i < 2; i++) await priceServed(service.url, id);
    writeChangeSet(path.join(work, 'big'), products, 123_45);
    const started = Date.now();
    const big: ChangeResult = await applyChanges({ url, dir: path.join(work, 'big'), rejectsPath: path.join(work, 'rejects-big.csv'), log: (line) => process.stderr.write(`${line}\n`) });
    const returned = Date.now();
    const servedMs = await untilServed(service, sample, '123.45', 2);
    const totalMs = Date.now() - started;
    const skus = products.reduce((n, p) => n + p.skus.length, 0);

    const single: number[] = [];
    for (let round = 0; round < 5; round++) {
      const [one] = await pickProducts(client, 1, 2 + round);
      for (let i = 0; i < 4; i++) await priceServed(service.url, one!.id);
      writeChangeSet(path.join(work, `one-${round}`), [one!], 10_00 + round);
      await applyChanges({ url, dir: path.join(work, `one-${round}`), rejectsPath: path.join(work, `rejects-one-${round}.csv`) });
      // Four fresh connections in a row answering new: both workers, twice each.
      single.push(await untilServed(service, [one!.id], ((10_00 + round) / 100).toFixed(2), 4));
      await sleep(200);
    }
    await client.end();
    const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
    process.stdout.write(
      [
        `catalog: ${formatCount(rows[0]!.n)} products; service: 2 workers; ${os.availableParallelism()} cores`,
        `${formatCount(products.length)} products changed (prices, ${formatCount(skus)} sku quantities): ${formatCount(big.products)} products' documents rebuilt, ${formatCount(big.documents)} documents changed`,
        `  stage (parse, validate, live ids) ${s(big.timings.stageMs)}, apply (one transaction) ${s(big.timings.applyMs)}, command ${s(returned - started)}`,
        `  served new by every worker (${sample.length} sampled products, 2 fresh requests each) ${s(servedMs)} after the command returned`,
        `  applied and served: ${s(totalMs)} (target <= 10 s: ${totalMs <= 10_000 ? 'met' : 'MISSED'})`,
        `one product's change, command return -> every worker serving it (5 runs): median ${median(single)} ms, max ${Math.max(...single)} ms (target <= 1000 ms: ${Math.max(...single) <= 1000 ? 'met' : 'MISSED'})`,
      ].join('\n') + '\n',
    );
  } finally {
    await service?.stop(10_000);
    await copy?.drop().catch(() => undefined);
    await server.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}
