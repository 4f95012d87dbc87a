import path from 'node:path';
import { createRandom } from '../../../db/generate/prng';
import { pageViewModel } from '../../lib/page-views';
import { drawUniformPageViews } from '../../lib/traffic';
import type { BenchContext } from '../context';
import { describeOpenModel, runOpenModel, type OpenModelRun } from '../open-model/run';
import { writePageViewPaths } from '../page-view-paths';
import type { Service } from '../processes';
import { judge, type Row } from '../report';
import { clearCaches } from './cold';
import { HOT_PAGE_VIEWS, hotPageViewDraws } from './hot';
import { cachedEnough, warmUp } from './warm-up';

/** The row's open-model figures (kept in --json; the HTML report shows them). */
export interface OpenModelFigures {
  /** Asked, in requests/s. */
  rate: number;
  /** Requests written per second within the schedule. */
  achievedRate: number;
  held: boolean;
  /** Requests sent more than lateMs after their scheduled time. */
  late: number;
  /** Requests never sent. */
  unsent: number;
  p999Ms: number;
  maxMs: number;
  /** The closed-model capacity the rate is a share of (requests/s), and the share. */
  capacity?: number;
  share?: number;
}

interface Traffic {
  name: 'hot' | 'cold';
  /** The closed-model row whose requests/s is this traffic's capacity. */
  capacityRow: string;
  p99TargetMs: number;
  /** Starts the service and readies it: warm caches (hot), or a compiled request path (cold). */
  start(pathsFile: string): Promise<Service>;
  /** Before each measured run: nothing (hot), empty caches (cold). */
  beforeRun(service: Service): Promise<void>;
}

/** A row of the open model: latencies from the scheduled send, only when the rate was held. */
export function openModelRow(
  name: string,
  run: OpenModelRun,
  p99TargetMs: number,
  capacity?: { rps: number; share: number },
): Row {
  const latency = (ms: number): number => (run.held ? ms : NaN);
  const openModel: OpenModelFigures = {
    rate: run.rate,
    achievedRate: run.achievedRate,
    held: run.held,
    late: run.late,
    unsent: run.unsent,
    p999Ms: latency(run.p999Ms),
    maxMs: latency(run.maxMs),
    ...(capacity && { capacity: capacity.rps, share: capacity.share }),
  };
  return {
    scenario: name,
    rps: run.answered / run.durationSeconds,
    p50Ms: latency(run.p50Ms),
    p95Ms: latency(run.p95Ms),
    p99Ms: latency(run.p99Ms),
    errors: run.errors,
    non2xx: run.non2xx,
    requests: run.sent,
    serverCores: run.serviceCores,
    generatorCores: run.generatorCores,
    openModel,
    trace: run.trace,
    ...judge([
      [`rate held (±2 %)`, run.held],
      [`p99 ≤ ${p99TargetMs} ms`, run.held && run.p99Ms <= p99TargetMs],
    ]),
  };
}

/**
 * Latency at a rate (issue 19): the open-model generator at a constant arrival rate, for hot
 * traffic (Zipf page views, warm caches) and cold (uniform page views, caches emptied before
 * each run), at `capacityShares` of the closed-model capacity (the hot and cold rows of this
 * run, else a closed wrk run on the same service), or at --rate. One run of --duration a rate.
 */
export async function atRateScenario(ctx: BenchContext): Promise<void> {
  const { opt, file, dir } = ctx;
  const settings = file.bench.openModel;
  const targets = file.bench.targets;
  const traffics: Traffic[] = [
    {
      name: 'hot',
      capacityRow: HOT_PAGE_VIEWS,
      p99TargetMs: targets.hotP99Ms!,
      async start(pathsFile) {
        const service = await ctx.startService('at-rate-hot', { CACHE_MAX_BYTES: String(file.bench.hotCacheBytes) });
        await warmUp(ctx, service, pathsFile, 'at rate: hot', (_, round) => cachedEnough(round));
        return service;
      },
      beforeRun: async () => undefined,
    },
    {
      name: 'cold',
      capacityRow: 'cold:',
      p99TargetMs: targets.coldP99Ms!,
      async start(pathsFile) {
        const service = await ctx.startService('at-rate-cold');
        // A run's length of the same traffic first, so the compiler has optimised the request path (see cold.ts).
        await ctx.measure(service.url, pathsFile, service.pids, { headers: file.requestHeaders });
        return service;
      },
      beforeRun: (service) => clearCaches(ctx, service),
    },
  ];
  for (const traffic of traffics) {
    const pathsFile = path.join(dir, `at-rate-${traffic.name}.paths`);
    const views =
      traffic.name === 'hot'
        ? hotPageViewDraws(ctx)
        : { draw: drawUniformPageViews(ctx.shape, createRandom(100).next), model: pageViewModel(file.pageViews) };
    await writePageViewPaths(ctx.db, pathsFile, views.draw, views.model, opt.paths);
    const service = await traffic.start(pathsFile);
    const headers = traffic.name === 'cold' ? file.requestHeaders : undefined;
    let capacity: number | undefined;
    if (opt.rate === undefined) {
      capacity = ctx.rows.find((row) => row.scenario.startsWith(traffic.capacityRow))?.rps;
      if (capacity === undefined) {
        await traffic.beforeRun(service);
        capacity = (await ctx.measure(service.url, pathsFile, service.pids, headers && { headers })).rps;
      }
    }
    const rates: Array<[rate: number, share?: number]> =
      capacity === undefined
        ? [[opt.rate!]]
        : settings.capacityShares.map((share) => [Math.max(1, Math.round(share * capacity)), share]);
    for (const [rate, share] of rates) {
      await traffic.beforeRun(service);
      const run = await runOpenModel(
        {
          url: service.url,
          pathsFile,
          rate,
          durationSeconds: opt.duration,
          connections: settings.connections,
          maxConnections: settings.maxConnections,
          lateMs: settings.lateMs,
          warmUpSeconds: settings.warmUpSeconds,
          ...(headers && { headers }),
        },
        settings.rateTolerance,
        service.pids,
      );
      ctx.say(`at rate, ${traffic.name}: ${describeOpenModel(run)}`);
      const what =
        share === undefined
          ? `${rate} req/s`
          : `${Math.round(share * 100)} % of capacity (${rate} of ${Math.round(capacity!)} req/s)`;
      ctx.rows.push(
        openModelRow(
          `at rate: ${traffic.name}, open model, ${what}`,
          run,
          traffic.p99TargetMs,
          share === undefined ? undefined : { rps: capacity!, share },
        ),
      );
    }
    await service.stop();
  }
}
