import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeOpenModel, runOpenModel } from '../../loadtest/bench/open-model/run';
import { parseBenchArgs } from '../../loadtest/bench/main';
import { runWrk } from '../../loadtest/bench/wrk';
import { requireBinary } from '../support/binaries';

const ROOT = path.resolve(__dirname, '../..');
const OPEN = { connections: 16, maxConnections: 512, lateMs: 10, warmUpSeconds: 1 };

describe('open-model runner against a server that stalls 200 ms (real processes, loopback)', function () {
  this.timeout(60_000);
  let server: ChildProcess;
  let url: string;
  let pathsFile: string;
  let dir: string;
  before(async function () {
    requireBinary(this, 'wrk', 'wrk');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-open-model-'));
    pathsFile = path.join(dir, 'paths');
    fs.writeFileSync(pathsFile, Array.from({ length: 100 }, (_, i) => `/products/${i + 1}`).join('\n') + '\n');
    server = spawn(process.execPath, ['--import', 'tsx', 'test/loadtest/stall-server.ts'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<string>((resolve) =>
      server.stdout!.once('data', (c: Buffer) => resolve(c.toString().trim())),
    );
    url = `http://127.0.0.1:${port}`;
  });
  after(() => {
    server?.kill('SIGTERM');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Asks the server to stall once, `afterMs` from now. */
  const stallIn = async (afterMs: number): Promise<void> => {
    await sleep(afterMs);
    await fetch(`${url}/stall`).then((r) => r.text());
  };

  /**
   * A closed model without any correction: `connections` loops, each sending its next request
   * when the last is answered, latency from each send; p99 and max in ms.
   */
  const closedModel = async (
    connections: number,
    durationMs: number,
  ): Promise<{ requests: number; p99Ms: number; maxMs: number }> => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
    const latencies: number[] = [];
    const end = performance.now() + durationMs;
    const get = (): Promise<void> =>
      new Promise((resolve, reject) => {
        const sent = performance.now();
        http
          .get(`${url}/products/1`, { agent }, (res) => {
            res.resume();
            res.on('end', () => {
              latencies.push(performance.now() - sent);
              resolve();
            });
          })
          .on('error', reject);
      });
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < end) await get();
      }),
    );
    agent.destroy();
    latencies.sort((a, b) => a - b);
    return {
      requests: latencies.length,
      p99Ms: latencies[Math.ceil(0.99 * latencies.length) - 1]!,
      maxMs: latencies[latencies.length - 1]!,
    };
  };

  it("when the server stalls during a run, then the open model's p99 shows it, a closed model's p99 does not (but wrk's own correction does), and the rate is held within 2 %", async () => {
    // The generator process starts in about 0.5 s, then warms up for 1 s: the stall lands well inside its measured 4 s.
    const [open] = await Promise.all([
      runOpenModel({ url, pathsFile, rate: 1000, durationSeconds: 4, ...OPEN }, 0.02),
      stallIn(2500),
    ]);
    console.log(`      ${describeOpenModel(open)}`);
    expect(open.held).to.equal(true);
    expect(Math.abs(open.achievedRate - 1000) / 1000).to.be.at.most(0.02);
    expect(open.sent).to.equal(4000);
    expect(open.errors).to.equal(0);
    // About 200 of 4,000 requests were scheduled during the stall, waiting up to 200 ms each.
    expect(open.p99Ms).to.be.above(100);
    expect(open.maxMs).to.be.within(180, 400);
    expect(open.p50Ms).to.be.below(20);
    expect(open.generatorCores).to.be.above(0).and.below(1);
    expect(open.trace.generatorCores.length).to.be.at.least(3);

    // Closed model, same stall: only the 4 requests in flight waited, far fewer than 1 % of them.
    const [closed] = await Promise.all([closedModel(4, 4000), stallIn(1500)]);
    console.log(
      `      closed model, 4 connections, same stall: ${closed.requests} requests, p99 ${closed.p99Ms.toFixed(2)} ms, max ${closed.maxMs.toFixed(2)} ms`,
    );
    expect(closed.maxMs).to.be.above(180);
    expect(closed.p99Ms).to.be.below(50);

    // Debian's wrk (4.x) is closed-model too, but corrects its histogram before reporting
    // (stats_correct: a sample of L ms adds synthetic ones at L - i × interval, interval =
    // run time / requests per connection), so its p99 shows the stall as well: the bench's
    // wrk figures are already coordinated-omission corrected, approximately.
    const [wrk] = await Promise.all([
      runWrk({ url, pathsFile, connections: 4, threads: 1, durationSeconds: 4 }),
      stallIn(1500),
    ]);
    console.log(
      `      wrk -c4, same stall: ${wrk.requests} requests, p99 ${wrk.p99Ms.toFixed(2)} ms, max ${wrk.maxMs.toFixed(2)} ms`,
    );
    expect(wrk.maxMs).to.be.above(180);
    expect(wrk.p99Ms).to.be.above(100);
  });

  it('when the server stalls during the warm-up, then nothing of it is recorded: the measured run starts after', async () => {
    const [open] = await Promise.all([
      // Late means 50 ms behind here, a quarter of the stall: a send held up by the stall's
      // backlog counts, a scheduling hiccup of a busy CI machine does not (with 10 ms, one run
      // counted 163 sends 10–32 ms late after a clean warm-up: max latency 32 ms).
      runOpenModel({ url, pathsFile, rate: 1000, durationSeconds: 2, ...OPEN, lateMs: 50, warmUpSeconds: 2 }, 0.02, () => [server.pid!]),
      stallIn(700),
    ]);
    console.log(`      ${describeOpenModel(open)}`);
    expect(open.held).to.equal(true);
    expect(open.sent).to.equal(2000);
    expect(open.maxMs).to.be.below(100);
    expect(open.late, "requests sent late after the warm-up").to.be.below(100);
    // The server's CPU is sampled over the measured 2 s only (a sample a second), not the
    // generator's start-up and warm-up before them (which would give 4 or more).
    expect(open.trace.serviceCores.length).to.be.within(1, 3);
    expect(open.trace.generatorCores.length).to.be.within(1, 3);
  });

  it('when asked for a rate it cannot hold, then the run is marked not held and its latencies are not reported', async () => {
    const run = await runOpenModel({ url, pathsFile, rate: 400_000, durationSeconds: 1, ...OPEN }, 0.02);
    expect(run.held).to.equal(false);
    expect(run.achievedRate).to.be.below(400_000 * 0.98);
    expect(describeOpenModel(run)).to.match(
      /^open model: rate NOT HELD: sent \d+ req\/s of 400000 asked .*: latencies not reported$/,
    );
  });

  it('when --rate is given, then the at-rate scenario runs alone at that rate, or beside the scenarios named', () => {
    const defaults = JSON.parse(fs.readFileSync(path.join(ROOT, 'loadtest/scenarios.json'), 'utf8')).bench;
    expect(parseBenchArgs(['--rate', '2000', '--duration', '5'], defaults)).to.deep.include({ scenarios: ['at-rate'] });
    expect(parseBenchArgs(['--rate', '2000'], defaults).opt.rate).to.equal(2000);
    expect(parseBenchArgs(['--rate', '2000', '--scenarios', 'hot'], defaults).scenarios).to.deep.equal([
      'hot',
      'at-rate',
    ]);
    expect(() => parseBenchArgs(['--rate', '0'], defaults)).to.throw(/--rate must be an integer from 1/);
  });
});
