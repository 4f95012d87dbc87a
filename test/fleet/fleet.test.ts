import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeDatabase } from '../../src/fleet/database';
import { killGroup } from '../../src/fleet/process';
import { requireNginx } from '../deploy/nginx-harness';
import { loadCatalog } from '../support/catalog';
import { createTestDatabase, freePort, type TestDatabase } from '../support/postgres';
import { alive, assertBuilt, startFleetProcess, type FleetProcess } from './fleet-process';
import { fleetCatalog, fleetPath } from './fixture';
import { loadFor, startLoad } from './load';

const PRODUCTS = 40;

/** Requests per instance port in the access log, from byte `from` on (200s only). */
function servedBy(accessLog: string, from = 0): Map<number, number> {
  const counts = new Map<number, number>();
  const text = fs.readFileSync(accessLog, 'utf8').slice(from);
  for (const m of text.matchAll(/" 200 \d+ rt=\S+ upstream=127\.0\.0\.1:(\d+) /g)) {
    const port = Number(m[1]);
    counts.set(port, (counts.get(port) ?? 0) + 1);
  }
  return counts;
}

describe('fleet: npm run fleet (real nginx in front of real instances)', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let fleet: FleetProcess;
  let runDir: string;
  let accessLog: string;
  const pids = new Set<number>();

  before(async function () {
    requireNginx(this);
    assertBuilt();
    db = await createTestDatabase();
    await loadCatalog(db.url, fleetCatalog(PRODUCTS));
    runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-fleet-'));
    accessLog = path.join(runDir, 'logs', 'access.log');
    fleet = startFleetProcess(['--instances', '2', '--port', String(await freePort()), '--workers', '1', '--run-dir', runDir], {
      DATABASE_URL: db.url,
      SHUTDOWN_TIMEOUT_MS: '3000',
    });
    await fleet.waitFor(/^fleet: ready: /m, 45_000);
    for (const pid of fleet.pids()) pids.add(pid);
  });

  after(async function () {
    await fleet?.stop();
    // Backstop: whatever the fleet left behind (it should leave nothing) dies with the test.
    for (const pid of pids) killGroup(pid, 'SIGKILL');
    for (const m of fleet?.output().matchAll(/restarted \(pid (\d+)\)/g) ?? []) killGroup(Number(m[1]), 'SIGKILL');
    await db?.drop();
    if (runDir) fs.rmSync(runDir, { recursive: true, force: true });
  });

  it('when it is ready, then it printed the URL of nginx and of every instance', () => {
    expect(fleet.url()).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(fleet.instances().map((i) => i.index)).to.deep.equal([1, 2]);
    expect(fleet.output()).to.match(/stub_status http:\/\/127\.0\.0\.1:\d+\/stub_status/);
  });

  it('when traffic goes through nginx, then it reaches both instances and every request succeeds', async () => {
    const before = fs.statSync(accessLog).size;
    const result = await loadFor(1500, { url: fleet.url(), path: fleetPath(PRODUCTS), concurrency: 8 });
    expect(result.failed, JSON.stringify(result)).to.equal(0);
    expect(result.total).to.be.greaterThan(100);
    const served = servedBy(accessLog, before);
    const [one, two] = fleet.instances();
    // least_conn on two equal instances: each gets a real share, not a stray request.
    expect(served.get(one!.port) ?? 0).to.be.greaterThan(result.total / 10);
    expect(served.get(two!.port) ?? 0).to.be.greaterThan(result.total / 10);
  });

  it('when one instance is killed mid-load, then fewer than 0.1 % of requests fail and none hangs', async () => {
    const victim = fleet.instances()[1]!;
    // 32 connections: about 16 requests are in flight on the victim when it dies; without
    // retries on the next instance they alone would be more than 0.1 % of the run.
    const load = startLoad({ url: fleet.url(), path: fleetPath(PRODUCTS), concurrency: 32, requestTimeoutMs: 15_000 });
    await sleep(1000);
    const beforeKill = load.snapshot().total;
    const logFrom = fs.statSync(accessLog).size;
    // The whole instance at once, primary and workers, as a crash or the OOM killer would.
    killGroup(victim.pid, 'SIGKILL');
    await sleep(2000);
    const result = await load.stop();
    console.log(`      killed instance ${victim.index} after ${beforeKill} requests: ${JSON.stringify(result)}`);
    expect(result.total - beforeKill, 'requests after the kill').to.be.greaterThan(100);
    expect(result.timedOut, 'hung requests').to.equal(0);
    expect(result.failed / result.total, JSON.stringify(result.reasons)).to.be.below(0.001);
    // Requests nginx sent to the dead instance were answered by the other one: retried, not failed.
    const retried = fs.readFileSync(accessLog, 'utf8').slice(logFrom).match(
      new RegExp(`" 200 \\d+ rt=\\S+ upstream=127\\.0\\.0\\.1:${victim.port}, 127\\.0\\.0\\.1:\\d+ `, 'g'),
    );
    expect(retried?.length ?? 0, 'requests retried on the surviving instance').to.be.at.least(1);
  });

  it('when the killed instance is restarted, then it rejoins and serves again', async () => {
    const victim = fleet.instances()[1]!;
    const restarted = await fleet.waitFor(/^fleet: instance 2 restarted \(pid (\d+)\)/m, 20_000);
    pids.add(Number(restarted[1]));
    const from = fs.statSync(accessLog).size;
    // nginx keeps a failed instance out for fail_timeout (5 s), then probes it with live
    // traffic: keep a light load going until the restarted instance answers a share of it.
    const load = startLoad({ url: fleet.url(), path: fleetPath(PRODUCTS), concurrency: 4 });
    const deadline = Date.now() + 20_000;
    while ((servedBy(accessLog, from).get(victim.port) ?? 0) < 50 && Date.now() < deadline) {
      await sleep(200);
    }
    const result = await load.stop();
    expect(servedBy(accessLog, from).get(victim.port) ?? 0, 'requests served by the restarted instance').to.be.at.least(50);
    expect(result.failed, JSON.stringify(result.reasons)).to.equal(0);
  });

  it('when it gets SIGTERM, then nginx, every instance and the fleet itself exit cleanly', async () => {
    const url = fleet.url();
    const { code } = await fleet.stop();
    expect(code).to.equal(0);
    expect(fleet.output()).to.match(/^fleet: stopped$/m);
    for (const pid of pids) expect(alive(pid), `pid ${pid} still running`).to.equal(false);
    const answer = await fetch(`${url}/healthz`).then(
      () => 'answered',
      () => 'refused',
    );
    expect(answer).to.equal('refused');
  });
});

