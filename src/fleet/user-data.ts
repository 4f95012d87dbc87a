import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../cli/options';
import { projectRoot } from '../project-paths';
import { cidrProblem, parseUserDataArgs, UNSAFE_CHARACTER, type ReleaseInputs, type UserDataInputs } from './user-data-args';

export { USER_DATA_USAGE } from './user-data-args';

/** Where the templates and the installer embedded in them are read from. */
export interface UserDataSources {
  /** deploy/cloud-init/, holding ROLE.yaml. */
  templateDir: string;
  /** deploy/install-release.sh, written to /usr/local/sbin/atelier-install-release. */
  installRelease: string;
}

// The app and lb roles' shared script head (Node.js and the release), in templateDir.
const INSTALL_NODE_AND_RELEASE = 'install-node-and-release.sh';

export const userDataSources = (): UserDataSources => ({
  templateDir: path.join(projectRoot(), 'deploy', 'cloud-init'),
  installRelease: path.join(projectRoot(), 'deploy', 'install-release.sh'),
});

/** EC2 refuses user-data above 16 KiB (counted before its own base64). */
export const EC2_USER_DATA_MAX_BYTES = 16 * 1024;

/*
 * Encoders, one per place a value lands in. Each placeholder sits in a YAML literal block
 * scalar, where a line is taken verbatim as long as it holds no line break and nothing YAML
 * refuses: `safe` makes sure of that for every value, whatever was checked before, so even a
 * hostile value that no option check saw cannot end the block. Within the block the value is
 * then encoded for its reader: the shell, systemd, libpq's .pgpass or pg_hba.conf.
 */
function safe(value: string, what: string): string {
  if (UNSAFE_CHARACTER.test(value)) throw new Error(`${what}: a line break or control character cannot be rendered`);
  return value;
}

/** One POSIX shell word: single quotes, each ' closed, escaped and reopened. */
export const shellWord = (value: string, what: string): string => `'${safe(value, what).replaceAll("'", `'\\''`)}'`;

/**
 * A systemd EnvironmentFile value (systemd.exec(5)): double-quoted, with \ " ` $ escaped by a
 * backslash, the only escapes systemd decodes there (a POSIX shell reads it alike).
 */
export const envValue = (value: string, what: string): string => `"${safe(value, what).replace(/[\\"`$]/g, '\\$&')}"`;

/** A .pgpass field: \ and : escaped (libpq). */
const pgpassField = (value: string, what: string): string => safe(value, what).replace(/[\\:]/g, '\\$&');

/** pg_hba.conf has no quoting for addresses: only a well-formed CIDR is written at all. */
function hbaAddress(value: string): string {
  const problem = cidrProblem(safe(value, 'allow-cidr'));
  if (problem !== undefined) throw new Error(`allow-cidr ${problem}`);
  return value;
}

/** An EnvironmentFile key: no quoting either. */
function envKey(key: string): string {
  if (!/^[A-Z][A-Z0-9_]*$/.test(key)) throw new Error(`env: ${JSON.stringify(key)} is not a KEY`);
  return key;
}

/** Lines of base64 as `base64 -w 76` would wrap them. */
function base64Lines(content: Buffer): string {
  return (content.toString('base64').match(/.{1,76}/g) ?? []).join('\n');
}

/** Shell words `--option 'value'` one per line, continued with backslashes. */
const argLines = (option: string, values: readonly string[]): string => values.map((v) => `${option} ${shellWord(v, option)}`).join(' \\\n');

