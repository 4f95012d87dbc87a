/**
 * HTTPS and HTTP/2 on the public listener of a fleet or bare-metal load balancer: the lines
 * of the main file that name this site's certificate. The settings every site shares
 * (Mozilla intermediate, the session cache) are in nginx/tls.conf.
 */

export interface NginxTls {
  /** PEM certificate followed by its intermediates (Let's Encrypt: fullchain.pem); an absolute path. */
  cert: string;
  /** Its PEM private key (Let's Encrypt: privkey.pem); an absolute path. */
  key: string;
  /** Strict-Transport-Security on every public answer. */
  hsts: boolean;
  /** OCSP stapling; off when unset. */
  ocspStapling?: {
    /** DNS servers nginx asks for the OCSP responder's address: IPs, optionally with :port. */
    resolvers: readonly string[];
    /** The CA certificates (intermediates and root) OCSP answers are verified against; an absolute path. */
    chain: string;
  };
}

/** Two years, in seconds: Mozilla's minimum for HSTS, and what preload lists ask for. */
export const HSTS_VALUE = 'max-age=63072000';

// Paths end up inside a quoted nginx string: no quote, backslash, `$` (a variable: nginx
// would read the file per handshake), `;`, braces, space or control character can occur.
const PATH = /^\/[A-Za-z0-9._/+@=,:~-]*$/;
const RESOLVER = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\])(:\d{1,5})?$/;

/** Why `file` cannot be put in nginx's configuration, or undefined when it can. */
export function tlsPathProblem(file: string): string | undefined {
  if (PATH.test(file)) return undefined;
  return "the path must be absolute and hold only letters, digits and / . _ - + @ = , : ~ (it is written into nginx's configuration)";
}

/** Whether `address` is what nginx's `resolver` takes here: an IP address, optionally with :port. */
export const isResolverAddress = (address: string): boolean => RESOLVER.test(address);

function quotedPath(file: string, what: string): string {
  const problem = tlsPathProblem(file);
  if (problem !== undefined) throw new Error(`invalid ${what} "${file}": ${problem}`);
  return `"${file}"`;
}

/** The template's TLS placeholders: all empty for plain HTTP. */
export interface RenderedTls {
  /** Appended to the public `listen` value. */
  LISTEN_TLS: string;
  /** Lines inside the public server {}. */
  TLS: string;
  /** Entries of `map $scheme $atelier_hsts`. */
  HSTS: string;
}

export function renderTls(tls: NginxTls | undefined, sharedDir: string): RenderedTls {
  if (tls === undefined) return { LISTEN_TLS: '', TLS: '', HSTS: '' };
  const lines = [
    `        include "${sharedDir}/tls.conf";`,
    `        ssl_certificate ${quotedPath(tls.cert, 'certificate')};`,
    `        ssl_certificate_key ${quotedPath(tls.key, 'certificate key')};`,
  ];
  if (tls.ocspStapling !== undefined) {
    const { resolvers, chain } = tls.ocspStapling;
    if (resolvers.length === 0) throw new Error('OCSP stapling needs at least one resolver');
    for (const r of resolvers)
      if (!isResolverAddress(r)) throw new Error(`invalid resolver "${r}": an IP address, optionally with :port`);
    lines.push(
      "        # nginx fetches the CA's OCSP answer (it asks the resolver for the responder's",
      '        # address), verifies it against the chain and sends it in the handshake.',
      '        ssl_stapling on;',
      '        ssl_stapling_verify on;',
      `        ssl_trusted_certificate ${quotedPath(chain, 'certificate chain')};`,
      `        resolver ${resolvers.join(' ')};`,
    );
  }
  return {
    LISTEN_TLS: ' ssl http2',
    TLS: lines.join('\n'),
    // Keyed by $scheme: even a plain-HTTP server added to this file later never sends it.
    HSTS: tls.hsts ? `        https "${HSTS_VALUE}";` : '',
  };
}
