import { expect } from 'chai';
import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { createHotHistogram } from '../../src/metrics/histogram';
import type { Snapshot } from '../../src/metrics/snapshots';
import { parseExposition } from './scrape';

const BUCKETS = [0.001, 0.01, 0.1, 1];
// Below, on and between the bounds, and past the last one.
const OBSERVED: Array<[string, number]> = [
  ['a', 0.0005], ['a', 0.001], ['a', 0.002], ['a', 0.01], ['a', 0.5], ['a', 3], ['b', 0.05], ['b', 0.05], ['b', 1],
];

const sorted = (text: string) =>
  parseExposition(text)
    .map((s) => `${s.name}{${Object.entries(s.labels).sort().map(([k, v]) => `${k}=${v}`).join(',')}} ${s.value}`)
    .sort();

describe('hot-path histogram', () => {
  it('when it observes the same values as prom-client\'s Histogram, then its exposition is the same, sample for sample', async () => {
    const theirs = new Registry();
    const reference = new Histogram({ name: 'h_seconds', help: 'h', labelNames: ['route'], buckets: BUCKETS, registers: [theirs] });
    const ours = new Registry();
    const hot = createHotHistogram(ours, { name: 'h_seconds', help: 'h', labelNames: ['route'], buckets: BUCKETS });
    const children = { a: hot.child({ route: 'a' }), b: hot.child({ route: 'b' }) };
    for (const [route, v] of OBSERVED) {
      reference.labels(route).observe(v);
      children[route as 'a' | 'b'].observe(v);
    }
    expect(sorted(await ours.metrics())).to.deep.equal(sorted(await theirs.metrics()));
    expect(await ours.metrics()).to.contain('# TYPE h_seconds histogram');
  });

  it('when two workers\' histograms are aggregated, then buckets, sums and counts add up', async () => {
    const snapshots: Snapshot[] = [];
    for (const values of [[0.0005, 0.05], [0.05, 2]]) {
      const registry = new Registry();
      const child = createHotHistogram(registry, { name: 'h_seconds', help: 'h', labelNames: ['route'], buckets: BUCKETS }).child({ route: 'a' });
      for (const v of values) child.observe(v);
      snapshots.push(JSON.parse(JSON.stringify(await registry.getMetricsAsJSON())) as Snapshot);
    }
    const samples = parseExposition(await AggregatorRegistry.aggregate(snapshots).metrics());
    const find = (name: string, le?: string) => samples.find((s) => s.name === name && s.labels.le === le)?.value;
    expect(find('h_seconds_bucket', '0.001')).to.equal(1);
    expect(find('h_seconds_bucket', '0.1')).to.equal(3);
    expect(find('h_seconds_bucket', '+Inf')).to.equal(4);
    expect(find('h_seconds_count')).to.equal(4);
    expect(find('h_seconds_sum')).to.be.closeTo(2.1005, 1e-9);
  });
});