/** Every placeholder's text for this role; several lines are joined with \n. */
function placeholders(inputs: UserDataInputs, sources: UserDataSources): Record<string, string> {
  const release = (i: ReleaseInputs) => {
    const head = path.join(sources.templateDir, INSTALL_NODE_AND_RELEASE);
    const values = {
      RELEASE_URL: shellWord(i.releaseUrl, 'release-url'),
      RELEASE_SHA256: shellWord(i.releaseSha256, 'release-sha256'),
      NODE_URL: shellWord(i.nodeUrl, 'node-url'),
      NODE_SHA256: shellWord(i.nodeSha256, 'node-sha256'),
    };
    return {
      INSTALL_NODE_AND_RELEASE: fillTemplate(fs.readFileSync(head, 'utf8').trimEnd(), values, head),
      INSTALL_RELEASE_B64: base64Lines(fs.readFileSync(sources.installRelease)),
    };
  };
  const hba = (cidrs: readonly string[], users: readonly string[]): string =>
    cidrs.flatMap((cidr) => users.map((user) => `host ${user} ${hbaAddress(cidr)} scram-sha-256`)).join('\n');
  switch (inputs.role) {
    case 'app':
      return {
        ...release(inputs),
        DATABASE_URL: envValue(inputs.databaseUrl, 'database-url'),
        DATABASE_REPLICA_URLS: envValue(inputs.replicaUrls.join(','), 'replica-url'),
        EXTRA_ENV: inputs.env.map(([key, value]) => `${envKey(key)}=${envValue(value, `env ${key}`)}`).join('\n'),
      };
    case 'lb':
      return {
        ...release(inputs),
        LISTEN: shellWord(inputs.listen, 'listen'),
        CORS_ALLOW_ORIGINS_ARG: inputs.corsAllowOrigins === undefined ? '' : `${argLines('--cors-allow-origins', [inputs.corsAllowOrigins])} `,
        UPSTREAM_ARGS: argLines('--upstream', inputs.upstreams),
      };
    case 'postgres-primary':
      return {
        OWNER_PASSWORD: shellWord(inputs.ownerPassword, 'owner-password'),
        REPLICATION_PASSWORD: shellWord(inputs.replicationPassword, 'replication-password'),
        PG_HBA_LINES: hba(inputs.allowCidrs, ['atelier atelier', 'atelier atelier_reader', 'replication replicator']),
      };
    case 'postgres-replica':
      return {
        PRIMARY_HOST: shellWord(inputs.primaryHost, 'primary-host'),
        REPLICATION_PASSWORD: pgpassField(inputs.replicationPassword, 'replication-password'),
        PG_HBA_LINES: hba(inputs.allowCidrs, ['atelier atelier', 'atelier atelier_reader']),
      };
  }
}

/**
 * Fills `{{NAME}}` placeholders. A value of several lines continues at its placeholder's
 * indentation (so it stays inside its block scalar); a line that holds only a placeholder whose
 * value is empty is dropped. Unknown placeholders and values no placeholder uses are errors:
 * template and code must agree.
 */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>, file: string): string {
  const used = new Set<string>();
  const lines = template.split('\n').flatMap((line) => {
    const indent = /^[ \t]*/.exec(line)![0];
    const only = /^[ \t]*\{\{(\w+)\}\}[ \t]*$/.exec(line);
    if (only && values[only[1]!] === '') {
      used.add(only[1]!);
      return [];
    }
    return [
      line.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
        const value = values[key];
        if (value === undefined) throw new Error(`unknown placeholder {{${key}}} in ${file}`);
        used.add(key);
        // Empty lines stay empty: no trailing blanks in the block scalar.
        return value.replace(/\n(?=[^\n])/g, `\n${indent}`);
      }),
    ];
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length > 0) throw new Error(`${file} lacks the placeholder(s) ${unused.join(', ')}`);
  return lines.join('\n');
}

/**
 * The cloud-config of one machine: deploy/cloud-init/ROLE.yaml filled with `inputs`. The
 * same inputs give the same bytes. `sources` is for tests; the project's files by default.
 */
export function renderUserData(inputs: UserDataInputs, sources: UserDataSources = userDataSources()): string {
  const file = path.join(sources.templateDir, `${inputs.role}.yaml`);
  return fillTemplate(fs.readFileSync(file, 'utf8'), placeholders(inputs, sources), file);
}

/**
 * `fleet user-data --role ROLE …` (argv after the command name): the YAML to print. Throws
 * one UsageError naming every bad option, or when the result is too big for EC2.
 */
export function runUserData(argv: readonly string[]): string {
  const yaml = renderUserData(parseUserDataArgs(argv));
  const bytes = Buffer.byteLength(yaml);
  if (bytes > EC2_USER_DATA_MAX_BYTES) {
    throw new UsageError(`the user-data is ${bytes} bytes; EC2 accepts at most ${EC2_USER_DATA_MAX_BYTES} (fewer --env or --upstream values)`);
  }
  return yaml;
}
