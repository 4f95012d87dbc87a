import { expect } from 'chai';
import { UsageError } from '../../src/cli/options';
import type { BenchFile } from '../../loadtest/bench/context';
import { parseBenchArgs, SCENARIOS } from '../../loadtest/bench/main';

const DEFAULTS: BenchFile['bench'] = {
  connections: 64,
  threads: 1,
  durationSeconds: 8,
  rounds: 3,
  pathsPerList: 200_000,
  hotCacheBytes: 2 ** 28,
  churnSeconds: 30,
  changes: { products: 100, everyMs: 1000 },
  targets: {},
  soak: {
    minutes: 30,
    csvDir: '.data/csv',
    reloadEveryMinutes: 5,
    killEveryMinutes: 7,
    restartAtShare: 0.6,
    restartGraceSeconds: 5,
    reloadNice: 19,
    rateShare: 0.5,
    connections: 256,
    flatTolerance: 0.1,
    p99OverFirstMinutes: 2,
  },
  openModel: { capacityShares: [0.5, 0.8], connections: 64, maxConnections: 512, lateMs: 10, warmUpSeconds: 2, rateTolerance: 0.02 },
};

describe('bench command line (unit)', () => {
  it('when no option is given, then the defaults of scenarios.json and every scenario but the soak, in table order', () => {
    expect(parseBenchArgs([], DEFAULTS)).to.deep.equal({
      opt: { duration: 8, churn: 30, rounds: 3, connections: 64, threads: 1, paths: 200_000, soakMinutes: 30, soakCsv: '.data/csv', soakEvents: ['reload', 'kill', 'restart'] },
      scenarios: ['hot', 'hot-three-documents', 'hot-compressed', 'hot-styles', 'database', 'cold', 'cold-styles', 'at-rate', 'changes', 'memory', 'listing', 'overload'],
    });
    expect(SCENARIOS.map(([name]) => name)).to.deep.equal(['hot', 'hot-three-documents', 'hot-compressed', 'hot-styles', 'database', 'cold', 'cold-styles', 'at-rate', 'changes', 'memory', 'listing', 'overload', 'soak']);
  });

  it('when every option is given, then each is taken, and scenarios run in table order whatever the order asked', () => {
    const argv = ['--duration', '1', '--churn=2', '--rounds', '4', '--connections', '5', '--threads', '2', '--paths', '300', '--scenarios', 'soak,overload,hot-compressed,hot', '--json', 'out.json', '--soak-minutes', '3', '--soak-csv', '/tmp/csv', '--soak-events', 'restart,reload', '--soak-rate', '3500', '--report', 'r.html', '--rate', '1500'];
    expect(parseBenchArgs(argv, DEFAULTS)).to.deep.equal({
      opt: { duration: 1, churn: 2, rounds: 4, connections: 5, threads: 2, paths: 300, soakMinutes: 3, soakCsv: '/tmp/csv', soakEvents: ['reload', 'restart'], soakRate: 3500, rate: 1500 },
      scenarios: ['hot', 'hot-compressed', 'at-rate', 'overload', 'soak'],
      json: 'out.json',
      report: 'r.html',
    });
  });

  it('when the soak is named alone, then only it runs, for --soak-minutes', () => {
    const args = parseBenchArgs(['--scenarios', 'soak', '--soak-minutes', '1'], DEFAULTS);
    expect(args.scenarios).to.deep.equal(['soak']);
    expect(args.opt.soakMinutes).to.equal(1);
  });

  it('when --soak-csv or --report is empty, then a usage error names it', () => {
    expect(() => parseBenchArgs(['--soak-csv', ''], DEFAULTS)).to.throw(UsageError, /^--soak-csv must name a folder/);
    expect(() => parseBenchArgs(['--report', ' '], DEFAULTS)).to.throw(UsageError, /^--report must name a file/);
  });

  it('when --soak-events is none or names a kind that does not exist, then no events, or a usage error naming the bad ones', () => {
    expect(parseBenchArgs(['--soak-events', 'none'], DEFAULTS).opt.soakEvents).to.deep.equal([]);
    expect(parseBenchArgs(['--soak-events', 'kill'], DEFAULTS).opt.soakEvents).to.deep.equal(['kill']);
    expect(() => parseBenchArgs(['--soak-events', 'reload,nap,'], DEFAULTS)).to.throw(UsageError, '--soak-events takes reload, kill, restart (comma-separated) or none; got "nap", ""');
    expect(() => parseBenchArgs(['--soak-events', ''], DEFAULTS)).to.throw(UsageError, /^--soak-events takes/);
  });

  for (const name of ['duration', 'churn', 'rounds', 'connections', 'threads', 'paths', 'soak-minutes', 'rate']) {
    it(`when --${name} is not a positive integer in range, then a usage error names it`, () => {
      for (const raw of ['0', 'x', '1.5', '99999999']) {
        expect(() => parseBenchArgs([`--${name}`, raw], DEFAULTS), raw).to.throw(UsageError, new RegExp(`^--${name} must be an integer from 1 to \\d+ \\(got "${raw.replace('.', '\\.')}"\\)$`));
      }
    });
  }

  it('when a scenario is unknown, an option is unknown or lacks its value, then a usage error', () => {
    expect(() => parseBenchArgs(['--scenarios', 'hot,warm,tepid'], DEFAULTS)).to.throw(UsageError, 'unknown scenarios warm, tepid');
    expect(() => parseBenchArgs(['--bogus'], DEFAULTS)).to.throw(UsageError, /--bogus/);
    expect(() => parseBenchArgs(['--duration'], DEFAULTS)).to.throw(UsageError, /--duration/);
    expect(() => parseBenchArgs(['extra'], DEFAULTS)).to.throw(UsageError, /extra/);
  });
});
