import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseFleetArgs } from '../../src/fleet/args';
import { assertBuilt, FLEET_CLI } from './fleet-process';
import { usageErrorOf } from '../support/usage-error';

const usageError = usageErrorOf(parseFleetArgs);

describe('fleet command line (unit)', () => {
  describe('run (the default command)', () => {
    it('when no option is given, then 2 instances on port 8080, logs in .data/fleet, no microcache, the default workers and nginx', () => {
      expect(parseFleetArgs([])).to.deep.equal({ command: 'run', instances: 2, port: 8080, runDir: '.data/fleet', microcache: false });
    });

    it('when every option is given, as separate or inline values, then each is taken', () => {
      const expected = { command: 'run', instances: 3, port: 9090, workers: 4, runDir: '/tmp/f', microcache: true, nginxBin: '/opt/nginx', release: '/opt/atelier/current' };
      expect(
        parseFleetArgs(['--instances', '3', '--port', '9090', '--workers', '4', '--run-dir', '/tmp/f', '--microcache', '--nginx', '/opt/nginx', '--release', '/opt/atelier/current']),
      ).to.deep.equal(expected);
      expect(
        parseFleetArgs(['--instances=3', '--port=9090', '--workers=4', '--run-dir=/tmp/f', '--microcache', '--nginx=/opt/nginx', '--release=/opt/atelier/current']),
      ).to.deep.equal(expected);
    });

    it('when an option is repeated, then its last value counts', () => {
      expect(parseFleetArgs(['--port', '1', '--port', '2'])).to.include({ port: 2 });
    });

    it('when integer options are at their bounds, then they are accepted', () => {
      expect(parseFleetArgs(['--instances', '1', '--port', '1', '--workers', '1'])).to.include({ instances: 1, port: 1, workers: 1 });
      expect(parseFleetArgs(['--instances', '64', '--port', '65535', '--workers', '256'])).to.include({ instances: 64, port: 65535, workers: 256 });
    });

    for (const [name, raw, range] of [
      ['instances', '0', '1 to 64'],
      ['instances', '65', '1 to 64'],
      ['instances', 'two', '1 to 64'],
      ['port', '0', '1 to 65535'],
      ['port', '65536', '1 to 65535'],
      ['port', '80.5', '1 to 65535'],
      ['workers', '0', '1 to 256'],
      ['workers', '257', '1 to 256'],
      ['workers', '-1', '1 to 256'],
    ] as const) {
      it(`when --${name} is "${raw}", then a usage error names the option, its range and the value`, () => {
        expect(usageError([`--${name}`, raw])).to.equal(`--${name} must be an integer from ${range} (got "${raw}")`);
      });
    }

    it('when an option lacks its value, then a usage error says so', () => {
      expect(usageError(['--port'])).to.equal('--port needs a value');
      expect(usageError(['--microcache', '--run-dir'])).to.equal('--run-dir needs a value');
    });

    it('when a flag is given a value, then a usage error says it takes none', () => {
      expect(usageError(['--microcache=yes'])).to.equal('--microcache takes no value');
    });

    it('when options are unknown (or belong to nginx-config), then a usage error names each once', () => {
      expect(usageError(['--bogus'])).to.equal('unknown option --bogus');
      expect(usageError(['--out', 'x', '--upstream', 'a:1', '--out', 'y'])).to.equal('unknown options --out, --upstream');
      expect(usageError(['-x'])).to.equal('unknown option -x');
    });

    it('when a bare argument is given, then a usage error names it', () => {
      expect(usageError(['run'])).to.equal('unexpected argument run');
      expect(usageError(['--port', '1', 'extra'])).to.equal('unexpected argument extra');
      expect(usageError(['--instances', '2', 'nginx-config'])).to.equal('unexpected argument nginx-config');
    });
  });

  describe('nginx-config', () => {
    const base = ['nginx-config', '--out', 'conf', '--upstream', '10.0.0.5:3000'];

    it('when only --out and one --upstream are given, then the defaults: listen 80, status on 127.0.0.1:8081, no microcache, no exemptions, every origin', () => {
      expect(parseFleetArgs(base)).to.deep.equal({
        command: 'nginx-config',
        out: 'conf',
        upstreams: ['10.0.0.5:3000'],
        listen: '80',
        statusListen: '127.0.0.1:8081',
        microcache: false,
        limitExempt: [],
        corsAllowOrigins: '*',
      });
    });

    it('when every option is given, upstreams and exemptions repeated and upstreams comma-separated, then each is taken', () => {
      expect(
        parseFleetArgs([
          'nginx-config', '--out=/etc/lb', '--upstream', '10.0.0.5:3000', '--upstream=10.0.0.6:3000,10.0.0.7:3000',
          '--listen', '8080', '--status-listen', '127.0.0.1:9000', '--microcache',
          '--limit-exempt', '10.0.0.0/8', '--limit-exempt', '192.168.1.1',
          '--cors-allow-origins', 'https://shop.example,http://localhost:5173',
        ]),
      ).to.deep.equal({
        command: 'nginx-config',
        out: '/etc/lb',
        upstreams: ['10.0.0.5:3000', '10.0.0.6:3000', '10.0.0.7:3000'],
        listen: '8080',
        statusListen: '127.0.0.1:9000',
        microcache: true,
        limitExempt: ['10.0.0.0/8', '192.168.1.1'],
        corsAllowOrigins: ['https://shop.example', 'http://localhost:5173'],
      });
    });

    it('when --out or every --upstream is missing, then a usage error says which', () => {
      expect(usageError(['nginx-config', '--upstream', 'a:1'])).to.equal('nginx-config needs --out DIR');
      expect(usageError(['nginx-config', '--out', 'conf'])).to.equal('nginx-config needs at least one --upstream HOST:PORT');
    });

    it('when --cors-allow-origins is not a list of origins, then the usage error is the one CORS_ALLOW_ORIGINS gets, under the option\'s name', () => {
      expect(usageError([...base, '--cors-allow-origins', 'https://shop.example/path'])).to.match(
        /^--cors-allow-origins must be \* or a comma-separated list of origins.*did you mean "https:\/\/shop\.example"\?/,
      );
      expect(usageError([...base, '--cors-allow-origins', '*,https://shop.example'])).to.match(/^--cors-allow-origins .*"\*" cannot be combined with origins/);
    });

    it('when options are unknown (or belong to run), a value is missing or a bare argument is given, then a usage error says so', () => {
      expect(usageError([...base, '--instances', '2'])).to.equal('unknown option --instances');
      expect(usageError([...base, '--listen'])).to.equal('--listen needs a value');
      expect(usageError([...base, '--microcache=on'])).to.equal('--microcache takes no value');
      expect(usageError([...base, 'extra'])).to.equal('unexpected argument extra');
    });
  });

  describe('TLS options (run and nginx-config alike)', () => {
    // The parser checks that the files exist and are readable, not what they hold.
    let dir: string;
    let cert: string;
    let key: string;
    let chain: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-tls-args-'));
      [cert, key, chain] = ['cert.pem', 'key.pem', 'chain.pem'].map((name) => {
        fs.writeFileSync(path.join(dir, name), 'PEM\n');
        return path.join(dir, name);
      }) as [string, string, string];
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    const commands: Array<[string, string[]]> = [
      ['run', []],
      ['nginx-config', ['nginx-config', '--out', 'conf', '--upstream', '10.0.0.5:3000']],
    ];

    for (const [name, base] of commands) {
      it(`when ${name} gets --tls-cert and --tls-key, then it serves HTTPS with them as absolute paths, without HSTS or OCSP stapling`, () => {
        // A relative path is made absolute: nginx would resolve it against its own prefix.
        expect(parseFleetArgs([...base, '--tls-cert', path.relative(process.cwd(), cert), '--tls-key', key])).to.deep.include({
          tls: { cert, key, hsts: false },
        });
      });

      it(`when ${name} gets --hsts and OCSP stapling with resolvers (repeated, comma-separated) and a chain, then each is taken`, () => {
        const argv = [...base, '--tls-cert', cert, '--tls-key', key, '--hsts', '--tls-ocsp-stapling',
          '--tls-resolver', '127.0.0.53', '--tls-resolver=[::1]:53,1.1.1.1', '--tls-chain', chain];
        expect(parseFleetArgs(argv)).to.deep.include({
          tls: { cert, key, hsts: true, ocspStapling: { resolvers: ['127.0.0.53', '[::1]:53', '1.1.1.1'], chain } },
        });
      });

      it(`when ${name} gets no TLS option, then it serves plain HTTP (no tls at all)`, () => {
        expect(parseFleetArgs(base)).not.to.have.property('tls');
      });
    }

    it('when a certificate comes without its key or a key without its certificate, then a usage error says what is missing', () => {
      expect(usageError(['--tls-cert', cert])).to.equal("--tls-cert needs --tls-key FILE (the certificate's private key)");
      expect(usageError(['nginx-config', '--out', 'c', '--upstream', 'a:1', '--tls-key', key])).to.equal('--tls-key needs --tls-cert FILE (the certificate it belongs to)');
    });

    it('when HSTS or OCSP options come without a certificate, then a usage error says they need HTTPS', () => {
      expect(usageError(['--hsts'])).to.equal('--hsts only applies to HTTPS: give --tls-cert and --tls-key too');
      expect(usageError(['--hsts', '--tls-ocsp-stapling', '--tls-resolver', '1.1.1.1', '--tls-chain', chain])).to.equal(
        '--hsts, --tls-ocsp-stapling, --tls-resolver, --tls-chain only apply to HTTPS: give --tls-cert and --tls-key too',
      );
    });

    it('when OCSP stapling lacks a resolver or a chain, or those come without stapling, then a usage error says so', () => {
      const https = ['--tls-cert', cert, '--tls-key', key];
      expect(usageError([...https, '--tls-ocsp-stapling', '--tls-chain', chain])).to.match(/^--tls-ocsp-stapling needs --tls-resolver ADDR: the DNS server/);
      expect(usageError([...https, '--tls-ocsp-stapling', '--tls-resolver', '1.1.1.1'])).to.match(/^--tls-ocsp-stapling needs --tls-chain FILE: the CA certificates/);
      expect(usageError([...https, '--tls-resolver', '1.1.1.1'])).to.equal('--tls-resolver and --tls-chain are only used with --tls-ocsp-stapling');
      expect(usageError([...https, '--tls-chain', chain])).to.equal('--tls-resolver and --tls-chain are only used with --tls-ocsp-stapling');
    });

    for (const resolver of ['dns.example', '1.1.1.1;', '1.1.1.1 valid=1s', '::1', '']) {
      it(`when a resolver is "${resolver}", then a usage error asks for an IP address`, () => {
        const argv = ['--tls-cert', cert, '--tls-key', key, '--tls-ocsp-stapling', '--tls-chain', chain, `--tls-resolver=${resolver}`];
        expect(usageError(argv)).to.equal(`--tls-resolver must be an IP address, optionally with :port (got "${resolver}")`);
      });
    }

    it('when a file is missing or is a folder, then a usage error names the option and the path', () => {
      const missing = path.join(dir, 'missing.pem');
      expect(usageError(['--tls-cert', missing, '--tls-key', key])).to.equal(`--tls-cert ${missing}: no such file`);
      expect(usageError(['--tls-cert', cert, '--tls-key', dir])).to.equal(`--tls-key ${dir}: not a file`);
      const https = ['--tls-cert', cert, '--tls-key', key, '--tls-ocsp-stapling', '--tls-resolver', '1.1.1.1'];
      expect(usageError([...https, '--tls-chain', missing])).to.equal(`--tls-chain ${missing}: no such file`);
    });

    it('when a file is not readable by this user, then a usage error says so', function () {
      // root reads every file whatever its mode.
      if (process.getuid?.() === 0) this.skip();
      const secret = path.join(dir, 'secret.pem');
      fs.writeFileSync(secret, 'PEM\n', { mode: 0o000 });
      expect(usageError(['--tls-cert', cert, '--tls-key', secret])).to.equal(`--tls-key ${secret}: not readable by this user`);
    });

    for (const bad of ['/tmp/a.pem; include /etc/passwd', '/tmp/a"b.pem', '/tmp/$host.pem', '/tmp/a b.pem', '/tmp/a\nb.pem', '/tmp/{a}.pem', '/tmp/a\\b.pem']) {
      it(`when a path holds characters nginx would read as configuration (${JSON.stringify(bad)}), then a usage error refuses it before looking for the file`, () => {
        expect(usageError(['--tls-cert', bad, '--tls-key', key])).to.equal(
          `--tls-cert ${bad}: the path must be absolute and hold only letters, digits and / . _ - + @ = , : ~ (it is written into nginx's configuration)`,
        );
      });
    }

    it('when a TLS flag is given a value, then a usage error says it takes none', () => {
      expect(usageError(['--hsts=yes'])).to.equal('--hsts takes no value');
      expect(usageError(['--tls-ocsp-stapling=on'])).to.equal('--tls-ocsp-stapling takes no value');
    });
  });

  describe('the built CLI', () => {
    before(assertBuilt);

    it('when the command line is wrong, then it exits 2 with the problem and the usage on stderr', () => {
      for (const args of [['--bogus'], ['--port', 'x'], ['nginx-config', '--out', 'conf'], ['--tls-cert', __filename]]) {
        const run = spawnSync(process.execPath, [FLEET_CLI, ...args], { encoding: 'utf8' });
        expect(run.status, args.join(' ')).to.equal(2);
        expect(run.stderr).to.match(/^fleet: \S.*\nusage:\n/);
        expect(run.stderr, 'the usage names the TLS options').to.include('TLS, for both: --tls-cert FILE --tls-key FILE');
        expect(run.stdout).to.equal('');
      }
    });
  });
});
