import { parseArgs, type ParseArgsConfig } from 'node:util';
import { intOption, UsageError } from '../cli/options';
import { parseCorsOrigins, type CorsOrigins } from '../config';
import type { FleetOptions } from './fleet';
import type { NginxTls } from './nginx-tls';
import { parseTls, TLS_OPTIONS, TLS_USAGE } from './tls-args';

/** `npm run fleet -- …`: run a local fleet, or write a bare-metal nginx configuration. */
export type FleetCommand =
  // What startFleet takes, less what the CLI adds (the service's config, where to print).
  | ({ command: 'run' } & Omit<FleetOptions, 'config' | 'say'>)
  | {
      command: 'nginx-config';
      out: string;
      upstreams: string[];
      listen: string;
      statusListen: string;
      microcache: boolean;
      limitExempt: string[];
      corsAllowOrigins: CorsOrigins;
      tls?: NginxTls;
    };

export const USAGE = `usage:
  npm run fleet -- [--instances N] [--port P] [--workers W] [--run-dir DIR] [--microcache] [--nginx BIN]
      [--release REL] [TLS]
      N instances (default 2) of the service behind nginx on 127.0.0.1:P (default 8080);
      each instance runs W workers (default: the service's WORKERS); logs in DIR (default .data/fleet),
      each instance's pid in DIR/pids/PORT.pid. REL: run an unpacked release (npm run package)
      instead of this checkout's dist/, e.g. a link like /opt/atelier/current, followed at every
      (re)start: see deploy/rollout.sh.
  node dist/src/fleet/cli.js nginx-config --out DIR --upstream HOST:PORT [--upstream HOST:PORT …]
      [--listen 80] [--status-listen 127.0.0.1:8081] [--limit-exempt ADDR …] [--microcache]
      [--cors-allow-origins ORIGINS] [TLS]
      writes DIR/nginx.conf and DIR/upstream.conf for a bare-metal load balancer; ORIGINS is
      the instances' CORS_ALLOW_ORIGINS (default *), for the CORS headers of nginx's own answers
      (run: nginx -p DIR/ -e stderr -c DIR/nginx.conf).
${TLS_USAGE}
  node dist/src/fleet/cli.js user-data --role app|lb|postgres-primary|postgres-replica …
      cloud-init user-data for an EC2 instance of that role (user-data alone lists the options).`;

type Options = NonNullable<ParseArgsConfig['options']>;

const RUN_OPTIONS = {
  instances: { type: 'string' },
  port: { type: 'string' },
  workers: { type: 'string' },
  'run-dir': { type: 'string' },
  microcache: { type: 'boolean' },
  nginx: { type: 'string' },
  release: { type: 'string' },
  ...TLS_OPTIONS,
} as const satisfies Options;

const NGINX_CONFIG_OPTIONS = {
  out: { type: 'string' },
  // Repeated, each may also list several, comma-separated.
  upstream: { type: 'string', multiple: true },
  listen: { type: 'string' },
  'status-listen': { type: 'string' },
  microcache: { type: 'boolean' },
  'limit-exempt': { type: 'string', multiple: true },
  'cors-allow-origins': { type: 'string' },
  ...TLS_OPTIONS,
} as const satisfies Options;

/**
 * parseArgs, its mistakes reported in this tool's words: parseArgs' own strict mode would
 * throw its longer messages, so it runs lenient and the tokens are checked here. A repeated
 * single-valued option keeps its last value.
 */
function parse<O extends Options>(args: readonly string[], options: O) {
  const { values, tokens } = parseArgs({ args: [...args], options, strict: false, allowPositionals: true, tokens: true });
  const unknown = new Set<string>();
  for (const token of tokens) if (token.kind === 'option' && options[token.name] === undefined) unknown.add(token.rawName);
  if (unknown.size > 0) throw new UsageError(`unknown option${unknown.size > 1 ? 's' : ''} ${[...unknown].join(', ')}`);
  for (const token of tokens) {
    if (token.kind === 'positional') throw new UsageError(`unexpected argument ${token.value}`);
    if (token.kind !== 'option') continue;
    const type = options[token.name]?.type;
    if (type === 'string' && token.value === undefined) throw new UsageError(`${token.rawName} needs a value`);
    if (type === 'boolean' && token.value !== undefined) throw new UsageError(`${token.rawName} takes no value`);
  }
  return values;
}

// After parse(), a string option holds strings only; these narrow the lenient mode's types.
const text = (value: string | boolean | undefined): string | undefined => (typeof value === 'string' ? value : undefined);
const texts = (values: Array<string | boolean> | undefined): string[] => (values ?? []).filter((v): v is string => typeof v === 'string');

/** The TLS settings of either command; see tls-args.ts. */
function tlsOf(values: ReturnType<typeof parse<typeof TLS_OPTIONS>>): { tls?: NginxTls } {
  const tls = parseTls({
    cert: text(values['tls-cert']),
    key: text(values['tls-key']),
    hsts: values.hsts === true,
    ocspStapling: values['tls-ocsp-stapling'] === true,
    resolvers: texts(values['tls-resolver']).flatMap((r) => r.split(',')),
    chain: text(values['tls-chain']),
  });
  return tls === undefined ? {} : { tls };
}

function parseRun(args: readonly string[]): FleetCommand {
  const values = parse(args, RUN_OPTIONS);
  const workers = text(values.workers);
  const nginxBin = text(values.nginx);
  const release = text(values.release);
  return {
    command: 'run',
    instances: intOption('instances', text(values.instances), 2, 1, 64),
    port: intOption('port', text(values.port), 8080, 1, 65535),
    ...(workers !== undefined && { workers: intOption('workers', workers, 1, 1, 256) }),
    runDir: text(values['run-dir']) ?? '.data/fleet',
    microcache: values.microcache === true,
    ...(nginxBin !== undefined && { nginxBin }),
    ...(release !== undefined && { release }),
    ...tlsOf(values),
  };
}

function parseNginxConfig(args: readonly string[]): FleetCommand {
  const values = parse(args, NGINX_CONFIG_OPTIONS);
  const out = text(values.out);
  const upstreams = texts(values.upstream).flatMap((u) => u.split(','));
  if (out === undefined) throw new UsageError('nginx-config needs --out DIR');
  if (upstreams.length === 0) throw new UsageError('nginx-config needs at least one --upstream HOST:PORT');
  const problems: string[] = [];
  const corsAllowOrigins = parseCorsOrigins('--cors-allow-origins', text(values['cors-allow-origins']), problems);
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return {
    command: 'nginx-config',
    out,
    upstreams,
    listen: text(values.listen) ?? '80',
    statusListen: text(values['status-listen']) ?? '127.0.0.1:8081',
    microcache: values.microcache === true,
    limitExempt: texts(values['limit-exempt']),
    corsAllowOrigins,
    ...tlsOf(values),
  };
}

/** Parses argv (without node and the script). Throws UsageError on anything unknown. */
export function parseFleetArgs(argv: readonly string[]): FleetCommand {
  return argv[0] === 'nginx-config' ? parseNginxConfig(argv.slice(1)) : parseRun(argv);
}
