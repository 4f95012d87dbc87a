/**
 * A k6 run's `--out json=FILE` output (one JSON object a line: {"type":"Metric",...} and
 * {"type":"Point","metric":NAME,"data":{"time","value","tags"}}, as k6 documents it) as report
 * rows: one per k6 scenario (the `scenario` tag), from its http_req_duration points (one per
 * response: its time, its duration in ms, its status tag). Judged on the SLO of
 * scenarios.json, the thresholds storefront.ts gives k6.
 */
import { latencyHistogram, percentileCurve } from '../latency-histogram';
import type { BenchFile } from '../context';
import { judge, type Row } from '../report';
import { sectionsOf, type ReportData } from './data';

interface K6Point {
  type: 'Point';
  metric: string;
  data: { time: string; value: number; tags?: Record<string, string> };
}

/** k6's RFC 3339 time (nanoseconds, an offset) in ms since the epoch. */
export function k6Time(time: string): number {
  const ms = Date.parse(time.replace(/(\.\d{3})\d+/, '$1'));
  if (Number.isNaN(ms)) throw new Error(`k6 JSON: unreadable time ${time}`);
  return ms;
}

/** The http_req_duration points of a k6 JSON output, by scenario tag, in file order. */
export function readK6Points(text: string): Map<string, K6Point[]> {
  const byScenario = new Map<string, K6Point[]>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let entry: { type?: string; metric?: string };
    try {
      entry = JSON.parse(line) as { type?: string; metric?: string };
    } catch {
      throw new Error(`k6 JSON: line ${i + 1} is not JSON`);
    }
    if (entry.type !== 'Point' || entry.metric !== 'http_req_duration') return;
    const point = entry as K6Point;
    const scenario = point.data.tags?.scenario ?? 'default';
    const points = byScenario.get(scenario);
    if (points) points.push(point);
    else byScenario.set(scenario, [point]);
  });
  return byScenario;
}

/** One scenario's row: totals, per-second series, percentile curve, the SLO's verdict. */
export function k6Row(scenario: string, points: readonly K6Point[], slo: NonNullable<BenchFile['slo']>): Row {
  const times = points.map((p) => k6Time(p.data.time));
  const start = Math.min(...times);
  const seconds = Math.max(1, Math.ceil((Math.max(...times) - start) / 1000));
  const zeros = (): number[] => Array.from({ length: seconds }, () => 0);
  const responses = zeros();
  const non2xx = zeros();
  const errors = zeros();
  const histogram = latencyHistogram();
  points.forEach((p, i) => {
    const s = Math.min(seconds - 1, Math.floor((times[i]! - start) / 1000));
    const status = Number(p.data.tags?.status ?? 0);
    // k6 tags a request that got no response with status 0.
    if (status === 0) errors[s]!++;
    else responses[s]!++;
    if (status > 399) non2xx[s]!++;
    histogram.recordValue(Math.max(1, Math.round(p.data.value * 1000)));
  });
  const percentiles = percentileCurve(histogram);
  const at = (p: number): number => histogram.getValueAtPercentile(p) / 1000;
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  // Failed as k6's http_req_failed counts them here: no response, or a status the mix does not expect (404 is expected for unknown ids).
  const failed = points.filter(
    (p) => p.data.tags?.expected_response === 'false' || Number(p.data.tags?.status ?? 0) === 0,
  ).length;
  const n = points.length;
  return {
    scenario: `k6 ${scenario}: ${n} requests`,
    rps: n / seconds,
    p50Ms: at(50),
    p95Ms: at(95),
    p99Ms: at(99),
    errors: sum(errors),
    non2xx: sum(non2xx),
    requests: n,
    serverCores: NaN,
    generatorCores: NaN,
    statuses: Object.fromEntries(
      [...new Set(points.map((p) => p.data.tags?.status ?? '0'))].map((s) => [
        s,
        points.filter((p) => (p.data.tags?.status ?? '0') === s).length,
      ]),
    ),
    trace: { generator: 'k6', responses, non2xx, errors, serviceCores: [], generatorCores: [], percentiles },
    ...judge([
      [`p95 < ${slo.p95Ms} ms`, at(95) < slo.p95Ms],
      [`p99 < ${slo.p99Ms} ms`, at(99) < slo.p99Ms],
      [`failed < ${slo.maxFailedRate * 100} %`, n > 0 && failed / n < slo.maxFailedRate],
    ]),
  };
}

/** The report of a k6 run's JSON output, against the definitions of scenarios.json. */
export function k6ReportData(
  text: string,
  file: Pick<BenchFile, 'slo' | 'scenarios' | 'pageViews'>,
  source: string,
): ReportData {
  const byScenario = readK6Points(text);
  if (byScenario.size === 0)
    throw new Error('k6 JSON: no http_req_duration points (was it written by k6 run --out json=FILE?)');
  const slo = file.slo ?? { p95Ms: Infinity, p99Ms: Infinity, maxFailedRate: 1 };
  const rows = [...byScenario].map(([scenario, points]) => k6Row(scenario, points, slo));
  const k6Scenarios = Object.fromEntries(
    [...byScenario.keys()].flatMap((name) => (file.scenarios?.[name] ? [[name, file.scenarios[name]]] : [])),
  );
  return {
    title: `Atelier Products k6 report — ${source}`,
    source: 'k6',
    rows,
    sections: sectionsOf(rows),
    definitions: { pageViews: file.pageViews, k6Scenarios },
  };
}
