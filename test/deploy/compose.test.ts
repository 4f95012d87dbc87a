import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config';
import { readDockerfile, type DockerStage } from './dockerfile';

// No Docker engine here (and no compose plugin): the files are parsed and every path, port,
// variable and command they name is checked against the project.
const ROOT = path.resolve(__dirname, '../..');
const rel = (p: string): string => path.join(ROOT, p);

interface Service {
  image?: string;
  build?: string | { context: string };
  command?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  ports?: string[];
  configs?: Array<{ source: string; target: string }>;
  depends_on?: Record<string, { condition: string }> | string[];
  deploy?: { replicas?: string | number };
  healthcheck?: { test: string[] };
}
interface Compose {
  services: Record<string, Service>;
  configs: Record<string, { content?: string; file?: string }>;
  volumes: Record<string, unknown>;
}

/** Every environment variable src/config.ts reads, found by letting it read a recording env. */
function configKeys(): Set<string> {
  const keys = new Set<string>();
  const env = new Proxy({}, { get: (_t, key) => (typeof key === 'string' && keys.add(key), undefined) });
  loadConfig(env);
  return keys;
}

/** Compose interpolation with the defaults a bare `docker compose up` uses. */
const interpolate = (value: string): string => value.replace(/\$\{(\w+):-([^}]*)\}/g, '$2').replace(/\$\$/g, '$');

/** Host path behind a container path, through the service's bind mounts. */
function hostPath(service: Service, containerPath: string): string | undefined {
  for (const volume of service.volumes ?? []) {
    const [source, target] = volume.split(':') as [string, string];
    if (!source.startsWith('./')) continue;
    if (containerPath === target || containerPath.startsWith(`${target}/`)) return rel(path.join(source, containerPath.slice(target.length)));
  }
  return undefined;
}

