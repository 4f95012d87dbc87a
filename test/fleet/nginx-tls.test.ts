import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderNginxConf, sharedNginxDir, writeNginxConfig, type NginxSiteOptions } from '../../src/fleet/nginx-config';
import { findNginx, testNginxConfig } from '../../src/fleet/nginx';
import { HSTS_VALUE, type NginxTls } from '../../src/fleet/nginx-tls';
import { requireNginx } from '../deploy/nginx-harness';
import { makeTestCertificate, type TestCertificate } from '../support/certificate';
import { assertBuilt, FLEET_CLI } from './fleet-process';

const SITE: NginxSiteOptions = {
  sharedDir: sharedNginxDir(),
  listen: '127.0.0.1:8443',
  statusListen: '127.0.0.1:8081',
  upstreams: ['127.0.0.1:3000'],
  microcache: false,
  limitExempt: [],
  workerProcesses: 1,
  corsAllowOrigins: '*',
};
const TLS: NginxTls = { cert: '/etc/atelier/fullchain.pem', key: '/etc/atelier/privkey.pem', hsts: false };
const STAPLING = { resolvers: ['127.0.0.53', '[::1]:53'], chain: '/etc/atelier/chain.pem' };

/** The lines of the rendered public server {} block (the one including public.conf). */
function publicServer(conf: string): string[] {
  const block = conf.match(/server \{\n([^}]*?public\.conf[^}]*?)\n\s*\}/)?.[1];
  expect(block, 'the public server block').to.be.a('string');
  return block!
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** The entries of `map $scheme $atelier_hsts`. */
function hstsMap(conf: string): string[] {
  const block = conf.match(/map \$scheme \$atelier_hsts \{\n([^}]*)\}/)?.[1];
  expect(block, 'the HSTS map').to.be.a('string');
  return block!
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** The directives of nginx/tls.conf, name to arguments. */
function sharedTlsSettings(): Record<string, string> {
  const text = fs.readFileSync(path.join(sharedNginxDir(), 'tls.conf'), 'utf8');
  const entries = text
    .split('\n')
    .filter((l) => /^[a-z]/.test(l))
    .map((l) => l.replace(/;$/, '').split(/\s+(.*)/) as [string, string]);
  return Object.fromEntries(entries.map(([name, value]) => [name, value]));
}

