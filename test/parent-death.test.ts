import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { dieWithParent } from '../src/parent-death';
import { alive, assertBuilt, startFleetProcess, type FleetProcess } from './fleet/fleet-process';
import { requireNginx } from './deploy/nginx-harness';
import { freePort } from './support/postgres';
import { openTempDir } from './support/release';
import { startServer, type ServerProcess } from './support/server-process';
import { eventually } from './support/wait';

/** Every process below `pid` (children, theirs, …), read from the process table now. */
function descendants(pid: number): number[] {
  const table = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [child, ppid] of table) {
      if (ppid !== parent) continue;
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** The command of a pid, for a failure message. */
const command = (pid: number): string => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '(gone)';
  }
};

describe('dieWithParent', () => {
  it('when a command is wrapped on Linux, then setpriv sets the parent-death signal and execs it with its arguments', function () {
    if (!fs.existsSync('/usr/bin/setpriv')) this.skip();
    expect(dieWithParent('/usr/sbin/nginx', ['-g', 'daemon off;'], 'SIGQUIT')).to.deep.equal([
      '/usr/bin/setpriv',
      ['--pdeathsig', 'QUIT', '--', '/usr/sbin/nginx', '-g', 'daemon off;'],
    ]);
  });
});

describe('no orphans: a supervisor killed outright takes its children with it', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  let fleet: FleetProcess | undefined;
  let server: ServerProcess | undefined;
  const leftovers: number[] = [];

  after(() => {
    for (const pid of leftovers) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone, as it should be
      }
    }
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** SIGKILLs `pid` and expects every process below it gone within 10 s. */
  async function killAndExpectNoOrphans(pid: number, expectAtLeast: number, what: string): Promise<void> {
    const below = descendants(pid);
    expect(below.length, `${what}: processes below the supervisor`).to.be.at.least(expectAtLeast);
    leftovers.push(...below);
    process.kill(pid, 'SIGKILL');
    await eventually(() => below.every((p) => !alive(p)), 10_000, `${what}: no process left 10 s after SIGKILL`).catch((err: Error) => {
      throw new Error(`${err.message}; alive: ${below.filter(alive).map((p) => `${p} ${command(p)}`).join('; ')}`);
    });
  }

  it('when npm run fleet (embedded PostgreSQL, 2 instances, nginx) is SIGKILLed, then no process of it is alive 10 s later', async function () {
    requireNginx(this);
    assertBuilt();
    const runDir = openTempDir('atelier-orphans-fleet-');
    dirs.push(runDir);
    // No DATABASE_URL: the fleet owns one embedded PostgreSQL, in its own folder.
    fleet = startFleetProcess(['--instances', '2', '--workers', '1', '--port', String(await freePort()), '--run-dir', runDir], {
      EMBEDDED_PG_DIR: path.join(runDir, 'pg'),
      EMBEDDED_PG_PORT: String(await freePort()),
      EMBEDDED_PG_SHARED_BUFFERS_MB: '128',
      SAMPLE_PRODUCTS: '20',
    });
    await fleet.waitFor(/^fleet: ready: /m, 90_000);
    const nginx = fleet.pids().at(-1)!;
    expect(command(nginx)).to.include('nginx');
    // 2 instances with a worker each, nginx and its workers, PostgreSQL and its processes.
    await killAndExpectNoOrphans(fleet.child.pid!, 8, 'fleet');
  });

  it('when a service primary that owns its embedded PostgreSQL is SIGKILLed, then its workers and PostgreSQL stop', async () => {
    const dir = openTempDir('atelier-orphans-service-');
    dirs.push(dir);
    server = await startServer({
      WORKERS: '2',
      EMBEDDED_PG_DIR: path.join(dir, 'pg'),
      EMBEDDED_PG_PORT: String(await freePort()),
      EMBEDDED_PG_SHARED_BUFFERS_MB: '128',
      SAMPLE_PRODUCTS: '20',
      METRICS_PORT: '0',
    });
    await eventually(async () => (await fetch(`${server!.url}/readyz`).catch(() => undefined))?.status === 200, 60_000, 'the service is ready');
    const postgres = descendants(server.child.pid!).filter((p) => command(p).includes(path.join(dir, 'pg')));
    expect(postgres.length, 'the embedded PostgreSQL runs below the primary').to.be.at.least(1);
    await killAndExpectNoOrphans(server.child.pid!, 3, 'service');
  });
});
