/**
 * The HTML report as one self-contained page: uPlot's script and stylesheet (the npm package,
 * read from node_modules when the page is made) and the page's own script (page.js) inlined,
 * the data embedded as JSON. It loads nothing: no network, no other file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { metText, type Row } from '../report';
import type { ReportData } from './data';

const PAGE_SCRIPT = path.join(__dirname, 'page.js');

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
// JSON inside <script>: no "</script>" or "<!--" can end or change it.
const scriptJson = (value: unknown): string => JSON.stringify(value).replace(/</g, '\\u003c');
const fixed = (n: number | undefined, digits: number): string =>
  n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits);

/** uPlot's minified script and stylesheet from node_modules (the devDependency `uplot`). */
function uplotAssets(): { js: string; css: string } {
  const dir = path.dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  return {
    js: fs.readFileSync(path.join(dir, 'uPlot.iife.min.js'), 'utf8'),
    css: fs.readFileSync(path.join(dir, 'uPlot.min.css'), 'utf8'),
  };
}

/** A table cell carrying its exact value (data-value), so what the page shows can be checked against the JSON. */
function cell(field: string, value: number | undefined, digits: number): string {
  const raw = value === undefined || !Number.isFinite(value) ? '' : String(value);
  return `<td class="num" data-field="${field}" data-value="${raw}">${fixed(value, digits)}</td>`;
}

function targetRow(r: Row, index: number, rssLimitMb: number): string {
  const met = metText(r, rssLimitMb);
  const verdict = met === '' ? '' : met === 'yes' ? 'met' : 'missed';
  return (
    `<tr data-row="${index}"><td data-field="scenario">${escapeHtml(r.scenario)}</td>` +
    cell('rps', r.rps, 0) +
    cell('ratio', r.ratio, 2) +
    cell('p50Ms', r.p50Ms, 2) +
    cell('p99Ms', r.p99Ms, 2) +
    cell('p999Ms', r.openModel?.p999Ms, 2) +
    cell('errors', r.errors, 0) +
    cell('non2xx', r.non2xx, 0) +
    cell('requests', r.requests, 0) +
    cell('serverCores', r.serverCores || undefined, 2) +
    cell('generatorCores', r.generatorCores, 2) +
    `<td>${escapeHtml(r.target ?? '')}</td><td class="${verdict}" data-field="met">${escapeHtml(met)}</td></tr>`
  );
}

function header(data: ReportData): string {
  const run = data.run;
  if (run === undefined) return '<p class="run">No run context recorded.</p>';
  const facts: Array<[string, string]> = [
    ['machine', run.machine],
    ['commit', run.commit],
    ['date', run.date],
    ['catalog', `${run.catalog} products`],
    ['service', `${run.workers} workers, cache ${run.cacheMb.toFixed(0)} MiB each`],
    ['runs', run.runs],
  ];
  const settings = Object.entries(run.settings)
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(String(v))}</td></tr>`)
    .join('');
  return (
    `<dl class="run">${facts.map(([k, v]) => `<dt>${k}</dt><dd data-fact="${k}">${escapeHtml(v)}</dd>`).join('')}</dl>` +
    `<details><summary>settings</summary><table class="settings">${settings}</table></details>`
  );
}

function definitions(data: ReportData): string {
  const models = data.definitions.pageViews;
  const parts: string[] = [];
  if (models) {
    const items = Object.entries(models.models)
      .map(
        ([name, m]) =>
          `<li><b>${escapeHtml(name)}</b>${name === models.default ? ' (default)' : ''}: ${escapeHtml(m.description)}</li>`,
      )
      .join('');
    parts.push(`<h3>Page-view models (loadtest/scenarios.json)</h3><ul>${items}</ul>`);
  }
  if (data.definitions.k6Scenarios)
    parts.push(
      `<h3>k6 scenarios (loadtest/scenarios.json)</h3><pre>${escapeHtml(JSON.stringify(data.definitions.k6Scenarios, null, 2))}</pre>`,
    );
  return parts.join('');
}

const CHARTS: ReadonlyArray<readonly [kind: string, title: string]> = [
  ['rps', 'Requests/s over time (responses per second)'],
  ['percentiles', 'Latency by percentile (HdrHistogram-style, log axis)'],
  [
    'errors',
    'Errors and non-2xx per second (socket errors per second: open model and k6; wrk counts them per run, in the table)',
  ],
  ['cpu', 'CPU: service and generator (cores)'],
];

/** The whole page. */
export function renderHtml(data: ReportData): string {
  const { js, css } = uplotAssets();
  const rssLimit = data.run?.rssLimitMb ?? Infinity;
  const sections = data.sections
    .map(
      (s, i) =>
        `<section class="scenario" data-section="${i}"><h2>${escapeHtml(s.title)}</h2><p class="members">${s.rows.map((r) => escapeHtml(data.rows[r]!.scenario)).join('<br>')}</p>` +
        `<div class="charts">${CHARTS.map(([kind, title]) => `<figure data-chart="${kind}"><figcaption>${title}</figcaption><div class="plot"></div></figure>`).join('')}</div></section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(data.title)}</title>
<style>${css}</style>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; } td, th { padding: 2px 6px; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } td.met { color: #176117; } td.missed { color: #a11; font-weight: bold; }
dl.run { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; } dt { font-weight: bold; } dd { margin: 0; }
.charts { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 12px; } figure { margin: 0; } figcaption { font-weight: bold; }
section.scenario { border-top: 2px solid #888; margin-top: 1.5em; } .members { color: #555; font-size: 12px; }
.empty { color: #777; font-style: italic; padding: 1em 0; }
</style></head>
<body>
<h1>${escapeHtml(data.title)}</h1>
${header(data)}
<h2>Targets</h2>
<table class="targets"><thead><tr><th>scenario</th><th>req/s</th><th>vs baseline</th><th>p50 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>errors</th><th>non-2xx</th><th>requests</th><th>service cores</th><th>generator cores</th><th>target</th><th>met</th></tr></thead>
<tbody>${data.rows.map((r, i) => targetRow(r, i, rssLimit)).join('\n')}</tbody></table>
${definitions(data)}
${sections}
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${js}</script>
<script>${fs.readFileSync(PAGE_SCRIPT, 'utf8')}</script>
</body></html>
`;
}
