import type { OpenModelFigures } from './scenarios/at-rate';
import { formatSoak, type SoakReport } from './soak-report';
import type { RunTrace } from './trace';

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
  /** Mean HTTP requests of a page view of the row's path list (page-view mixes: the model's fan-out on this catalog). */
  requestsPerView?: number;
  /** Bytes read per page view, response headers and bodies (page-view mixes; see wire-bytes.ts). */
  wireBytesPerView?: number;
  /** This row's wire bytes per page view over the identity traffic's (the compressed rows). */
  wireRatio?: number;
  /** Of wireBytesPerView, the document bodies' (the service's counters). */
  documentBytesPerView?: number;
  /** This row's document bytes per page view over the identity traffic's (the compressed rows). */
  documentRatio?: number;
  target?: string;
  pass?: boolean;
  /** The parts of `target` that were missed, when the row names them (see `judge`). */
  failed?: string[];
  /** Responses per status code (overload and soak scenarios). */
  statuses?: Record<string, number>;
  /** The soak's per-minute samples, events and targets: printed after the table, kept in the JSON. */
  soak?: SoakReport;
  /** Open-model rows (at-rate): the asked and achieved rates, late and unsent requests, p99.9 and max. */
  openModel?: OpenModelFigures;
  /** The course of the row's median run, second by second, and its percentile curve: what the HTML report draws. */
  trace?: RunTrace;
  /** Machine, commit, catalog and settings of the bench run the row is from (the HTML report's header). */
  run?: BenchRunInfo;
}

/** What the HTML report says about the run a row came from. */
export interface BenchRunInfo extends ReportContext {
  /** git describe of the checkout (with -dirty when it had changes), or "unknown". */
  commit: string;
  /** When the report was made, ISO 8601. */
  date: string;
  /** The options and service settings of the run, as name → value. */
  settings: Record<string, string | number>;
}

/** One of a row's targets as the report lists it, and whether it was met. */
export type Check = readonly [label: string, met: boolean];

/** A row's target, verdict and missed parts from its checks, in the order given. */
export function judge(checks: readonly Check[]): Pick<Row, 'target' | 'pass' | 'failed'> {
  const failed = checks.filter(([, met]) => !met).map(([label]) => label);
  return { target: checks.map(([label]) => label).join(', '), pass: failed.length === 0, ...(failed.length > 0 && { failed }) };
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

/**
 * The met cell: yes, NO naming the missed targets (errors and RSS included), or empty for a
 * row without targets. RSS is judged on the row's own bound, else the run's (`rssLimitMb`).
 */
export function metText(r: Row, rssLimitMb: number): string {
  const rssLimit = r.rssLimitMb ?? rssLimitMb;
  // No socket errors anywhere; overload rows expect 503s (statuses tally them), others none.
  const cleanEnough = r.errors === 0 && (r.statuses !== undefined || r.non2xx === 0);
  // A row missing a target it names says which, so one row's several targets stay legible.
  const missed = [...(r.failed ?? []), ...(cleanEnough ? [] : ['errors']), ...((r.workerRssMb ?? 0) <= rssLimit ? [] : ['RSS'])];
  return r.pass === undefined ? '' : r.pass && missed.length === 0 ? 'yes' : missed.length > 0 ? `NO (${missed.join('; ')})` : 'NO';
}

/** The table as Markdown, ready for the README. */
export function formatReport(rows: Row[], ctx: ReportContext): string {
  const lines = [
    `machine: ${ctx.machine}; catalog: ${ctx.catalog} products; ${ctx.workers} workers, cache ${f(ctx.cacheMb, 0)} MiB each; ${ctx.runs}`,
    '',
    '| scenario | req/s | vs baseline | of database | p50 ms | p95 ms | p99 ms | errors | non-2xx | requests | service cores | wrk cores | worker RSS MiB | wire B/view | target | met |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const r of rows) {
    const vs = r.ratio !== undefined ? `${f(r.ratio)}×` : r.latencyRatio !== undefined ? `p50 ${f(r.latencyRatio)}×` : '';
    const rssLimit = r.rssLimitMb ?? ctx.rssLimitMb;
    const rss = r.workerRssMb !== undefined ? `${f(r.workerRssMb, 0)} (≤ ${f(rssLimit, 0)})` : '';
    const met = metText(r, ctx.rssLimitMb);
    const wire =
      (r.wireBytesPerView === undefined ? '' : `${f(r.wireBytesPerView, 0)}${r.wireRatio !== undefined ? ` (${f(r.wireRatio)}× hot)` : ''}`) +
      (r.documentBytesPerView === undefined ? '' : `; documents ${f(r.documentBytesPerView, 0)}${r.documentRatio !== undefined ? ` (${f(r.documentRatio)}× hot)` : ''}`);
    lines.push(
      `| ${r.scenario} | ${f(r.rps, 0)} | ${vs} | ${r.ofDatabase !== undefined ? f(r.ofDatabase) : ''} | ${f(r.p50Ms)} | ${f(r.p95Ms)} | ${f(r.p99Ms)} | ${r.errors} | ${r.non2xx} | ${r.requests} | ${r.serverCores ? f(r.serverCores) : '-'} | ${f(r.generatorCores)} | ${rss} | ${wire} | ${r.target ?? ''} | ${met} |`,
    );
  }
  if (rows.some((r) => r.wireBytesPerView !== undefined)) {
    const perRow = rows.filter((r) => r.requestsPerView !== undefined).map((r) => `${r.scenario.split(':')[0]} ${f(r.requestsPerView!)}`);
    const perView = `requests a page view (the row's path list's mean: ${perRow.join(', ')})`;
    lines.push(
      '',
      `wire B/view: bytes wrk read (HTTP/1.1 response headers and bodies, as sent) per request answered × ${perView}; documents: the bodies alone, from the service's atelier_http_response_bytes_total.`,
    );
  }
  const tallied = rows.filter((r) => r.statuses);
  if (tallied.length > 0) {
    lines.push('', 'statuses:');
    for (const r of tallied) lines.push(`- ${r.scenario}: ${JSON.stringify(r.statuses)}`);
  }
  const open = rows.filter((r) => r.openModel);
  if (open.length > 0) {
    lines.push('', 'open model (latency from each scheduled send; not reported when the rate was not held):');
    for (const r of open) {
      const o = r.openModel!;
      const latency = o.held ? `p50 ${f(r.p50Ms)} ms, p99 ${f(r.p99Ms)} ms, p99.9 ${f(o.p999Ms)} ms, max ${f(o.maxMs)} ms` : 'NOT HELD: latencies not reported';
      lines.push(`- ${r.scenario}: asked ${o.rate} req/s, sent ${f(o.achievedRate, 0)} req/s, ${o.late} late, ${o.unsent} never sent; ${latency}; generator ${f(r.generatorCores)} cores`);
    }
  }
  for (const r of rows) if (r.soak) lines.push(...formatSoak(r.scenario, r.soak));
  return lines.join('\n') + '\n';
}
