import fs from 'node:fs';
import path from 'node:path';
import { DOCUMENTS_STATEMENT } from '../../../src/catalog/documents';
import { median, type BenchContext } from '../context';
import { runPgbench, type PgbenchRun } from '../pgbench';

/** Name of the database baseline's row, for the cold styles row to compare against. */
export const DATABASE_BASELINE = 'database: pgbench';

// Documents per statement: about what a worker's batches hold under cold load (~10).
const BATCH = 8;

/**
 * The service's own batch statement, styles ids only, as a pgbench script: `BATCH` ids drawn
 * uniformly from 1…maxId (the catalog's few gaps are counted out below).
 */
function script(maxId: number): string {
  const names = Array.from({ length: BATCH }, (_, i) => `id${i}`);
  const sets = names.map((n) => `\\set ${n} random(1, ${maxId})`);
  // Each kind's parameter occurs twice (the view's rows and the change-set overlay's): every occurrence.
  const statement = DOCUMENTS_STATEMENT.replaceAll('$1::int[]', "'{}'::int[]")
    .replaceAll('$2::int[]', `ARRAY[${names.map((n) => `:${n}`).join(', ')}]::int[]`)
    .replaceAll('$3::int[]', "'{}'::int[]")
    .replace(/\s*\n\s*/g, ' ');
  return `${sets.join('\n')}\n${statement};\n`;
}

/**
 * What PostgreSQL alone hands out for the cold styles reads: the service's batch statement
 * from pgbench (C, one thread: a client as cheap as wrk), as many clients as the service's
 * workers have document statements in flight. One row, in documents/s.
 */
export async function databaseScenario(ctx: BenchContext): Promise<void> {
  const { opt, dir, shape } = ctx;
  const scriptFile = path.join(dir, 'styles-batch.pgbench');
  fs.writeFileSync(scriptFile, script(shape.maxId));
  const clients = ctx.workers * ctx.documentReads;
  // Ids that exist, of those drawn: the catalog's ids have gaps.
  const existing = shape.size / shape.maxId;
  const runs: PgbenchRun[] = [];
  for (let r = 0; r < opt.rounds; r++) runs.push(await runPgbench(ctx.databaseUrl, scriptFile, clients, opt.duration));
  const latency = median(runs.map((r) => r.latencyMs));
  ctx.rows.push({
    // pgbench reports a mean latency, no percentiles: it goes in the name, the columns stay empty.
    scenario: `${DATABASE_BASELINE}, the service's statement, ${BATCH} random styles ids each, ${clients} clients (documents/s; mean ${latency.toFixed(2)} ms a statement)`,
    rps: median(runs.map((r) => r.tps)) * BATCH * existing,
    p50Ms: NaN,
    p95Ms: NaN,
    p99Ms: NaN,
    errors: runs.reduce((s, r) => s + r.failed, 0),
    non2xx: 0,
    requests: runs.reduce((s, r) => s + r.transactions, 0) * BATCH,
    serverCores: median(runs.map((r) => r.cores)),
    generatorCores: NaN,
  });
}

