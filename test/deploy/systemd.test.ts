import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { FEED_NICE } from '../../loadtest/bench/scenarios/feed-process';
import { loadConfig } from '../../src/config';
import { requireBinary } from '../support/binaries';
import { openTempDir } from '../support/release';
import { readUnitFile, unitValue, type UnitFile } from '../support/unit-file';

const SYSTEMD = path.join(__dirname, '..', '..', 'deploy', 'systemd');
const UNITS = ['atelier-products.service', 'atelier-nginx.service', 'atelier-change-feed.service'];
const DROP_IN = 'prometheus-nginx-exporter.service.d';

/**
 * A root folder for `systemd-analyze verify --root`: this machine's unit library, the deploy
 * units in /etc/systemd/system, and an executable at every absolute command path they name
 * (verify refuses a missing one; /usr/local/bin/node exists only on a deployed host).
 */
function unitRoot(files: Record<string, string> = {}): string {
  const root = openTempDir('atelier-systemd-');
  fs.mkdirSync(path.join(root, 'usr', 'lib', 'systemd'), { recursive: true });
  fs.cpSync('/usr/lib/systemd/system', path.join(root, 'usr', 'lib', 'systemd', 'system'), { recursive: true, verbatimSymlinks: true });
  const etc = path.join(root, 'etc', 'systemd', 'system');
  fs.cpSync(SYSTEMD, etc, { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(etc, name), text);
  const commands = new Set<string>();
  const units = [...UNITS.map((u) => path.join(etc, u)), '/usr/lib/systemd/system/prometheus-nginx-exporter.service'];
  for (const unit of units.filter((u) => fs.existsSync(u))) {
    for (const [key, values] of readUnitFile(unit).get('Service') ?? []) {
      if (key.startsWith('Exec')) for (const v of values) commands.add(v.replace(/^[-@:+!]+/, '').split(/\s+/)[0]!);
    }
  }
  for (const command of commands) {
    const file = path.join(root, command);
    if (fs.existsSync(file)) continue;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '#!/bin/sh\n', { mode: 0o755 });
  }
  return root;
}

function verify(root: string, units: string[]): { status: number | null; output: string } {
  const res = spawnSync('systemd-analyze', ['verify', `--root=${root}`, ...units], { encoding: 'utf8' });
  return { status: res.status, output: `${res.stdout}${res.stderr}`.trim() };
}

