import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { UsageError } from '../../src/cli/options';
import { parseFleetArgs } from '../../src/fleet/args';
import { assertBuilt, FLEET_CLI } from './fleet-process';

const usageError = (argv: string[]): string => {
  try {
    parseFleetArgs(argv);
  } catch (err) {
    expect(err, argv.join(' ')).to.be.instanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
};

describe('fleet command line (unit)', () => {
  describe('run (the default command)', () => {
    it('when no option is given, then 2 instances on port 8080, logs in .data/fleet, no microcache, the default workers and nginx', () => {
      expect(parseFleetArgs([])).to.deep.equal({ command: 'run', instances: 2, port: 8080, runDir: '.data/fleet', microcache: false });
    });

    it('when every option is given, as separate or inline values, then each is taken', () => {
      const expected = { command: 'run', instances: 3, port: 9090, workers: 4, runDir: '/tmp/f', microcache: true, nginxBin: '/opt/nginx' };
      expect(parseFleetArgs(['--instances', '3', '--port', '9090', '--workers', '4', '--run-dir', '/tmp/f', '--microcache', '--nginx', '/opt/nginx'])).to.deep.equal(expected);
      expect(parseFleetArgs(['--instances=3', '--port=9090', '--workers=4', '--run-dir=/tmp/f', '--microcache', '--nginx=/opt/nginx'])).to.deep.equal(expected);
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

  describe('the built CLI', () => {
    before(assertBuilt);

    it('when the command line is wrong, then it exits 2 with the problem and the usage on stderr', () => {
      for (const args of [['--bogus'], ['--port', 'x'], ['nginx-config', '--out', 'conf']]) {
        const run = spawnSync(process.execPath, [FLEET_CLI, ...args], { encoding: 'utf8' });
        expect(run.status, args.join(' ')).to.equal(2);
        expect(run.stderr).to.match(/^fleet: \S.*\nusage:\n/);
        expect(run.stdout).to.equal('');
      }
    });
  });
});
