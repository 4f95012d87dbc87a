import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { requireNginx, startBalancer, type Balancer } from '../deploy/nginx-harness';
import { fleetCatalog, fleetPath } from '../fleet/fixture';
import { loadCatalog } from '../support/catalog';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { startServer, type ServerProcess } from '../support/server-process';
import { eventually, sleep } from '../support/wait';
import { childPids, holdsSocket, listeningInode } from './observe';
import { startRecorder, statusCounts, type Recorder } from './recorder';

const PRODUCTS = 40;

/**
 * One instance with two workers behind real nginx. A worker is a fault inside an instance:
 * with two instances nginx would route around the whole instance and the test would say
 * nothing about the cluster. Here nginx has one upstream and nothing to fail over to, so
 * the only things keeping requests alive are the sibling worker accepting on the shared
 * socket, nginx re-sending a request whose kept-alive upstream connection died, and the
 * primary forking a replacement.
 */
describe('reliability: a worker killed with SIGKILL under load (one instance, 2 workers, real nginx)', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let server: ServerProcess;
  let lb: Balancer;
  let startedAt: number;
  const loads: Recorder[] = [];

  before(async function () {
    requireNginx(this);
    if (!fs.existsSync(path.resolve(__dirname, '../../dist/src/server.js'))) throw new Error('run npm run build first');
    db = await createTestDatabase();
    await loadCatalog(db.url, fleetCatalog(PRODUCTS));
    // warn: the per-request info lines would cost the 2-core machine more than the load itself.
    server = await startServer({ DATABASE_URL: db.url, WORKERS: '2', SHUTDOWN_TIMEOUT_MS: '3000', LOG_LEVEL: 'warn' });
    startedAt = Date.now();
    lb = await startBalancer([`127.0.0.1:${server.port}`]);
    const inode = await listeningInode(server.port);
    await eventually(async () => {
      const pids = await childPids(server.child.pid!);
      return pids.length === 2 && (await Promise.all(pids.map((p) => holdsSocket(p, inode!)))).every(Boolean);
    }, 15_000, 'both workers hold the listening socket');
  });

  after(async () => {
    // A failed assertion mid-test must not leave the load running.
    await Promise.all(loads.map((l) => l.stop()));
    await lb?.stop();
    await server?.stop();
    await db?.drop();
  });

  it('when a worker dies mid-load, then a new one is listening again, and fewer than 0.1 % of requests fail and none hangs', async () => {
    const primary = server.child.pid!;
    const inode = (await listeningInode(server.port))!;
    const [victim, survivor] = (await childPids(primary)) as [number, number];
    const accessLog = path.join(lb.dir, 'logs', 'access.log');

    const load = startRecorder({ url: lb.url, path: fleetPath(PRODUCTS), concurrency: 16, requestTimeoutMs: 15_000 });
    loads.push(load);
    // At least 1 s of load, and a victim older than the primary's 5 s crash-loop window: a
    // worker that has been serving, not one dying at start-up (that one is retried after 100 ms).
    await sleep(Math.max(1000, startedAt + 5500 - Date.now()));
    const sentBeforeKill = load.samples.length;
    const logFrom = fs.statSync(accessLog).size;
    const killedAt = performance.now();
    process.kill(victim, 'SIGKILL');

    // The replacement: first as a new child of the primary, then holding the listening socket.
    let replacement = 0;
    await eventually(async () => {
      replacement = (await childPids(primary)).find((p) => p !== victim && p !== survivor) ?? 0;
      return replacement !== 0;
    }, 10_000, 'the primary forks a replacement');
    const forkedMs = performance.now() - killedAt;
    await eventually(() => holdsSocket(replacement, inode), 10_000, 'the replacement worker listens');
    const listeningMs = performance.now() - killedAt;

    await sleep(2000);
    const samples = await load.stop();
    const afterKill = samples.length - sentBeforeKill;
    const failed = samples.filter((s) => !(s.status >= 200 && s.status < 300) && s.status !== 304);
    const hung = samples.filter((s) => s.error === 'timed out');
    const retried = (fs.readFileSync(accessLog, 'utf8').slice(logFrom).match(/upstream=127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+ /g) ?? []).length;
    console.log(
      `      worker replaced: forked ${forkedMs.toFixed(0)} ms and listening ${listeningMs.toFixed(0)} ms after SIGKILL; ` +
        `${samples.length} requests (${afterKill} after the kill), ${failed.length} failed ${JSON.stringify(statusCounts(failed))}, ` +
        `${retried} re-sent by nginx`,
    );

    expect(afterKill, 'requests sent after the kill').to.be.greaterThan(500);
    expect(hung.length, 'hung requests').to.equal(0);
    expect(failed.length / samples.length, JSON.stringify(statusCounts(failed))).to.be.below(0.001);
    // The first death of a healthy worker is replaced at once (no crash-loop backoff).
    const deaths = server
      .output()
      .split('\n')
      .filter((l) => l.includes('worker died'))
      .map((l) => JSON.parse(l) as { signal?: string; restartInMs?: number });
    expect(deaths).to.have.length(1);
    expect(deaths[0]).to.include({ signal: 'SIGKILL', restartInMs: 0 });
    expect(await childPids(primary)).to.have.members([survivor, replacement]);
  });

  it('when answers pass through nginx or come straight from the service, then no header names a product or version', async () => {
    for (const url of [`${lb.url}/products/1`, `${lb.url}/products/999999`, `${server.url}/products/1`, `${server.url}/nope`]) {
      const res = await fetch(url);
      expect(res.headers.get('x-powered-by'), url).to.equal(null);
      // nginx says only its name (server_tokens off); the service sends no Server header at all.
      expect(res.headers.get('server') ?? '', url).to.match(url.startsWith(lb.url) ? /^nginx$/ : /^$/);
      for (const [name, value] of res.headers) expect(`${name}: ${value}`, url).to.not.match(/\d+\.\d+\.\d+|node|koa|express/i);
    }
  });
});
