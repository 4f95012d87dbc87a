import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

export const MONITORING = path.resolve(__dirname, '../../monitoring');
export const PROMETHEUS_YML = path.join(MONITORING, 'prometheus/prometheus.yml');
export const RULES_YML = path.join(MONITORING, 'prometheus/rules/atelier.rules.yml');
export const RULES_TEST_YML = path.join(MONITORING, 'prometheus/tests/atelier.rules.test.yml');
export const DASHBOARD_JSON = path.join(MONITORING, 'grafana/dashboards/atelier-products.json');

export interface Expression {
  /** Where it comes from, for failure messages. */
  where: string;
  /** PromQL with Grafana's variables replaced by values Prometheus accepts. */
  promql: string;
}

interface RulesFile {
  groups: Array<{ name: string; rules: Array<{ alert?: string; record?: string; expr: string }> }>;
}
interface Dashboard {
  panels: Array<{ title: string; type: string; targets?: Array<{ expr: string }> }>;
  templating: { list: Array<{ name: string; query: { query: string } | string }> };
}

export const readRules = (): RulesFile => YAML.parse(fs.readFileSync(RULES_YML, 'utf8')) as RulesFile;
export const readDashboard = (): Dashboard => JSON.parse(fs.readFileSync(DASHBOARD_JSON, 'utf8')) as Dashboard;

// Grafana's variables, as the dashboard would send them with "All" instances selected.
const grafanaToPromql = (expr: string): string =>
  expr.replaceAll('$__rate_interval', '1m').replaceAll('$__interval', '15s').replaceAll('$instance', '.*');

/** Every PromQL expression of the alert rules and the dashboard (panels and variables). */
export function allExpressions(): Expression[] {
  const out: Expression[] = [];
  for (const group of readRules().groups) {
    for (const rule of group.rules) out.push({ where: `rule ${rule.alert ?? rule.record}`, promql: rule.expr });
  }
  const dashboard = readDashboard();
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) out.push({ where: `panel "${panel.title}"`, promql: grafanaToPromql(target.expr) });
  }
  for (const variable of dashboard.templating.list) {
    const query = typeof variable.query === 'string' ? variable.query : variable.query.query;
    // label_values(selector, label) is Grafana's, not PromQL: its selector is.
    const selector = /^label_values\((.*),\s*\w+\)$/.exec(query.trim())?.[1] ?? query;
    out.push({ where: `variable $${variable.name}`, promql: grafanaToPromql(selector) });
  }
  return out;
}

const NOT_METRICS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'Inf', 'NaN']);

/**
 * The metric names an expression selects. Strings, label matchers, ranges and grouping
 * lists are removed first; an identifier followed by "(" is a function or aggregation.
 */
export function metricNames(promql: string): string[] {
  const e = promql
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\b\d+(\.\d+)?([eE][+-]?\d+)?\b/g, ' ');
  const names = new Set<string>();
  for (const m of e.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const rest = e.slice(m.index + m[0].length).trimStart();
    if (rest.startsWith('(') || NOT_METRICS.has(m[0])) continue;
    names.add(m[0]);
  }
  return [...names];
}

/**
 * Series names a scrape exposes, from its `# TYPE` lines: a histogram family exposes
 * `_bucket`, `_sum` and `_count` even before its first observation.
 */
export function exposedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name! + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name! + s);
  }
  return names;
}

/**
 * Series that come from elsewhere than the service: Prometheus' own `up`, and what
 * nginx-prometheus-exporter (0.11, Debian's prometheus-nginx-exporter) exposes from stub_status.
 */
export const EXTERNAL_NAMES = new Set([
  'up',
  'nginx_up',
  'nginx_http_requests_total',
  'nginx_connections_active',
  'nginx_connections_accepted',
  'nginx_connections_handled',
  'nginx_connections_reading',
  'nginx_connections_writing',
  'nginx_connections_waiting',
]);
