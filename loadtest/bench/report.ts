/** One line of the bench table: medians over rounds, sums for counts. */
export interface Row {
  scenario: string;
  rps: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Socket errors and timeouts. */
  errors: number;
  /** Responses with status >= 400 (the bench mixes only name existing products). */
  non2xx: number;
  requests: number;
  /** CPU of the service's processes (or nginx: not measured), in cores. */
  serverCores: number;
  /** CPU of wrk, in cores; its thread count bounds it. */
  generatorCores: number;
  ratio?: number;
  /** Requests/s over the database baseline's documents/s (cold styles: one document a request). */
  ofDatabase?: number;
  latencyRatio?: number;
  workerRssMb?: number;
  /** RSS bound of this row's workers (cache budget + 100 MiB) when not the default one. */
  rssLimitMb?: number;
  target?: string;
  pass?: boolean;
  /** Responses per status code (overload scenario). */
  statuses?: Record<string, number>;
}

export interface ReportContext {
  machine: string;
  catalog: number;
  workers: number;
  cacheMb: number;
  rssLimitMb: number;
  runs: string;
}

// Not measured (pgbench gives no percentiles, nginx's CPU is not sampled): an empty cell.
const f = (n: number, digits = 2): string => (Number.isNaN(n) ? '-' : n.toFixed(digits));

/** The table as Markdown, ready for the README. */
export function formatReport(rows: Row[], ctx: ReportContext): string {
  const lines = [
    `machine: ${ctx.machine}; catalog: ${ctx.catalog} products; ${ctx.workers} workers, cache ${f(ctx.cacheMb, 0)} MiB each; ${ctx.runs}`,
    '',
    '| scenario | req/s | vs baseline | of database | p50 ms | p95 ms | p99 ms | errors | non-2xx | requests | service cores | wrk cores | worker RSS MiB | target | met |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const r of rows) {
    const vs = r.ratio !== undefined ? `${f(r.ratio)}×` : r.latencyRatio !== undefined ? `p50 ${f(r.latencyRatio)}×` : '';
    const rssLimit = r.rssLimitMb ?? ctx.rssLimitMb;
    const rss = r.workerRssMb !== undefined ? `${f(r.workerRssMb, 0)} (≤ ${f(rssLimit, 0)})` : '';
    // No socket errors anywhere; overload rows expect 503s (statuses tally them), others none.
    const cleanEnough = r.errors === 0 && (r.statuses !== undefined || r.non2xx === 0);
    const met = r.pass === undefined ? '' : r.pass && cleanEnough && (r.workerRssMb ?? 0) <= rssLimit ? 'yes' : 'NO';
    lines.push(
      `| ${r.scenario} | ${f(r.rps, 0)} | ${vs} | ${r.ofDatabase !== undefined ? f(r.ofDatabase) : ''} | ${f(r.p50Ms)} | ${f(r.p95Ms)} | ${f(r.p99Ms)} | ${r.errors} | ${r.non2xx} | ${r.requests} | ${r.serverCores ? f(r.serverCores) : '-'} | ${f(r.generatorCores)} | ${rss} | ${r.target ?? ''} | ${met} |`,
    );
  }
  const tallied = rows.filter((r) => r.statuses);
  if (tallied.length > 0) {
    lines.push('', 'statuses:');
    for (const r of tallied) lines.push(`- ${r.scenario}: ${JSON.stringify(r.statuses)}`);
  }
  return lines.join('\n') + '\n';
}