describe('deploy/systemd: the units an EC2 host runs', function () {
  this.timeout(60_000);
  const roots: string[] = [];
  const root = (files?: Record<string, string>): string => {
    const r = unitRoot(files);
    roots.push(r);
    return r;
  };
  let app: UnitFile;

  before(function () {
    requireBinary(this, 'systemd-analyze', 'systemd');
    app = readUnitFile(path.join(SYSTEMD, 'atelier-products.service'));
  });
  after(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));

  it('when systemd-analyze verify reads every unit and the exporter drop-in, then it has nothing to say', function () {
    if (!fs.existsSync('/usr/lib/systemd/system/prometheus-nginx-exporter.service')) {
      requireBinary(this, 'prometheus-nginx-exporter', 'prometheus-nginx-exporter');
    }
    // verify exits 0 even for unknown keys or bad values: any word from it is a failure.
    expect(verify(root(), [...UNITS, 'prometheus-nginx-exporter.service'])).to.deep.equal({ status: 0, output: '' });
  });

  it('when a unit has a misspelt setting, then verify reports it (the check above can fail)', () => {
    const broken = fs.readFileSync(path.join(SYSTEMD, 'atelier-products.service'), 'utf8').replace('KillSignal=', 'KilSignal=');
    const { output } = verify(root({ 'atelier-products.service': broken }), ['atelier-products.service']);
    expect(output).to.include("Unknown key 'KilSignal'");
  });

  it('when the service unit is read, then it restarts always, drains on SIGTERM within its stop timeout, and reads its settings from a file', () => {
    expect(unitValue(app, 'Service', 'Restart')).to.equal('always');
    expect(unitValue(app, 'Service', 'KillSignal')).to.equal('SIGTERM');
    // Above the service's own drain, with room for the workers to exit.
    expect(Number(unitValue(app, 'Service', 'TimeoutStopSec')) * 1000).to.be.at.least(loadConfig({}).shutdownTimeoutMs + 5_000);
    expect(unitValue(app, 'Service', 'EnvironmentFile')).to.equal('/etc/atelier/atelier.env');
    expect(unitValue(app, 'Service', 'ExecStart')).to.equal('/usr/local/bin/node /opt/atelier/current/dist/src/server.js');
    expect(Number(unitValue(app, 'Service', 'LimitNOFILE'))).to.be.at.least(65_536);
  });

  it('when the service unit is read, then it runs as an unprivileged user with a read-only system and no capabilities', () => {
    expect(unitValue(app, 'Service', 'User')).to.equal('atelier');
    const sysusers = fs.readFileSync(path.join(SYSTEMD, '..', 'sysusers.d', 'atelier.conf'), 'utf8');
    expect(sysusers).to.match(/^u atelier - .* \/usr\/sbin\/nologin$/m);
    for (const [key, value] of [
      ['ProtectSystem', 'strict'], ['ProtectHome', 'yes'], ['NoNewPrivileges', 'yes'], ['CapabilityBoundingSet', ''],
      ['PrivateTmp', 'yes'], ['PrivateDevices', 'yes'], ['RestrictAddressFamilies', 'AF_INET AF_INET6 AF_UNIX'],
    ] as const) {
      expect(unitValue(app, 'Service', key), key).to.equal(value);
    }
  });

  it("when systemd rates the units' exposure, then the service and the change feed score 2.0 or better and nginx 3.0 or better", () => {
    const r = root();
    const exposure = (unit: string): number => {
      const res = spawnSync('systemd-analyze', ['security', '--offline=true', `--root=${r}`, unit], { encoding: 'utf8' });
      const m = /Overall exposure level for \S+: ([\d.]+)/.exec(res.stdout);
      if (!m) throw new Error(`no exposure level in: ${res.stdout}${res.stderr}`);
      return Number(m[1]);
    };
    // 0 is fully sandboxed, 10 none. Node's JIT rules out MemoryDenyWriteExecute; the network is its job.
    expect(exposure('atelier-products.service')).to.be.at.most(2.0);
    expect(exposure('atelier-change-feed.service')).to.be.at.most(2.0);
    // nginx's master needs root to bind port 80/443 and read the key.
    expect(exposure('atelier-nginx.service')).to.be.at.most(3.0);
  });

  it('when the change feed unit is read, then it runs the feed on its own state folder as atelier, below the API in CPU priority, restarting always', () => {
    const feed = readUnitFile(path.join(SYSTEMD, 'atelier-change-feed.service'));
    expect(unitValue(feed, 'Service', 'ExecStart')).to.equal('/usr/local/bin/node /opt/atelier/current/dist/db/etl.js --changes-feed /var/lib/atelier/changes');
    expect(unitValue(feed, 'Service', 'StateDirectory')).to.equal('atelier/changes');
    expect(unitValue(feed, 'Service', 'User')).to.equal(unitValue(app, 'Service', 'User'));
    expect(unitValue(feed, 'Service', 'EnvironmentFile')).to.equal(unitValue(app, 'Service', 'EnvironmentFile'));
    expect(unitValue(feed, 'Service', 'Restart')).to.equal('always');
    expect(unitValue(feed, 'Service', 'KillSignal')).to.equal('SIGTERM');
    // The bench's changes scenario runs the feed at the same niceness (loadtest/bench/scenarios/feed-process.ts).
    expect(Number(unitValue(feed, 'Service', 'Nice'))).to.equal(FEED_NICE).and.to.be.greaterThan(0);
    // The same sandbox as the API's: what differs is a writable state folder, made by systemd.
    for (const key of ['ProtectSystem', 'ProtectHome', 'NoNewPrivileges', 'CapabilityBoundingSet', 'PrivateTmp', 'PrivateDevices', 'RestrictAddressFamilies', 'SystemCallFilter']) {
      expect(unitValue(feed, 'Service', key), key).to.equal(unitValue(app, 'Service', key));
    }
  });

  it('when the exporter drop-in is read, then it scrapes the stub_status listener that nginx-config renders by default', () => {
    const dropIn = readUnitFile(path.join(SYSTEMD, DROP_IN, 'atelier.conf'));
    expect(unitValue(dropIn, 'Service', 'Environment')).to.equal('SCRAPE_URI=http://127.0.0.1:8081/stub_status');
  });
});
