import net from 'node:net';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../cli/options';
import { ConfigError, loadConfig, parseCorsOrigins } from '../config';
import { isHostPort, isListen } from './nginx-config';

/** The machines of an EC2 fleet, one cloud-init template each (deploy/cloud-init/ROLE.yaml). */
export const ROLES = ['app', 'lb', 'postgres-primary', 'postgres-replica'] as const;
export type Role = (typeof ROLES)[number];

/** Where the app and lb roles get the release tarball and Node.js from. */
export interface ReleaseInputs {
  releaseUrl: string;
  releaseSha256: string;
  nodeUrl: string;
  nodeSha256: string;
}

/** What `user-data` renders from: the checked command line of one role. */
export type UserDataInputs =
  // env: `--env KEY=VALUE`, in the order given.
  | ({ role: 'app'; databaseUrl: string; replicaUrls: string[]; env: Array<[string, string]> } & ReleaseInputs)
  | ({ role: 'lb'; upstreams: string[]; listen: string; corsAllowOrigins?: string } & ReleaseInputs)
  | { role: 'postgres-primary'; ownerPassword: string; replicationPassword: string; allowCidrs: string[] }
  | { role: 'postgres-replica'; primaryHost: string; replicationPassword: string; allowCidrs: string[] };

/** Node.js 20 is not in Debian 12: the official binary tarball (its digest is an input). */
export const DEFAULT_NODE_URL = 'https://nodejs.org/dist/v20.20.2/node-v20.20.2-linux-x64.tar.xz';

/** Keys the app template writes itself; `--env` may not set them again. */
export const TEMPLATE_ENV_KEYS = ['DATABASE_URL', 'DATABASE_REPLICA_URLS', 'PORT', 'HOST', 'METRICS_PORT', 'METRICS_HOST'] as const;

export const USER_DATA_USAGE = `usage:
  node dist/src/fleet/cli.js user-data --role ROLE [options]   (cloud-init user-data on stdout)
    --role app --release-url URL --release-sha256 HEX --node-sha256 HEX --database-url URL
        [--replica-url URL …] [--env KEY=VALUE …] [--node-url URL]
    --role lb --release-url URL --release-sha256 HEX --node-sha256 HEX --upstream HOST:PORT …
        [--listen 80] [--cors-allow-origins ORIGINS] [--node-url URL]
    --role postgres-primary --owner-password PW --replication-password PW --allow-cidr CIDR …
    --role postgres-replica --primary-host HOST --replication-password PW --allow-cidr CIDR …
  URLs of the release tarball and of Node.js are https:// (--node-url default: ${DEFAULT_NODE_URL});
  HEX is a sha256 (64 hex digits; Node's from nodejs.org's SHASUMS256.txt); PW is 16 to 128 of
  A-Z a-z 0-9 _ -; CIDR is the VPC's subnets (IPv4 or IPv6, never /0). Repeatable options may also
  list several values separated by commas (except --env and --replica-url, one each).`;

type Options = NonNullable<ParseArgsConfig['options']>;

const OPTIONS = {
  role: { type: 'string' },
  'release-url': { type: 'string' },
  'release-sha256': { type: 'string' },
  'node-url': { type: 'string' },
  'node-sha256': { type: 'string' },
  'database-url': { type: 'string' },
  'replica-url': { type: 'string', multiple: true },
  env: { type: 'string', multiple: true },
  upstream: { type: 'string', multiple: true },
  listen: { type: 'string' },
  'cors-allow-origins': { type: 'string' },
  'owner-password': { type: 'string' },
  'replication-password': { type: 'string' },
  'allow-cidr': { type: 'string', multiple: true },
  'primary-host': { type: 'string' },
} as const satisfies Options;
type Name = keyof typeof OPTIONS;

const RELEASE: Name[] = ['release-url', 'release-sha256', 'node-url', 'node-sha256'];
/** Each role's options; the required ones are listed in REQUIRED. */
const ROLE_OPTIONS: Record<Role, Name[]> = {
  app: [...RELEASE, 'database-url', 'replica-url', 'env'],
  lb: [...RELEASE, 'upstream', 'listen', 'cors-allow-origins'],
  'postgres-primary': ['owner-password', 'replication-password', 'allow-cidr'],
  'postgres-replica': ['primary-host', 'replication-password', 'allow-cidr'],
};
const REQUIRED: Record<Role, Name[]> = {
  app: ['release-url', 'release-sha256', 'node-sha256', 'database-url'],
  lb: ['release-url', 'release-sha256', 'node-sha256', 'upstream'],
  'postgres-primary': ['owner-password', 'replication-password', 'allow-cidr'],
  'postgres-replica': ['primary-host', 'replication-password', 'allow-cidr'],
};

