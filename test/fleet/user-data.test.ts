import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { projectRoot } from '../../src/project-paths';
import { fillTemplate, renderUserData, runUserData } from '../../src/fleet/user-data';
import { DEFAULT_NODE_URL, parseUserDataArgs, ROLES, TEMPLATE_ENV_KEYS, type Role, type UserDataInputs } from '../../src/fleet/user-data-args';
import { requireBinary } from '../support/binaries';
import { usageErrorOf } from '../support/usage-error';

const RELEASE_URL = 'https://releases.example/atelier/atelier-products-1.0.0-557d6c6a1b2c.tar.gz?X-Amz-Expires=3600&sig=a%2Fb';
const RELEASE_SHA = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
const NODE_SHA = '3c8d2ec1d8f1c9fbd67e2b1e6b3c6bd6b5e1f0a6a2f0f2f3b6e8c1d2e3f4a5b6';
const DB_URL = 'postgres://atelier:s3cret-Owner@10.0.1.10:5432/atelier?sslmode=require';
const REPLICA_URLS = ['postgres://atelier:s3cret-Owner@10.0.1.11:5432/atelier', 'postgresql://atelier:s3cret-Owner@10.0.1.12/atelier'];
const OWNER_PW = 'Owner-pw_0123456789abcd';
const REPL_PW = 'Repl-pw_9876543210zyxw';
const RELEASE_ARGS = ['--release-url', RELEASE_URL, '--release-sha256', RELEASE_SHA, '--node-sha256', NODE_SHA];

const VALID: Record<Role, string[]> = {
  app: ['--role', 'app', ...RELEASE_ARGS, '--database-url', DB_URL, '--replica-url', REPLICA_URLS[0]!, '--replica-url', REPLICA_URLS[1]!, '--env', 'LOG_LEVEL=debug', '--env', 'CORS_ALLOW_ORIGINS=https://shop.example'],
  lb: ['--role', 'lb', ...RELEASE_ARGS, '--upstream', '10.0.2.5:3000,10.0.2.6:3000', '--upstream', 'app-3.internal:3000', '--listen', '10.0.0.2:8080', '--cors-allow-origins', 'https://shop.example'],
  'postgres-primary': ['--role', 'postgres-primary', '--owner-password', OWNER_PW, '--replication-password', REPL_PW, '--allow-cidr', '10.0.2.0/24,10.0.3.0/24', '--allow-cidr', 'fd00:ec2::/56'],
  'postgres-replica': ['--role', 'postgres-replica', '--primary-host', 'pg-primary.internal', '--replication-password', REPL_PW, '--allow-cidr', '10.0.2.0/24'],
};
/** Values that must each appear exactly once in the rendered text. */
const ONCE: Record<Role, string[]> = {
  app: [RELEASE_URL, RELEASE_SHA, NODE_SHA, DEFAULT_NODE_URL, DB_URL, REPLICA_URLS.join(','), 'LOG_LEVEL="debug"', 'https://shop.example'],
  lb: [RELEASE_URL, RELEASE_SHA, NODE_SHA, DEFAULT_NODE_URL, "'10.0.2.5:3000'", "'10.0.2.6:3000'", "'app-3.internal:3000'", "'10.0.0.2:8080'", 'https://shop.example'],
  'postgres-primary': [OWNER_PW, REPL_PW],
  'postgres-replica': ['pg-primary.internal', REPL_PW],
};

