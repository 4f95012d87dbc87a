import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import YAML from 'yaml';
import { requireBinary } from '../support/binaries';
import { PROMETHEUS_YML, readRules, RULES_TEST_YML, RULES_YML } from './promql';

interface RulesTestFile {
  tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
}

describe('Prometheus configuration and alert rules (promtool)', function () {
  this.timeout(30_000);
  const run = (ctx: Mocha.Context, ...args: string[]) =>
    spawnSync(requireBinary(ctx, 'promtool', 'prometheus'), args, { encoding: 'utf8', timeout: 20_000 });

  it('when promtool checks prometheus.yml, then it, its rule files and its target files are valid', function () {
    const res = run(this, 'check', 'config', PROMETHEUS_YML);
    expect(res.status, res.stdout + res.stderr).to.equal(0);
  });

  it('when promtool checks the alert rules, then every rule parses', function () {
    const res = run(this, 'check', 'rules', RULES_YML);
    expect(res.status, res.stdout + res.stderr).to.equal(0);
    expect(res.stdout).to.match(/SUCCESS: \d+ rules found/);
  });

  it('when promtool runs the rule unit tests, then every alert fires and stays silent where they say', function () {
    const res = run(this, 'test', 'rules', RULES_TEST_YML);
    expect(res.status, res.stdout + res.stderr).to.equal(0);
  });

  it('when the rule tests are read, then every alert has a case where it fires and one where it must not', () => {
    const tests = YAML.parse(fs.readFileSync(RULES_TEST_YML, 'utf8')) as RulesTestFile;
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    const alerts = readRules().groups.flatMap((g) => g.rules.map((r) => r.alert)).filter((a): a is string => a !== undefined);
    expect(alerts).to.have.length.greaterThan(5);
    for (const alert of alerts) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(mine.some((c) => (c.exp_alerts ?? []).length > 0), `${alert} never fires in a test`).to.equal(true);
      expect(mine.some((c) => (c.exp_alerts ?? []).length === 0), `${alert} has no case where it stays silent`).to.equal(true);
    }
  });
});