describe('nginx configuration with and without TLS (rendered)', () => {
  it('when no certificate is given, then the public server is plain HTTP: no ssl, no HTTP/2, no TLS settings, an empty HSTS map', () => {
    const conf = renderNginxConf(SITE);
    expect(publicServer(conf)).to.deep.equal(['listen 127.0.0.1:8443;', `include "${SITE.sharedDir}/public.conf";`]);
    const directives = conf.split('\n').filter((l) => !l.trim().startsWith('#'));
    expect(directives.join('\n')).not.to.match(/\bssl|tls\.conf|http2/);
    expect(hstsMap(conf)).to.deep.equal(['default "";']);
  });

  it('when a certificate is given, then HTTPS with HTTP/2 on the same listen, the shared settings and the quoted paths; no HSTS, no stapling', () => {
    const conf = renderNginxConf({ ...SITE, tls: TLS });
    expect(publicServer(conf)).to.deep.equal([
      'listen 127.0.0.1:8443 ssl http2;',
      `include "${SITE.sharedDir}/tls.conf";`,
      'ssl_certificate "/etc/atelier/fullchain.pem";',
      'ssl_certificate_key "/etc/atelier/privkey.pem";',
      `include "${SITE.sharedDir}/public.conf";`,
    ]);
    expect(hstsMap(conf)).to.deep.equal(['default "";']);
    // The private status listener stays plain HTTP.
    expect(conf).to.match(/listen 127\.0\.0\.1:8081;/);
  });

  it('when HSTS is asked for, then the map sends max-age=63072000 (2 years) over HTTPS only', () => {
    expect(hstsMap(renderNginxConf({ ...SITE, tls: { ...TLS, hsts: true } }))).to.deep.equal([
      'default "";',
      `https "${HSTS_VALUE}";`,
    ]);
    expect(HSTS_VALUE).to.equal('max-age=63072000');
  });

  it('when OCSP stapling is asked for, then stapling and its verification are on, with the chain and the resolvers', () => {
    const lines = publicServer(renderNginxConf({ ...SITE, tls: { ...TLS, ocspStapling: STAPLING } }));
    expect(lines.slice(4, -1)).to.deep.equal([
      'ssl_stapling on;',
      'ssl_stapling_verify on;',
      'ssl_trusted_certificate "/etc/atelier/chain.pem";',
      'resolver 127.0.0.53 [::1]:53;',
    ]);
  });

  it('when a path or a resolver would inject configuration, then rendering refuses it', () => {
    for (const bad of [
      '/x.pem; include /etc/passwd',
      '/x".pem',
      '/$x.pem',
      'relative.pem',
      '/a b.pem',
      '/x\n.pem',
      '/{x}.pem',
    ]) {
      expect(() => renderNginxConf({ ...SITE, tls: { ...TLS, cert: bad } }), bad).to.throw(/invalid certificate/);
      expect(() => renderNginxConf({ ...SITE, tls: { ...TLS, key: bad } }), bad).to.throw(/invalid certificate key/);
      expect(
        () => renderNginxConf({ ...SITE, tls: { ...TLS, ocspStapling: { ...STAPLING, chain: bad } } }),
        bad,
      ).to.throw(/invalid certificate chain/);
    }
    for (const bad of ['1.1.1.1; include /etc/passwd', 'dns.example', '1.1.1.1 valid=1s']) {
      expect(
        () => renderNginxConf({ ...SITE, tls: { ...TLS, ocspStapling: { ...STAPLING, resolvers: [bad] } } }),
        bad,
      ).to.throw(/invalid resolver/);
    }
    expect(() => renderNginxConf({ ...SITE, tls: { ...TLS, ocspStapling: { ...STAPLING, resolvers: [] } } })).to.throw(
      /at least one resolver/,
    );
  });

  it("when the shared TLS settings are read, then they are Mozilla's intermediate profile: TLS 1.2 and 1.3, its ciphers, client order, a shared session cache, no tickets", () => {
    expect(sharedTlsSettings()).to.deep.equal({
      ssl_protocols: 'TLSv1.2 TLSv1.3',
      ssl_ciphers:
        'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305',
      ssl_prefer_server_ciphers: 'off',
      ssl_ecdh_curve: 'X25519:prime256v1:secp384r1',
      ssl_session_timeout: '1d',
      ssl_session_cache: 'shared:atelier_tls:10m',
      ssl_session_tickets: 'off',
    });
  });

  describe('nginx -t (real nginx)', function () {
    this.timeout(60_000);
    let cert: TestCertificate;
    const dirs: string[] = [];
    before(function () {
      requireNginx(this);
      cert = makeTestCertificate(this);
    });
    after(() => {
      cert?.remove();
      for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    });

    const variants: Array<[string, Partial<NginxSiteOptions> | ((c: TestCertificate) => Partial<NginxSiteOptions>)]> = [
      ['plain HTTP', {}],
      ['plain HTTP with the microcache', { microcache: true }],
      ['HTTPS', (c) => ({ tls: { cert: c.certFile, key: c.keyFile, hsts: false } })],
      [
        'HTTPS with HSTS, OCSP stapling and the microcache',
        (c) => ({
          microcache: true,
          tls: {
            cert: c.certFile,
            key: c.keyFile,
            hsts: true,
            ocspStapling: { resolvers: ['127.0.0.53'], chain: c.certFile },
          },
        }),
      ],
    ];
    for (const [what, extra] of variants) {
      it(`when the configuration is rendered for ${what}, then nginx accepts it`, async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-nginx-tls-'));
        dirs.push(dir);
        const conf = writeNginxConfig(dir, { ...SITE, ...(typeof extra === 'function' ? extra(cert) : extra) });
        await testNginxConfig(findNginx()!, dir, conf);
      });
    }

    it('when the built nginx-config CLI gets --tls-cert, --tls-key and --hsts, then it writes an HTTPS configuration nginx accepts', async () => {
      assertBuilt();
      const out = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-nginx-tls-cli-'));
      dirs.push(out);
      const args = [
        'nginx-config',
        '--out',
        out,
        '--upstream',
        '10.0.0.5:3000',
        '--listen',
        '8443',
        '--tls-cert',
        cert.certFile,
        '--tls-key',
        cert.keyFile,
        '--hsts',
      ];
      const run = spawnSync(process.execPath, [FLEET_CLI, ...args], { encoding: 'utf8' });
      expect(run.status, run.stderr).to.equal(0);
      const conf = fs.readFileSync(path.join(out, 'nginx.conf'), 'utf8');
      expect(publicServer(conf).slice(0, 4)).to.deep.equal([
        'listen 8443 ssl http2;',
        `include "${sharedNginxDir()}/tls.conf";`,
        `ssl_certificate "${cert.certFile}";`,
        `ssl_certificate_key "${cert.keyFile}";`,
      ]);
      expect(hstsMap(conf)).to.include(`https "${HSTS_VALUE}";`);
      await testNginxConfig(findNginx()!, out, path.join(out, 'nginx.conf'));
    });

    it('when the key does not belong to the certificate, then nginx -t refuses the configuration', async function () {
      const other = makeTestCertificate(this);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-nginx-tls-'));
      dirs.push(dir, other.dir);
      const conf = writeNginxConfig(dir, { ...SITE, tls: { cert: cert.certFile, key: other.keyFile, hsts: false } });
      const error = await testNginxConfig(findNginx()!, dir, conf).then(
        () => undefined,
        (err: Error) => err.message,
      );
      expect(error).to.match(/key values mismatch|SSL_CTX_use_PrivateKey/);
    });
  });
});