type Doc = { package_update: boolean; packages: string[]; write_files: Array<Record<string, string | boolean>>; runcmd: string[]; final_message: string };
// PyYAML, which cloud-init reads user-data with, speaks YAML 1.1.
const parse = (text: string): Doc => YAML.parse(text, { version: '1.1' }) as Doc;
const script = (doc: Doc): string => {
  expect(doc.runcmd, 'runcmd is one script').to.have.length(1);
  return doc.runcmd[0]!;
};
const file = (doc: Doc, p: string): Record<string, string | boolean> => {
  const found = doc.write_files.filter((f) => f.path === p);
  expect(found, p).to.have.length(1);
  return found[0]!;
};
const sh = (code: string): string => {
  const res = spawnSync('/bin/sh', ['-c', code], { encoding: 'utf8' });
  expect(res.status, res.stderr).to.equal(0);
  return res.stdout;
};
/** The shell variables the script's input lines (before `step=start`) define, evaluated by sh. */
function shellInputs(runcmd: string, names: string[]): string[] {
  const prefix = runcmd.slice(0, runcmd.indexOf('\nstep=start\n'));
  return sh(`${prefix}\nprintf '%s\\0' ${names.map((n) => `"$${n}"`).join(' ')}`).split('\0').slice(0, -1);
}
/** An EnvironmentFile as sh reads it (the renderer escapes exactly what systemd and sh both decode). */
function envFile(content: string, keys: string[]): string[] {
  return sh(`set -a\n${content}\nprintf '%s\\0' ${keys.map((k) => `"$${k}"`).join(' ')}`).split('\0').slice(0, -1);
}
/** The arguments the lb's script passes to nginx-config, as the shell splits them. */
function nginxConfigArgs(runcmd: string): string[] {
  const start = runcmd.indexOf('/usr/local/bin/node /opt/atelier/current/dist/src/fleet/cli.js nginx-config');
  const end = runcmd.indexOf('\n/usr/sbin/nginx -t', start);
  const command = runcmd.slice(start, end).replace('/usr/local/bin/node /opt/atelier/current/dist/src/fleet/cli.js', "printf '%s\\0'");
  return sh(command).split('\0').slice(0, -1);
}
const occurrences = (text: string, value: string): number => text.split(value).length - 1;
const usageError = usageErrorOf(parseUserDataArgs);
const inOrder = (text: string, needles: string[]): void => {
  let at = -1;
  for (const needle of needles) {
    const next = text.indexOf(needle, at + 1);
    expect(next, `${needle} after the previous step`).to.be.greaterThan(at);
    at = next;
  }
};

