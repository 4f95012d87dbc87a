import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { FIXTURE } from '../support/fixture';
import { sendRequests } from '../metrics/load';
import { loadCatalog } from '../support/catalog';
import { createTestDatabase, freePort, type TestDatabase } from '../support/postgres';
import { startServer, type ServerProcess } from '../support/server-process';
import { eventually } from '../support/wait';
import { requireBinary } from '../support/binaries';
import { allExpressions, EXTERNAL_NAMES, exposedNames, metricNames, PROMETHEUS_YML, readDashboard, RULES_YML } from './promql';

interface QueryResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

// Requires `npm run build` first (npm test does it): the service runs from dist/.
describe('a real Prometheus scraping the running service', function () {
  this.timeout(90_000);
  let db: TestDatabase | undefined;
  let service: ServerProcess | undefined;
  let prometheus: ChildProcess | undefined;
  let prometheusLog = '';
  let tmp: string | undefined;
  let api = '';
  let metricsUrl = '';

  const query = async (promql: string): Promise<QueryResult> =>
    (await (await fetch(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`)).json()) as QueryResult;
  const scalar = async (promql: string): Promise<number | undefined> => {
    const r = await query(promql);
    const v = r.data?.result[0]?.value[1];
    return v === undefined ? undefined : Number(v);
  };

  before(async function () {
    const binary = requireBinary(this, 'prometheus', 'prometheus');
    db = await createTestDatabase();
    await loadCatalog(db.url, FIXTURE);
    const metricsPort = await freePort();
    service = await startServer({ DATABASE_URL: db.url, WORKERS: '2', METRICS_PORT: String(metricsPort), LOG_LEVEL: 'warn' });
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;

    // The repository's prometheus.yml, pointed at this service, scraping every second.
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-prometheus-'));
    const config = YAML.parse(fs.readFileSync(PROMETHEUS_YML, 'utf8')) as Record<string, unknown> & { global: Record<string, string> };
    config.global = { ...config.global, scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '1s' };
    config.rule_files = [RULES_YML];
    config.scrape_configs = [{ job_name: 'atelier', static_configs: [{ targets: [`127.0.0.1:${metricsPort}`] }] }];
    const configFile = path.join(tmp, 'prometheus.yml');
    fs.writeFileSync(configFile, YAML.stringify(config));

    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      binary,
      [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(tmp, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout!.on('data', (c: Buffer) => (prometheusLog += c.toString()));
    prometheus.stderr!.on('data', (c: Buffer) => (prometheusLog += c.toString()));
    await eventually(async () => {
      if (prometheus!.exitCode !== null) throw new Error(`prometheus exited (${prometheus!.exitCode}):\n${prometheusLog}`);
      return (await fetch(`${api}/-/ready`).catch(() => undefined))?.status === 200;
    }, 20_000, 'Prometheus ready');
    await eventually(async () => (await scalar('up{job="atelier"}')) === 1, 20_000, 'first successful scrape of the service');
  });

  after(async () => {
    if (prometheus && prometheus.exitCode === null && prometheus.signalCode === null) {
      const exited = new Promise((r) => prometheus!.once('exit', r));
      prometheus.kill('SIGTERM');
      const force = setTimeout(() => prometheus!.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(force);
    }
    await service?.stop();
    await db?.drop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('when N requests were served, then the query API returns the request counter with exactly N', async () => {
    const n = 120;
    await sendRequests(service!.url, n);
    // /healthz was polled while the service started; everything else is this test's traffic.
    const counter = 'sum(atelier_http_request_duration_seconds_count{route!="/healthz"})';
    let last: number | undefined;
    await eventually(async () => (last = await scalar(counter)) === n, 20_000, `${counter} == ${n}`).catch((err: Error) => {
      throw new Error(`${err.message}; last value ${last}`);
    });
    expect(last).to.equal(n);
  });

  it('when Prometheus evaluates the repository alert rules, then each is healthy', async () => {
    type Rules = { data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string; lastEvaluation: string }> }> } };
    let rules: Rules['data']['groups'][number]['rules'] = [];
    await eventually(async () => {
      rules = ((await (await fetch(`${api}/api/v1/rules`)).json()) as Rules).data.groups.flatMap((g) => g.rules);
      return rules.length > 0 && rules.every((r) => !r.lastEvaluation.startsWith('0001'));
    }, 20_000, 'every rule evaluated');
    for (const rule of rules) expect(rule.health, `${rule.name}: ${rule.lastError ?? ''}`).to.equal('ok');
  });

  it('when every dashboard and rule expression is run, then it parses and names only metrics the service exposes', async () => {
    const exposed = exposedNames(await (await fetch(metricsUrl)).text());
    const expressions = allExpressions();
    expect(expressions.length).to.be.greaterThan(30);
    for (const { where, promql } of expressions) {
      const result = await query(promql);
      expect(result.status, `${where}: ${result.error ?? ''}\n${promql}`).to.equal('success');
      const names = metricNames(promql);
      expect(names.length, `${where} names no metric: ${promql}`).to.be.greaterThan(0);
      for (const name of names) {
        expect(exposed.has(name) || EXTERNAL_NAMES.has(name), `${where} uses ${name}, which nothing exposes`).to.equal(true);
      }
    }
  });

  it('when the service has traffic, then the main dashboard panels show data for it', async () => {
    await sendRequests(service!.url, 60, ['/products/1', '/products/3/styles']);
    const panels = ['Requests per second', 'Latency p50 / p95 / p99 (Products routes)', 'Cache hit ratio', 'Database pool', 'Compression ratio', 'Event-loop lag p99 (worst worker)', 'Catalog version', 'CPU'];
    const dashboard = readDashboard();
    for (const title of panels) {
      const panel = dashboard.panels.find((p) => p.title === title);
      expect(panel, title).to.not.equal(undefined);
      const expr = allExpressions().find((e) => e.where === `panel "${title}"`)!.promql;
      await eventually(async () => ((await query(expr)).data?.result ?? []).some((r) => Number.isFinite(Number(r.value[1]))), 20_000, `data for panel "${title}"`);
    }
  });
});
