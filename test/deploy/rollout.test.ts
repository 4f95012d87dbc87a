import { expect } from 'chai';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { killGroup } from '../../src/fleet/process';
import { alive, assertBuilt, startFleetProcess, type FleetProcess } from '../fleet/fleet-process';
import { fleetCatalog, fleetPath } from '../fleet/fixture';
import { startLoad } from '../fleet/load';
import { loadCatalog } from '../support/catalog';
import { createTestDatabase, freePort, type TestDatabase } from '../support/postgres';
import { installRelease, openTempDir, sharedRelease } from '../support/release';
import { requireNginx } from './nginx-harness';

const run = promisify(execFile);
const ROLLOUT = path.join(__dirname, '..', '..', 'deploy', 'rollout.sh');
const ACTIVATE = path.join(__dirname, 'fleet-activate.sh');
const PRODUCTS = 40;

/** Polls /readyz through nginx and keeps every version it names, in order of arrival. */
function watchVersions(url: string): { seen: () => string[]; stop: () => Promise<void> } {
  const seen: string[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const res = await fetch(`${url}/readyz`).catch(() => undefined);
      if (res?.status === 200) seen.push(((await res.json()) as { version: string }).version);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return { seen: () => seen, stop: async () => void ((stopped = true), await loop) };
}

describe('deploy/rollout.sh: a rolling deploy of a 3-instance npm run fleet, under load', function () {
  this.timeout(240_000);
  let db: TestDatabase;
  let fleet: FleetProcess | undefined;
  let root: string;
  let runDir: string;
  let url: string;
  let from: string;
  let to: string;

  before(async function () {
    requireNginx(this);
    assertBuilt();
    const release = await sharedRelease();
    root = openTempDir('atelier-roll-');
    runDir = openTempDir('atelier-roll-fleet-');
    // Two releases: the package of HEAD, and a copy of it that says it is the next version.
    from = await installRelease(root, release);
    to = `${from}.next`;
    fs.cpSync(path.join(root, from), path.join(root, to), { recursive: true, verbatimSymlinks: true });
    fs.writeFileSync(path.join(root, to, 'VERSION'), `${to}\n`);
    fs.symlinkSync(from, path.join(root, 'current'));

    db = await createTestDatabase();
    await loadCatalog(db.url, fleetCatalog(PRODUCTS));
    fleet = startFleetProcess(
      ['--instances', '3', '--port', String(await freePort()), '--workers', '1', '--run-dir', runDir, '--release', path.join(root, 'current')],
      { DATABASE_URL: db.url, SHUTDOWN_TIMEOUT_MS: '3000' },
    );
    await fleet.waitFor(/^fleet: ready: /m, 60_000);
    url = fleet.url();
  });

  after(async () => {
    const pids = fleet?.pids() ?? [];
    await fleet?.stop();
    for (const pid of pids) killGroup(pid, 'SIGKILL');
    for (const m of fleet?.output().matchAll(/restarted \(pid (\d+)\)/g) ?? []) killGroup(Number(m[1]), 'SIGKILL');
    await db?.drop();
    for (const dir of [root, runDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Runs rollout.sh to `version` over every instance while the load runs; what the clients saw. */
  async function roll(version: string) {
    const instances = fleet!.instances().map((i) => `127.0.0.1:${i.port}`);
    const load = startLoad({ url, path: fleetPath(PRODUCTS), concurrency: 8 });
    const versions = watchVersions(url);
    const { stderr } = await run('bash', [ROLLOUT, version, ...instances], {
      env: { ...process.env, ATELIER_NGINX_PREFIX: runDir, ATELIER_ACTIVATE: ACTIVATE, ATELIER_ROOT: root, FLEET_RUN_DIR: runDir },
    });
    // Traffic goes on a moment on the new set, then stops.
    await new Promise((r) => setTimeout(r, 500));
    await versions.stop();
    const result = await load.stop();
    return { result, seen: versions.seen(), stderr, instances };
  }

  async function versionsOf(instances: string[]): Promise<string[]> {
    return Promise.all(instances.map(async (i) => ((await (await fetch(`http://${i}/readyz`)).json()) as { version: string }).version));
  }

  it('when rolled to the next version, then every request is answered, both versions serve during the roll and only the new one after', async () => {
    const { result, seen, stderr, instances } = await roll(to);
    expect(result.failed, JSON.stringify(result.reasons)).to.equal(0);
    expect(result.ok).to.be.above(500);
    expect(seen).to.include(from);
    expect(seen).to.include(to);
    // Once an instance serves `to`, no answer comes from `from` after the roll's last step.
    expect(seen.slice(-5)).to.deep.equal(Array(5).fill(to));
    expect(await versionsOf(instances)).to.deep.equal([to, to, to]);
    expect(stderr).to.include(`rollout: done: ${instances.join(' ')} on ${to}`);
    expect(alive(fleet!.child.pid!)).to.equal(true);
  });

  it('when rolled back the same way, then again no request fails and every instance runs the old version', async () => {
    const { result, seen, instances } = await roll(from);
    expect(result.failed, JSON.stringify(result.reasons)).to.equal(0);
    expect(seen).to.include(to);
    expect(seen).to.include(from);
    expect(seen.slice(-5)).to.deep.equal(Array(5).fill(from));
    expect(await versionsOf(instances)).to.deep.equal([from, from, from]);
  });

  it('when an instance is not in the upstream list, then rollout.sh refuses before touching anything', async () => {
    const before = fs.readFileSync(path.join(runDir, 'upstream.conf'), 'utf8');
    const err = await run('bash', [ROLLOUT, to, '127.0.0.1:1'], { env: { ...process.env, ATELIER_NGINX_PREFIX: runDir } }).catch((e: { stderr: string }) => e);
    expect((err as { stderr: string }).stderr).to.include('127.0.0.1:1 is not in');
    expect(fs.readFileSync(path.join(runDir, 'upstream.conf'), 'utf8')).to.equal(before);
  });
});
