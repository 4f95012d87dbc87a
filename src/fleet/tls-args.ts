import fs from 'node:fs';
import path from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { UsageError } from '../cli/options';
import { isResolverAddress, tlsPathProblem, type NginxTls } from './nginx-tls';

/** The TLS options `npm run fleet` and `nginx-config` share. */
export const TLS_OPTIONS = {
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  hsts: { type: 'boolean' },
  'tls-ocsp-stapling': { type: 'boolean' },
  // Repeated, each may also list several, comma-separated.
  'tls-resolver': { type: 'string', multiple: true },
  'tls-chain': { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

export const TLS_USAGE = `  TLS, for both: --tls-cert FILE --tls-key FILE [--hsts]
      [--tls-ocsp-stapling --tls-resolver ADDR [--tls-resolver ADDR …] --tls-chain FILE]
      HTTPS with HTTP/2 on the public port instead of plain HTTP (Mozilla intermediate,
      nginx/tls.conf): the PEM certificate followed by its intermediates (Let's Encrypt:
      fullchain.pem) and its private key (privkey.pem). --hsts adds
      Strict-Transport-Security: max-age=63072000 (2 years) to every answer.
      --tls-ocsp-stapling sends the CA's OCSP answer in the handshake: nginx asks the DNS
      server ADDR (an IP, optionally :port, e.g. 127.0.0.53 or 1.1.1.1) for the responder's
      address and verifies the answer against FILE, the CA's intermediates and root.`;

/** What parseArgs gives for TLS_OPTIONS, strings only (see args.ts). */
export interface TlsValues {
  cert?: string;
  key?: string;
  hsts: boolean;
  ocspStapling: boolean;
  resolvers: string[];
  chain?: string;
}

/** `file` as an absolute path nginx can be given, after checking it is a readable file. */
function readableFile(option: string, file: string): string {
  const absolute = path.resolve(file);
  const problem = tlsPathProblem(absolute);
  if (problem !== undefined) throw new UsageError(`--${option} ${absolute}: ${problem}`);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(absolute);
  } catch {
    throw new UsageError(`--${option} ${absolute}: no such file`);
  }
  if (!stat.isFile()) throw new UsageError(`--${option} ${absolute}: not a file`);
  try {
    fs.accessSync(absolute, fs.constants.R_OK);
  } catch {
    throw new UsageError(`--${option} ${absolute}: not readable by this user`);
  }
  return absolute;
}

/** The TLS settings the options ask for: undefined for plain HTTP. Throws UsageError on a wrong combination. */
export function parseTls(values: TlsValues): NginxTls | undefined {
  const { cert, key } = values;
  if (cert !== undefined && key === undefined)
    throw new UsageError("--tls-cert needs --tls-key FILE (the certificate's private key)");
  if (key !== undefined && cert === undefined)
    throw new UsageError('--tls-key needs --tls-cert FILE (the certificate it belongs to)');
  const given = [
    ...(values.hsts ? ['--hsts'] : []),
    ...(values.ocspStapling ? ['--tls-ocsp-stapling'] : []),
    ...(values.resolvers.length > 0 ? ['--tls-resolver'] : []),
    ...(values.chain !== undefined ? ['--tls-chain'] : []),
  ];
  if (cert === undefined || key === undefined) {
    if (given.length > 0) {
      throw new UsageError(
        `${given.join(', ')} only ${given.length > 1 ? 'apply' : 'applies'} to HTTPS: give --tls-cert and --tls-key too`,
      );
    }
    return undefined;
  }
  const tls: NginxTls = { cert: readableFile('tls-cert', cert), key: readableFile('tls-key', key), hsts: values.hsts };
  if (!values.ocspStapling) {
    if (values.resolvers.length > 0 || values.chain !== undefined) {
      throw new UsageError('--tls-resolver and --tls-chain are only used with --tls-ocsp-stapling');
    }
    return tls;
  }
  if (values.resolvers.length === 0) {
    throw new UsageError(
      "--tls-ocsp-stapling needs --tls-resolver ADDR: the DNS server nginx asks for the OCSP responder's address",
    );
  }
  for (const r of values.resolvers) {
    if (!isResolverAddress(r))
      throw new UsageError(`--tls-resolver must be an IP address, optionally with :port (got "${r}")`);
  }
  if (values.chain === undefined) {
    throw new UsageError(
      '--tls-ocsp-stapling needs --tls-chain FILE: the CA certificates (intermediates and root) OCSP answers are verified against',
    );
  }
  return { ...tls, ocspStapling: { resolvers: values.resolvers, chain: readableFile('tls-chain', values.chain) } };
}