describe('deploy: docker-compose.yml and Dockerfile (parsed: no Docker engine here)', () => {
  const compose = parse(fs.readFileSync(rel('docker-compose.yml'), 'utf8'), { merge: true }) as Compose;
  const { services } = compose;
  const ownImage = Object.entries(services).filter(([, s]) => s.image === 'atelier-products:latest');
  let stages: DockerStage[];

  before(() => {
    stages = readDockerfile(rel('Dockerfile'));
    if (!fs.existsSync(rel('dist/src/server.js'))) throw new Error('dist/ is missing: run npm run build first');
  });

  it('when parsed, then it has the whole stack', () => {
    expect(Object.keys(services)).to.include.members(['postgres', 'generate', 'etl', 'app', 'nginx', 'nginx-exporter', 'prometheus', 'grafana']);
    expect(ownImage.map(([name]) => name).sort()).to.deep.equal(['app', 'change-feed', 'etl', 'generate']);
    expect(Number(interpolate(String(services.app!.deploy?.replicas)))).to.be.greaterThan(1);
    expect(services.postgres!.volumes?.some((v) => v.startsWith('pg-data:'))).to.equal(true);
  });

  it('when services of the project image set variables, then src/config.ts reads every one of them', () => {
    const known = configKeys();
    for (const [name, service] of ownImage) {
      for (const key of Object.keys(service.environment ?? {})) expect(known.has(key), `${name}: ${key}`).to.equal(true);
    }
  });

  it('when services of the project image run node, then the files exist after npm run build', () => {
    for (const [name, service] of ownImage) {
      const command = service.command ?? stages.at(-1)!.cmd;
      expect(command?.[0], name).to.equal('node');
      expect(fs.existsSync(rel(command![1]!)), `${name}: ${command![1]}`).to.equal(true);
    }
    expect(services.generate!.command).to.include.members(['--out', '/data', '--products']);
    expect(services.etl!.command).to.include.members(['--dir', '/data']);
    expect(services.etl!.depends_on).to.deep.include({ generate: { condition: 'service_completed_successfully' } });
    expect(services['change-feed']!.command).to.deep.equal(['node', 'dist/db/etl.js', '--changes-feed', '/changes']);
    expect(services['change-feed']!.volumes).to.deep.equal(['catalog-changes:/changes']);
    expect(compose.volumes).to.have.property('catalog-changes');
    expect(services['change-feed']!.depends_on).to.deep.include({ etl: { condition: 'service_completed_successfully' } });
  });

  it('when a service mounts a project path, then the path exists', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('./')) expect(fs.existsSync(rel(source)), `${name}: ${source}`).to.equal(true);
        else expect(compose.volumes, `${name}: named volume ${source}`).to.have.property(source);
      }
      for (const config of service.configs ?? []) expect(compose.configs, `${name}: config ${config.source}`).to.have.property(config.source);
    }
  });

  it('when nginx runs in compose, then its config file, instance port and status port match the other services', () => {
    const nginx = services.nginx!;
    const conf = nginx.command![nginx.command!.indexOf('-c') + 1]!;
    const confOnHost = hostPath(nginx, conf);
    expect(confOnHost && fs.existsSync(confOnHost), conf).to.equal(true);
    const main = fs.readFileSync(confOnHost!, 'utf8');
    const upstream = fs.readFileSync(path.join(path.dirname(confOnHost!), 'upstream.conf'), 'utf8');
    // nginx -> app: the upstream names the app service on its PORT.
    expect(upstream).to.match(new RegExp(`^server app:${services.app!.environment!.PORT} `, 'm'));
    // published port -> nginx's public listener.
    const published = interpolate(nginx.ports![0]!).split(':')[1];
    expect(main).to.match(new RegExp(`listen ${published}[ ;]`));
    // exporter -> nginx's private status listener, which is not published.
    const scrape = new URL(services['nginx-exporter']!.command![0]!.split('=')[1]!);
    expect(scrape.hostname).to.equal('nginx');
    expect(main).to.match(new RegExp(`listen ${scrape.port};`));
    expect(nginx.ports!.some((p) => p.endsWith(`:${scrape.port}`))).to.equal(false);
  });

  it('when Prometheus runs in compose, then it scrapes the app metrics port and the exporter, with the monitoring rules', () => {
    const prometheus = services.prometheus!;
    const config = parse(interpolate(compose.configs['prometheus-compose']!.content!)) as {
      rule_files: string[];
      scrape_configs: Array<{ job_name: string; dns_sd_configs?: Array<{ names: string[]; port: number }>; static_configs?: Array<{ targets: string[] }> }>;
    };
    const atelier = config.scrape_configs.find((j) => j.job_name === 'atelier')!.dns_sd_configs![0]!;
    expect(atelier.names).to.deep.equal(['app']);
    expect(String(atelier.port)).to.equal(String(services.app!.environment!.METRICS_PORT));
    const exporter = config.scrape_configs.find((j) => j.job_name === 'nginx')!.static_configs![0]!.targets[0]!;
    expect(services).to.have.property(exporter.split(':')[0]!);
    for (const pattern of config.rule_files) {
      const dir = hostPath(prometheus, path.dirname(pattern));
      expect(dir, pattern).to.be.a('string');
      const rules = fs.readdirSync(dir!).filter((f) => f.endsWith('.yml'));
      expect(rules.length, `rules behind ${pattern}`).to.be.greaterThan(0);
    }
    const promtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' });
    if (promtool.error === undefined) {
      // Checked for real where promtool is installed (CI installs prometheus).
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-prom-'));
      const rulesDir = hostPath(prometheus, '/etc/prometheus/rules')!;
      fs.writeFileSync(path.join(dir, 'prometheus.yml'), interpolate(compose.configs['prometheus-compose']!.content!).replace('/etc/prometheus/rules', rulesDir));
      const check = spawnSync('promtool', ['check', 'config', path.join(dir, 'prometheus.yml')], { encoding: 'utf8' });
      fs.rmSync(dir, { recursive: true, force: true });
      expect(check.status, check.stdout + check.stderr).to.equal(0);
    }
  });

  it('when Grafana is provisioned, then every variable the provisioning files use is set and the dashboards are mounted', () => {
    const grafana = services.grafana!;
    const provisioning = hostPath(grafana, '/etc/grafana/provisioning')!;
    const files = fs.readdirSync(provisioning, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'));
    expect(files.length).to.be.greaterThan(0);
    const used = new Set(files.flatMap((f) => [...fs.readFileSync(path.join(provisioning, f), 'utf8').matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!)));
    for (const variable of used) expect(grafana.environment, `Grafana env ${variable}`).to.have.property(variable);
    const dashboards = hostPath(grafana, String(grafana.environment!.ATELIER_DASHBOARDS))!;
    expect(fs.readdirSync(dashboards).some((f) => f.endsWith('.json'))).to.equal(true);
    expect(new URL(String(grafana.environment!.PROMETHEUS_URL)).hostname).to.equal('prometheus');
  });

  it('when the Dockerfile is read, then it is multi-stage, installs production dependencies only and runs node as a non-root user', () => {
    expect(stages.length).to.be.at.least(2);
    const runtime = stages.at(-1)!;
    expect(runtime.user, 'USER of the final stage').to.be.a('string').and.not.match(/^(root|0)(:|$)/);
    expect(runtime.cmd, 'exec-form CMD').to.deep.equal(['node', 'dist/src/server.js']);
    expect(runtime.entrypoint).to.equal(undefined);
    expect(runtime.healthcheck).to.match(/\/healthz/);
    // The node_modules of the final image come from a stage that omitted dev dependencies.
    const modules = runtime.copies.find((c) => c.to === './node_modules')!;
    const deps = stages.find((s) => s.name === modules.from)!;
    expect(deps.runs.some((r) => /npm ci\b.*--omit=dev/.test(r)), 'npm ci --omit=dev').to.equal(true);
    expect(runtime.runs.some((r) => /\bnpm\b/.test(r)), 'no npm in the final stage').to.equal(false);
    const config = loadConfig({});
    expect(runtime.expose.map(Number)).to.have.members([config.port, config.metricsPort]);
  });

  it('when a service of the project image writes to a named volume, then the image makes its folder for its unprivileged user', () => {
    const runtime = stages.at(-1)!;
    const user = runtime.user!.split(':')[0]!;
    // The paths after each `chown USER[:GROUP]`, up to the command's end.
    const chown = new RegExp(`\\bchown ${user}(?::\\S+)? ([^&;|]+)`, 'g');
    const chowned = runtime.runs.flatMap((r) => [...r.matchAll(chown)].flatMap((m) => m[1]!.trim().split(/\s+/)));
    const targets = ownImage.flatMap(([, service]) => (service.volumes ?? []).filter((v) => !v.startsWith('./')).map((v) => v.split(':')[1]!));
    expect(targets).to.include.members(['/data', '/changes']);
    // A named volume takes the owner of the folder it is mounted on: one the image lacks would be root's.
    for (const target of targets) expect(chowned, target).to.include(target);
  });

  it('when the Dockerfile copies from the build context, then each source exists and .dockerignore does not hide it', () => {
    const ignored = fs.readFileSync(rel('.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    expect(ignored).to.include.members(['node_modules', 'dist', '.data', '.git']);
    const sources = stages.flatMap((s) => s.copies.filter((c) => c.from === undefined).flatMap((c) => c.sources));
    expect(sources.length).to.be.greaterThan(3);
    for (const source of sources) {
      expect(fs.existsSync(rel(source)), source).to.equal(true);
      expect(ignored.some((pattern) => source === pattern || source.startsWith(`${pattern}/`)), `${source} is dockerignored`).to.equal(false);
    }
  });
});
