/* The HTML report's own script (inlined by render.ts): draws each section's charts with uPlot
 * from the embedded JSON. Runs in the browser; loads nothing. */
/* global document, uPlot */
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
  const WIDTH = 560;
  const HEIGHT = 260;

  // Rows' short labels: each name up to its first comma (the rest is in the section's list),
  // or up to its first parenthesis when that is not enough to tell the section's rows apart.
  function labels(rows) {
    const cut = (name, mark) => (name.indexOf(mark) < 0 ? name : name.slice(0, name.indexOf(mark)).trim());
    const short = rows.map((r) => cut(r.scenario, ','));
    return short.map((l, i) => (short.indexOf(l) === short.lastIndexOf(l) ? l : cut(rows[i].scenario, '(')));
  }

  // Series of unequal lengths on one x axis of seconds; missing values are gaps.
  function perSecond(lines) {
    const length = Math.max(0, ...lines.map((l) => l.values.length));
    const xs = Array.from({ length }, (_, i) => i + 1);
    return { xs, ys: lines.map((l) => xs.map((_, i) => (i < l.values.length ? l.values[i] : null))) };
  }

  function empty(target, why) {
    const p = document.createElement('p');
    p.className = 'empty';
    p.textContent = why;
    target.appendChild(p);
  }

  // One uPlot series a line, coloured in turn; spanGaps joins points across missing values.
  const lineSeries = (lines, spanGaps) =>
    lines.map((l, i) => ({ label: l.label, stroke: COLOURS[i % COLOURS.length], width: 1.5, dash: l.dash, spanGaps }));

  function timeChart(target, lines, yLabel) {
    const kept = lines.filter((l) => l.values && l.values.length > 0);
    if (kept.length === 0) return empty(target, 'not measured for these rows');
    const { xs, ys } = perSecond(kept);
    const opts = {
      width: WIDTH,
      height: HEIGHT,
      // From 0, and a visible line when every value is 0 (no errors).
      scales: { x: { time: false }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [{ label: 'seconds since the run started' }, { label: yLabel }],
      series: [{ label: 's' }].concat(lineSeries(kept, false)),
    };
    new uPlot(opts, [xs].concat(ys), target);
  }

  // x = log10(1 / (1 - p)): p50 at 0.3, p90 at 1, p99 at 2, p99.9 at 3, p99.99 at 4: the log
  // axis HdrHistogram plots percentiles on (taken here, so the axis itself stays linear).
  const toX = (p) => Math.log10(1 / (1 - p / 100));
  function percentileChart(target, lines) {
    const kept = lines.filter((l) => l.points && l.points.length > 0);
    if (kept.length === 0) return empty(target, 'no latencies recorded for these rows');
    const xsSet = new Set();
    for (const l of kept) for (const [p] of l.points) if (p < 100 && p >= 50) xsSet.add(toX(p));
    const xs = Array.from(xsSet).sort((a, b) => a - b);
    const ys = kept.map((l) => {
      const at = new Map(l.points.filter(([p]) => p < 100).map(([p, ms]) => [toX(p), ms]));
      return xs.map((x) => (at.has(x) ? at.get(x) : null));
    });
    const tick = (x) => {
      const p = 100 * (1 - Math.pow(10, -x));
      const digits = Math.max(0, Math.min(3, Math.round(x) - 1));
      return p.toFixed(digits) + '%';
    };
    const opts = {
      width: WIDTH,
      height: HEIGHT,
      scales: {
        x: { time: false, range: () => [Math.log10(2), 5] },
        y: { range: (u, min, max) => [0, max * 1.05 || 1] },
      },
      axes: [
        {
          label: 'percentile (log scale of 1 / (1 - p))',
          splits: () => [Math.log10(2), 1, 2, 3, 4, 5],
          values: (u, splits) => splits.map(tick),
        },
        { label: 'latency ms' },
      ],
      series: [
        { label: 'percentile', value: (u, x) => (x == null ? '' : (100 * (1 - Math.pow(10, -x))).toFixed(3) + '%') },
      ].concat(lineSeries(kept, true)),
    };
    new uPlot(opts, [xs].concat(ys), target);
  }

  data.sections.forEach((section, s) => {
    const rows = section.rows.map((i) => data.rows[i]);
    const el = document.querySelector('section[data-section="' + s + '"]');
    const plot = (kind) => el.querySelector('figure[data-chart="' + kind + '"] .plot');
    const traced = rows.filter((r) => r.trace);
    const names = labels(traced);
    const label = (r) => names[traced.indexOf(r)];
    timeChart(
      plot('rps'),
      traced.map((r) => ({ label: label(r), values: r.trace.responses })),
      'responses/s',
    );
    percentileChart(
      plot('percentiles'),
      traced.flatMap((r) => {
        const own = {
          label: label(r) + (r.trace.generator === 'open-model' ? ' (from schedule)' : ''),
          points: r.trace.percentiles,
        };
        return r.trace.sendPercentiles
          ? [own, { label: label(r) + ' (from send)', points: r.trace.sendPercentiles, dash: [4, 4] }]
          : [own];
      }),
    );
    timeChart(
      plot('errors'),
      traced.flatMap((r) =>
        [{ label: label(r) + ' non-2xx', values: r.trace.non2xx }].concat(
          r.trace.errors ? [{ label: label(r) + ' errors', values: r.trace.errors, dash: [4, 4] }] : [],
        ),
      ),
      'per second',
    );
    timeChart(
      plot('cpu'),
      traced.flatMap((r) => [
        { label: label(r) + ' service', values: r.trace.serviceCores },
        { label: label(r) + ' generator', values: r.trace.generatorCores, dash: [4, 4] },
      ]),
      'cores',
    );
  });
  document.body.setAttribute('data-rendered', 'true');
})();