describe('cloud-init user-data (fleet user-data)', () => {
  const installRelease = path.join(projectRoot(), 'deploy', 'install-release.sh');
  before(() => {
    // The lb and app user-data embed it: the real file, never a stand-in.
    expect(fs.existsSync(installRelease), `${installRelease} (written with deploy/activate.sh)`).to.equal(true);
  });

  describe('checked by Debian cloud-init and its YAML reader', () => {
    let dir: string;
    let cloudInit: string;
    let python: string;
    before(function () {
      cloudInit = requireBinary(this, 'cloud-init', 'cloud-init');
      python = requireBinary(this, 'python3', 'python3-yaml');
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'user-data-'));
    });
    after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

    /** `cloud-init schema` exits 0, and PyYAML reads what the yaml package reads. */
    const accepted = (name: string, text: string): void => {
      const f = path.join(dir, `${name}.yaml`);
      fs.writeFileSync(f, text);
      const res = spawnSync(cloudInit, ['schema', '--config-file', f], { encoding: 'utf8' });
      expect(res.status, `${res.stdout}${res.stderr}`).to.equal(0);
      expect(res.stdout).to.include('Valid cloud-config');
      const py = spawnSync(python, ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1], encoding="utf-8"))))', f], { encoding: 'utf8' });
      expect(py.status, py.stderr).to.equal(0);
      expect(JSON.parse(py.stdout)).to.deep.equal(parse(text));
    };

    for (const role of ROLES) {
      it(`when role ${role} is rendered with valid inputs, then cloud-init schema accepts it and PyYAML reads the same document`, () => {
        accepted(role, runUserData(VALID[role]));
      });
    }

    it('when every value is hostile (quotes, $(), backticks, YAML indicators) and no check ran, then each role still parses the same and the shell gets the values intact', () => {
      const marker = path.join(dir, 'pwned');
      const h = `x' "y" $(touch ${marker}) \`touch ${marker}\` \${HOME} \\ ; | & #: - {a: [b]} &a *a !!python/object:os.system --- ... %YAML '\\''z`;
      const release = { releaseUrl: h, releaseSha256: h, nodeUrl: h, nodeSha256: h };
      const rendered: Record<Role, string> = {
        app: renderUserData({ role: 'app', ...release, databaseUrl: h, replicaUrls: [h], env: [['EXTRA', h]] }),
        lb: renderUserData({ role: 'lb', ...release, upstreams: [h, h], listen: h, corsAllowOrigins: h }),
        'postgres-primary': renderUserData({ role: 'postgres-primary', ownerPassword: h, replicationPassword: h, allowCidrs: ['10.0.0.0/8'] }),
        'postgres-replica': renderUserData({ role: 'postgres-replica', primaryHost: h, replicationPassword: h, allowCidrs: ['10.0.0.0/8'] }),
      };
      for (const role of ROLES) {
        accepted(`hostile-${role}`, rendered[role]);
        const doc = parse(rendered[role]);
        const valid = parse(runUserData(VALID[role]));
        expect(Object.keys(doc), role).to.deep.equal(Object.keys(valid));
        expect(doc.write_files.map((f) => f.path), role).to.deep.equal(valid.write_files.map((f) => f.path));
        expect(doc.runcmd, role).to.have.length(1);
      }
      const app = parse(rendered.app);
      expect(shellInputs(script(app), ['release_url', 'release_sha256', 'node_url', 'node_sha256'])).to.deep.equal([h, h, h, h]);
      const env = file(app, '/etc/atelier/atelier.env').content as string;
      expect(envFile(env, ['DATABASE_URL', 'DATABASE_REPLICA_URLS', 'EXTRA', 'PORT'])).to.deep.equal([h, h, h, '3000']);
      const lb = script(parse(rendered.lb));
      expect(shellInputs(lb, ['release_url', 'node_url'])).to.deep.equal([h, h]);
      expect(nginxConfigArgs(lb)).to.deep.equal(['nginx-config', '--out', '/etc/atelier-nginx', '--listen', h, '--status-listen', '127.0.0.1:8081', '--cors-allow-origins', h, '--upstream', h, '--upstream', h]);
      expect(shellInputs(script(parse(rendered['postgres-primary'])), ['owner_password', 'replication_password'])).to.deep.equal([h, h]);
      const replica = parse(rendered['postgres-replica']);
      expect(shellInputs(script(replica), ['primary_host'])).to.deep.equal([h]);
      const pgpass = (file(replica, '/var/lib/postgresql/.pgpass').content as string).trimEnd();
      expect(pgpass.split(/(?<!\\):/).map((f) => f.replace(/\\(.)/g, '$1'))).to.deep.equal(['*', '*', 'replication', 'replicator', h]);
      for (const role of ROLES) sh(`sh -n -c ${"'"}${script(parse(rendered[role])).replaceAll("'", `'\\''`)}'`);
      expect(fs.existsSync(marker), 'nothing was executed').to.equal(false);
    });
  });

  describe('what each role does', () => {
    for (const role of ROLES) {
      it(`when role ${role} is rendered twice, then the bytes are the same, fit EC2's 16 KiB and every input appears exactly once`, () => {
        const text = runUserData(VALID[role]);
        expect(runUserData(VALID[role])).to.equal(text);
        expect(text.startsWith('#cloud-config\n')).to.equal(true);
        expect(Buffer.byteLength(text)).to.be.below(16 * 1024);
        for (const value of ONCE[role]) expect(occurrences(text, value), value).to.equal(1);
        expect(text).not.to.match(/\{\{\w+\}\}/);
      });

      it(`when role ${role} is rendered, then its script is valid sh with set -eu first and reports success or the failed step`, () => {
        const doc = parse(runUserData(VALID[role]));
        const s = script(doc);
        sh(`sh -n -c '${s.replaceAll("'", `'\\''`)}'`);
        expect(s.startsWith('set -eu\n')).to.equal(true);
        expect(s).to.include('trap ').and.to.include('atelier: FAILED');
        expect(s).to.match(/echo "atelier: [^"]*ready/);
        expect(doc.package_update).to.equal(true);
        expect(doc.final_message).to.include('atelier: FAILED');
      });
    }

    it('when role app is rendered, then Node, the installer and activate.sh run in order and the EnvironmentFile holds every setting', () => {
      const doc = parse(runUserData(VALID.app));
      expect(doc.packages).to.have.members(['ca-certificates', 'curl', 'xz-utils', 'prometheus-node-exporter']);
      const installer = file(doc, '/usr/local/sbin/atelier-install-release');
      expect(installer).to.include({ permissions: '0755', owner: 'root:root', encoding: 'b64' });
      expect(Buffer.from(installer.content as string, 'base64').equals(fs.readFileSync(installRelease))).to.equal(true);
      const env = file(doc, '/etc/atelier/atelier.env');
      expect(env).to.include({ permissions: '0600', owner: 'root:root' });
      const lines = (env.content as string).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
      const keys = lines.map((l) => l.slice(0, l.indexOf('=')));
      expect(keys).to.deep.equal([...TEMPLATE_ENV_KEYS, 'LOG_LEVEL', 'CORS_ALLOW_ORIGINS']);
      expect(envFile(env.content as string, keys)).to.deep.equal([DB_URL, REPLICA_URLS.join(','), '3000', '0.0.0.0', '9464', '0.0.0.0', 'debug', 'https://shop.example']);
      const s = script(doc);
      expect(shellInputs(s, ['release_url', 'release_sha256', 'node_url', 'node_sha256'])).to.deep.equal([RELEASE_URL, RELEASE_SHA, DEFAULT_NODE_URL, NODE_SHA]);
      inOrder(s, [
        'curl -fsSL --proto \'=https\'', '"$node_url"',
        'echo "$node_sha256  $tmp/node.tar.xz" | sha256sum -c --strict -',
        'tar -C /usr/local --strip-components=1 --no-same-owner -xJf "$tmp/node.tar.xz"',
        'out=$(/usr/local/sbin/atelier-install-release "$release_url" "$release_sha256")',
        '"/opt/atelier/$v/deploy/activate.sh" "$v" --started-only',
      ]);
    });

    it('when role lb is rendered, then Debian nginx is disabled, the release renders nginx-config with every upstream, and the units start', () => {
      const doc = parse(runUserData(VALID.lb));
      expect(doc.packages).to.have.members(['nginx', 'prometheus-nginx-exporter', 'prometheus-node-exporter', 'ca-certificates', 'curl', 'xz-utils']);
      expect(file(doc, '/usr/local/sbin/atelier-install-release')).to.include({ permissions: '0755', encoding: 'b64' });
      expect(doc.write_files).to.have.length(1);
      const s = script(doc);
      expect(nginxConfigArgs(s)).to.deep.equal([
        'nginx-config', '--out', '/etc/atelier-nginx', '--listen', '10.0.0.2:8080', '--status-listen', '127.0.0.1:8081',
        '--cors-allow-origins', 'https://shop.example', '--upstream', '10.0.2.5:3000', '--upstream', '10.0.2.6:3000', '--upstream', 'app-3.internal:3000',
      ]);
      inOrder(s, [
        'sha256sum -c --strict -',
        'out=$(/usr/local/sbin/atelier-install-release "$release_url" "$release_sha256")',
        'systemctl disable --now nginx.service',
        'ln -sfn "/opt/atelier/$v" /opt/atelier/current',
        '/usr/local/bin/node /opt/atelier/current/dist/src/fleet/cli.js nginx-config --out /etc/atelier-nginx',
        'install -m 0644 /opt/atelier/current/deploy/systemd/atelier-nginx.service /etc/systemd/system/',
        '/opt/atelier/current/deploy/systemd/prometheus-nginx-exporter.service.d/*.conf',
        'systemctl daemon-reload',
        'systemctl enable --now atelier-nginx.service',
        'systemctl restart prometheus-nginx-exporter',
      ]);
      const defaults = parse(runUserData(VALID.lb.slice(0, VALID.lb.indexOf('--listen'))));
      expect(nginxConfigArgs(script(defaults))).to.include.ordered.members(['nginx-config', '--out', '/etc/atelier-nginx', '--listen', '80', '--status-listen', '127.0.0.1:8081', '--upstream']);
    });

    it('when role postgres-primary is rendered, then settings and pg_hba lines are written after the package and the SQL takes the passwords as psql variables', () => {
      const doc = parse(runUserData(VALID['postgres-primary']));
      expect(doc.packages).to.have.members(['postgresql', 'prometheus-node-exporter', 'prometheus-postgres-exporter']);
      const conf = file(doc, '/etc/postgresql/15/main/conf.d/atelier.conf');
      expect(conf).to.include({ defer: true, owner: 'postgres:postgres' });
      for (const setting of ["listen_addresses = '*'", 'wal_level = replica', 'max_wal_senders = 10', 'hot_standby = on', 'password_encryption = scram-sha-256']) {
        expect(conf.content).to.include(`\n${setting}\n`);
      }
      const hba = file(doc, '/etc/postgresql/15/main/pg_hba.conf');
      expect(hba).to.include({ defer: true, append: true, owner: 'postgres:postgres', permissions: '0640' });
      const rules = (hba.content as string).split('\n').filter((l) => l.startsWith('host'));
      expect(rules).to.deep.equal(['10.0.2.0/24', '10.0.3.0/24', 'fd00:ec2::/56'].flatMap((c) => [
        `host atelier atelier ${c} scram-sha-256`, `host atelier atelier_reader ${c} scram-sha-256`, `host replication replicator ${c} scram-sha-256`,
      ]));
      const s = script(doc);
      expect(shellInputs(s, ['owner_password', 'replication_password'])).to.deep.equal([OWNER_PW, REPL_PW]);
      inOrder(s, [
        "awk '$1 == \"MemTotal:\"", 'conf.d/atelier-memory.conf',
        'systemctl restart postgresql@15-main.service',
        'runuser -u postgres -- psql -X -q -d postgres -v ON_ERROR_STOP=1 -v owner_pw="$owner_password" -v repl_pw="$replication_password"',
        "ALTER ROLE atelier LOGIN CREATEROLE PASSWORD :'owner_pw';",
        "SELECT 'CREATE DATABASE atelier OWNER atelier'",
        "ALTER ROLE replicator REPLICATION LOGIN PASSWORD :'repl_pw';",
      ]);
    });

    it('when role postgres-replica is rendered, then the password is only in a 0600 .pgpass and pg_basebackup -R clones the primary into an empty cluster', () => {
      const doc = parse(runUserData(VALID['postgres-replica']));
      const primary = parse(runUserData(VALID['postgres-primary']));
      const pgpass = file(doc, '/var/lib/postgresql/.pgpass');
      expect(pgpass).to.include({ defer: true, owner: 'postgres:postgres', permissions: '0600', content: `*:*:replication:replicator:${REPL_PW}\n` });
      const conf = '/etc/postgresql/15/main/conf.d/atelier.conf';
      expect(file(doc, conf).content, 'a standby needs the same limits as its primary').to.equal(file(primary, conf).content);
      const rules = (file(doc, '/etc/postgresql/15/main/pg_hba.conf').content as string).split('\n').filter((l) => l.startsWith('host'));
      expect(rules).to.deep.equal(['host atelier atelier 10.0.2.0/24 scram-sha-256', 'host atelier atelier_reader 10.0.2.0/24 scram-sha-256']);
      const s = script(doc);
      expect(s).not.to.include(REPL_PW);
      expect(shellInputs(s, ['primary_host'])).to.deep.equal(['pg-primary.internal']);
      inOrder(s, [
        'systemctl stop postgresql@15-main.service',
        'find "$data" -mindepth 1 -delete',
        'runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_basebackup -h "$primary_host" -U replicator -w -D "$data" -R -X stream',
        'systemctl start postgresql@15-main.service',
        "SELECT pg_is_in_recovery()",
      ]);
    });
  });

  describe('inputs that are refused', () => {
    it('when several inputs are bad, then one usage error names every bad option', () => {
      const message = usageError(['--role', 'lb', '--release-url', 'http://releases.example/a.tar.gz', '--release-sha256', 'abc', '--node-sha256', NODE_SHA,
        '--upstream', '10.0.0.5 :3000', '--upstream', '10.0.0.6:3000;evil', '--listen', '80;', '--cors-allow-origins', 'shop.example']);
      for (const bad of ['--release-url must be an https:// URL (got "http://releases.example/a.tar.gz")', '--release-sha256 must be a sha256', '--upstream must be HOST:PORT', '"10.0.0.5 :3000"', '"10.0.0.6:3000;evil"', '--listen', '--cors-allow-origins']) {
        expect(message).to.include(bad);
      }
    });

    it('when the database URLs are not postgres:// or the passwords hold a quote, then each is named and no secret is echoed', () => {
      const app = usageError(['--role', 'app', ...RELEASE_ARGS, '--database-url', 'mysql://u:secretpw@h/db', '--replica-url', 'http://u:secretpw@h/db']);
      expect(app).to.include('--database-url must be a postgres://').and.include('--replica-url must be a postgres://').and.not.include('secretpw');
      const pg = usageError(['--role', 'postgres-primary', '--owner-password', "Owner'pw_0123456789", '--replication-password', 'short', '--allow-cidr', '0.0.0.0/0']);
      expect(pg).to.include('--owner-password must be 16 to 128').and.include('--replication-password must be 16 to 128').and.include('--allow-cidr must not be /0');
      expect(pg).not.to.include("Owner'pw");
    });

    it('when any value of any role holds a newline, then that option is named', () => {
      for (const role of ROLES) {
        const argv = VALID[role];
        for (let i = 2; i < argv.length; i += 2) {
          const bad = [...argv];
          bad[i + 1] = `${bad[i + 1]}\nruncmd: [reboot]`;
          expect(usageError(bad), `${role} ${argv[i]}`).to.include(`${argv[i]} must not contain a line break`);
        }
      }
    });

    it('when required options are missing or belong to another role, then each is named', () => {
      const message = usageError(['--role', 'postgres-replica', '--owner-password', OWNER_PW]);
      expect(message).to.include('--owner-password is not an option of role postgres-replica');
      for (const name of ['--primary-host', '--replication-password', '--allow-cidr']) expect(message).to.include(`role postgres-replica needs ${name}`);
      expect(usageError(['--role', 'db'])).to.equal('--role must be one of app, lb, postgres-primary, postgres-replica (got "db")');
      expect(usageError(['--bogus', 'x', 'stray'])).to.include('unknown option --bogus').and.include('unexpected argument "stray"');
    });

    it('when --env sets a template key, a bad key, a key twice or a value the service refuses, then each is named', () => {
      const message = usageError(['--role', 'app', ...RELEASE_ARGS, '--database-url', DB_URL, '--env', 'PORT=80', '--env', 'lower=1', '--env', 'NOEQUALS']);
      expect(message).to.include('--env cannot set PORT').and.include('"lower"').and.include('"NOEQUALS"');
      expect(usageError(['--role', 'app', ...RELEASE_ARGS, '--database-url', DB_URL, '--env', 'A=1', '--env', 'A=2'])).to.include('--env A is given twice');
      expect(usageError(['--role', 'app', ...RELEASE_ARGS, '--database-url', DB_URL, '--env', 'LOG_LEVEL=loud'])).to.include('--env LOG_LEVEL must be one of');
    });

    it('when a value that passed no check holds a line break or a control character, or an allow-cidr is not a CIDR, then the renderer refuses it', () => {
      const base: UserDataInputs = { role: 'app', releaseUrl: 'https://x', releaseSha256: 'a', nodeUrl: 'https://y', nodeSha256: 'b', databaseUrl: 'postgres://h', replicaUrls: [], env: [] };
      for (const bad of ['\n', '\r', '\u0085', '\u2028', '\u2029', '\u0000', '\u001b', '\ud800']) {
        expect(() => renderUserData({ ...base, releaseUrl: `https://x${bad}- evil` }), JSON.stringify(bad)).to.throw('line break or control character');
        expect(() => renderUserData({ ...base, env: [['A', `1${bad}B=2`]] }), JSON.stringify(bad)).to.throw('line break or control character');
      }
      expect(() => renderUserData({ ...base, env: [['A=1\nB', '2']] })).to.throw(/line break|not a KEY/);
      expect(() => renderUserData({ role: 'postgres-primary', ownerPassword: 'p', replicationPassword: 'r', allowCidrs: ['all'] })).to.throw('allow-cidr');
    });

    it('when a template and the code disagree on placeholders, then rendering fails instead of leaving one', () => {
      expect(() => fillTemplate('a: {{X}}\n', {}, 't.yaml')).to.throw('unknown placeholder {{X}} in t.yaml');
      expect(() => fillTemplate('a: 1\n', { X: '1' }, 't.yaml')).to.throw('t.yaml lacks the placeholder(s) X');
      expect(fillTemplate('a: |\n  {{X}}\n  {{Y}}\nb: 1\n', { X: 'one\ntwo', Y: '' }, 't.yaml')).to.equal('a: |\n  one\n  two\nb: 1\n');
    });
  });
});