/**
 * What no value may hold, whatever its option: line breaks (YAML 1.1, which cloud-init's
 * PyYAML speaks, also breaks lines at U+0085, U+2028 and U+2029), other control characters
 * (PyYAML refuses them; systemd's EnvironmentFile and the shell would need them escaped), the
 * byte order mark and unpaired surrogates (systemd reads UTF-8 without them). The renderer
 * enforces the same rule on its own (user-data.ts).
 */
// eslint-disable-next-line no-control-regex -- control characters are what it is for
export const UNSAFE_CHARACTER = /[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const SHA256 = /^[0-9a-fA-F]{64}$/;
const PASSWORD = /^[A-Za-z0-9_-]{16,128}$/;
const ENV_KEY = /^[A-Z][A-Z0-9_]*$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

const shown = (value: string): string => JSON.stringify(value);

function urlOf(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function httpsUrl(value: string): string | undefined {
  const url = urlOf(value);
  if (url?.protocol !== 'https:' || url.hostname === '' || /\s/.test(value)) return `must be an https:// URL (got ${shown(value)})`;
  return undefined;
}

/** A postgres:// URL; never echoed, it holds a password. */
function postgresUrl(value: string, single: boolean): string | undefined {
  if (!/^postgres(ql)?:\/\//.test(value) || !urlOf(value)?.hostname || /\s/.test(value)) return 'must be a postgres:// or postgresql:// URL with a host (value not shown)';
  if (single && value.includes(',')) return 'must not contain a comma: the replicas are joined with commas (value not shown)';
  return undefined;
}

/** An IPv4 or IPv6 network in CIDR notation, narrower than everything. */
export function cidrProblem(value: string): string | undefined {
  const [address = '', bits, ...rest] = value.split('/');
  const family = net.isIP(address);
  const max = family === 4 ? 32 : 128;
  if (family === 0 || bits === undefined || rest.length > 0 || !/^\d{1,3}$/.test(bits) || Number(bits) > max) {
    return `must be an IPv4 or IPv6 network like 10.0.0.0/16 (got ${shown(value)})`;
  }
  if (Number(bits) === 0) return `must not be /0: it would admit every address (got ${shown(value)})`;
  return undefined;
}

/** One problem per bad value of `--name`; the values are all strings here. */
function check(name: Name, values: readonly string[]): string[] {
  const problem = (value: string): string | undefined => {
    if (UNSAFE_CHARACTER.test(value)) return 'must not contain a line break or another control character';
    switch (name) {
      case 'release-url':
      case 'node-url':
        return httpsUrl(value);
      case 'release-sha256':
      case 'node-sha256':
        return SHA256.test(value) ? undefined : `must be a sha256 of 64 hex digits (got ${shown(value)})`;
      case 'database-url':
      case 'replica-url':
        return postgresUrl(value, name === 'replica-url');
      // As nginx-config checks them: the lb runs it on these values.
      case 'upstream':
        return isHostPort(value) ? undefined : `must be HOST:PORT, letters, digits, dots and dashes or [IPv6] (got ${shown(value)})`;
      case 'listen':
        return isListen(value) ? undefined : `must be a port or ADDRESS:PORT (got ${shown(value)})`;
      case 'owner-password':
      case 'replication-password':
        return PASSWORD.test(value) ? undefined : 'must be 16 to 128 characters from A-Z a-z 0-9 _ - (value not shown)';
      case 'allow-cidr':
        return cidrProblem(value);
      case 'primary-host':
        return net.isIP(value) !== 0 || HOSTNAME.test(value) ? undefined : `must be a hostname or an IP address (got ${shown(value)})`;
      case 'env': {
        const key = value.split('=', 1)[0]!;
        if (!value.includes('=') || !ENV_KEY.test(key)) return `must be KEY=VALUE with KEY like LOG_LEVEL (A-Z, 0-9, _) (got ${shown(key)}…)`;
        if ((TEMPLATE_ENV_KEYS as readonly string[]).includes(key)) return `cannot set ${key}: the template sets it (use its own option)`;
        return undefined;
      }
      default:
        return undefined;
    }
  };
  return values.flatMap((value) => {
    const p = problem(value);
    return p === undefined ? [] : [`--${name} ${p}`];
  });
}

/** `--env` as pairs, and what the service itself would refuse of them (its src/config.ts). */
function envPairs(values: readonly string[], problems: string[]): Array<[string, string]> {
  const pairs = values.map((v): [string, string] => [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)]);
  const seen = new Set<string>();
  for (const [key] of pairs) {
    if (seen.has(key)) problems.push(`--env ${key} is given twice`);
    seen.add(key);
  }
  try {
    // The ports as the template sets them (METRICS_PORT must differ from PORT); a stand-in URL.
    loadConfig({ ...Object.fromEntries(pairs), PORT: '3000', METRICS_PORT: '9464', DATABASE_URL: 'postgres://check' });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) problems.push(`--env ${p}`);
  }
  return pairs;
}

/**
 * Parses `user-data` argv (after the command name). Every problem (unknown or misplaced
 * options, missing or bad values) is collected and thrown as one UsageError.
 */
export function parseUserDataArgs(argv: readonly string[]): UserDataInputs {
  const { tokens } = parseArgs({ args: [...argv], options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const problems: string[] = [];
  const given = new Map<Name, string[]>();
  for (const token of tokens) {
    if (token.kind === 'positional') problems.push(`unexpected argument ${shown(token.value)}`);
    if (token.kind !== 'option') continue;
    if (!(token.name in OPTIONS)) problems.push(`unknown option ${token.rawName}`);
    else if (token.value === undefined) problems.push(`${token.rawName} needs a value`);
    else given.set(token.name as Name, [...(given.get(token.name as Name) ?? []), token.value]);
  }
  const role = given.get('role')?.at(-1);
  if (role === undefined || !(ROLES as readonly string[]).includes(role)) {
    problems.push(`--role must be one of ${ROLES.join(', ')}${role === undefined ? '' : ` (got ${shown(role)})`}`);
    throw new UsageError(problems.join('; '));
  }
  const r = role as Role;
  // A single-valued option repeated keeps its last value; lists are split at commas.
  const list = (name: Name): string[] => {
    const raw = given.get(name) ?? [];
    if (!('multiple' in OPTIONS[name])) return raw.slice(-1);
    return name === 'env' || name === 'replica-url' ? raw : raw.flatMap((v) => v.split(','));
  };
  for (const name of given.keys()) {
    if (name !== 'role' && !ROLE_OPTIONS[r].includes(name)) problems.push(`--${name} is not an option of role ${r}`);
  }
  for (const name of REQUIRED[r]) if (!given.has(name)) problems.push(`role ${r} needs --${name}`);
  for (const name of ROLE_OPTIONS[r]) problems.push(...check(name, list(name)));
  const one = (name: Name): string => list(name)[0] ?? '';
  const release = (): ReleaseInputs => ({
    releaseUrl: one('release-url'),
    releaseSha256: one('release-sha256').toLowerCase(),
    nodeUrl: list('node-url')[0] ?? DEFAULT_NODE_URL,
    nodeSha256: one('node-sha256').toLowerCase(),
  });
  let inputs: UserDataInputs;
  if (r === 'app') {
    // The service's own checks (e.g. LOG_LEVEL's values) only once every --env is KEY=VALUE.
    const env = envPairs(problems.some((p) => p.startsWith('--env ')) ? [] : list('env'), problems);
    inputs = { role: r, ...release(), databaseUrl: one('database-url'), replicaUrls: list('replica-url'), env };
  } else if (r === 'lb') {
    const cors = list('cors-allow-origins')[0];
    // Its control characters are reported by check(); then the service's own origin rules.
    if (cors !== undefined && !UNSAFE_CHARACTER.test(cors)) parseCorsOrigins('--cors-allow-origins', cors, problems);
    inputs = { role: r, ...release(), upstreams: list('upstream'), listen: list('listen')[0] ?? '80', ...(cors !== undefined && { corsAllowOrigins: cors }) };
  } else if (r === 'postgres-primary') {
    inputs = { role: r, ownerPassword: one('owner-password'), replicationPassword: one('replication-password'), allowCidrs: list('allow-cidr') };
  } else {
    inputs = { role: r, primaryHost: one('primary-host'), replicationPassword: one('replication-password'), allowCidrs: list('allow-cidr') };
  }
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return inputs;
}
