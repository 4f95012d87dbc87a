import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireBinary } from './binaries';

/** A self-signed certificate for localhost and 127.0.0.1, in a temp folder of its own. */
export interface TestCertificate {
  dir: string;
  certFile: string;
  keyFile: string;
  /** The certificate's PEM text: the CA a client trusts to verify the server. */
  pem: string;
  remove(): void;
}

/**
 * Makes the certificate with openssl (skipped without it on a developer machine, failing in
 * CI, see requireTool). RSA 2048 like most real certificates; valid for a day, enough for a run.
 */
export function makeTestCertificate(ctx: Mocha.Context): TestCertificate {
  const openssl = requireBinary(ctx, 'openssl', 'openssl');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-tls-'));
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  execFileSync(
    openssl,
    // The subjectAltName lets a client verify the name as well as the signature.
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-days',
      '1',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 },
  );
  return {
    dir,
    certFile,
    keyFile,
    pem: fs.readFileSync(certFile, 'utf8'),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