describe('fleet: with DATABASE_URL unset', function () {
  this.timeout(90_000);
  let fleet: FleetProcess | undefined;
  let dir: string;

  before(function () {
    requireNginx(this);
    assertBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-fleet-embedded-'));
    // The embedded server runs as an unprivileged user when the tests run as root.
    fs.chmodSync(dir, 0o755);
  });

  after(async () => {
    await fleet?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('when started, then it runs ONE embedded PostgreSQL with the sample catalog for every instance, and stops it on SIGTERM', async () => {
    const pgPort = await freePort();
    fleet = startFleetProcess(['--instances', '2', '--port', String(await freePort()), '--workers', '1', '--run-dir', path.join(dir, 'run')], {
      EMBEDDED_PG_DIR: path.join(dir, 'pg'),
      EMBEDDED_PG_PORT: String(pgPort),
      SAMPLE_PRODUCTS: '100',
      SHUTDOWN_TIMEOUT_MS: '3000',
    });
    await fleet.waitFor(/^fleet: ready: /m, 75_000);
    expect(fleet.output().match(/starting one embedded PostgreSQL/g)).to.have.length(1);
    expect(fleet.output()).to.match(/loaded the built-in sample/);
    for (const instance of fleet.instances()) {
      const res = await fetch(`${instance.url}/products/1`);
      expect(res.status, instance.url).to.equal(200);
    }
    const res = await fetch(`${fleet.url()}/products/2/styles`);
    expect(res.status).to.equal(200);
    expect(((await res.json()) as { product_id: string }).product_id).to.equal('2');

    const { code } = await fleet.stop();
    expect(code).to.equal(0);
    const pgAnswer = await fetch(`http://127.0.0.1:${pgPort}`).then(
      () => 'answered',
      (err: { cause?: { code?: string } }) => err.cause?.code ?? 'error',
    );
    expect(pgAnswer, 'embedded PostgreSQL still listening').to.equal('ECONNREFUSED');
  });
});

describe('fleet database description (unit)', () => {
  it('when DATABASE_URL holds credentials, a socket directory or parameters, then the description names only host, port and database', () => {
    expect(describeDatabase('postgres://owner:s3cret@db.internal:6432/atelier?sslmode=require&password=x')).to.equal('db.internal:6432/atelier');
    expect(describeDatabase('postgres://owner:s3cret@/atelier?host=/run/postgresql')).to.equal('/run/postgresql:5432/atelier');
    expect(describeDatabase('postgresql://owner@localhost/atelier')).to.equal('localhost:5432/atelier');
  });
});
