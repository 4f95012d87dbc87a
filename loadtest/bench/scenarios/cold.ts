import path from 'node:path';
import { createRandom } from '../../../db/generate/prng';
import { uniformPageViews } from '../../lib/traffic';
import { median, summarise, writePaths, type BenchContext, type Measured } from '../context';

/** Uniform page views on a fresh service per round (empty caches): one row, against the baseline when it ran. */
export async function coldScenario(ctx: BenchContext): Promise<void> {
  const { opt, dir } = ctx;
  const coldFile = path.join(dir, 'cold.paths');
  const cold: Measured[] = [];
  let rss = 0;
  for (let r = 0; r < opt.rounds; r++) {
    writePaths(coldFile, uniformPageViews(ctx.shape, createRandom(100 + r).next), opt.paths);
    // A fresh service per round: caches empty at start.
    const service = await ctx.startService('cold');
    cold.push(await ctx.measure(service.url, coldFile, service.pids));
    rss = Math.max(rss, service.workerRssMb());
    await service.stop();
  }
  const targets = ctx.file.bench.targets;
  const baselineRps = ctx.rows.find((r) => r.scenario.startsWith('baseline'))?.rps;
  const ratio = baselineRps ? median(cold.map((c) => c.rps)) / baselineRps : undefined;
  ctx.rows.push(
    summarise('cold: uniform ids, empty caches', cold, {
      ratio,
      workerRssMb: rss,
      target: `≥ ${targets.coldVsBaseline}× baseline, p99 ≤ ${targets.coldP99Ms} ms`,
      pass: (ratio ?? 0) >= targets.coldVsBaseline! && median(cold.map((c) => c.p99Ms)) <= targets.coldP99Ms!,
    }),
  );
}
