import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { killGroup } from '../../src/fleet/process';
import { HSTS_VALUE } from '../../src/fleet/nginx-tls';
import { requireNginx } from '../deploy/nginx-harness';
import { loadCatalog } from '../support/catalog';
import { makeTestCertificate, type TestCertificate } from '../support/certificate';
import { h2get } from '../support/http2';
import { createTestDatabase, freePort, type TestDatabase } from '../support/postgres';
import { alive, assertBuilt, startFleetProcess, type FleetProcess } from './fleet-process';
import { fleetCatalog } from './fixture';

describe('fleet: npm run fleet -- --tls-cert … --tls-key … (real nginx, a real instance)', function () {
  this.timeout(90_000);
  let db: TestDatabase;
  let cert: TestCertificate;
  let fleet: FleetProcess | undefined;
  let runDir: string;
  const pids = new Set<number>();

  before(async function () {
    requireNginx(this);
    assertBuilt();
    cert = makeTestCertificate(this);
    db = await createTestDatabase();
    await loadCatalog(db.url, fleetCatalog(3));
    runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-fleet-tls-'));
  });

  after(async () => {
    await fleet?.stop();
    for (const pid of pids) killGroup(pid, 'SIGKILL');
    await db?.drop();
    cert?.remove();
    if (runDir) fs.rmSync(runDir, { recursive: true, force: true });
  });

  it('when started with a certificate and --hsts, then nginx serves the catalog over HTTPS with HTTP/2 and HSTS, and everything stops on SIGTERM', async () => {
    const args = ['--instances', '1', '--port', String(await freePort()), '--workers', '1', '--run-dir', runDir];
    fleet = startFleetProcess([...args, '--tls-cert', cert.certFile, '--tls-key', cert.keyFile, '--hsts'], {
      DATABASE_URL: db.url,
      SHUTDOWN_TIMEOUT_MS: '3000',
    });
    // The fleet's own readiness probe of nginx goes over HTTPS to get this far.
    await fleet.waitFor(/^fleet: ready: /m, 60_000);
    for (const pid of fleet.pids()) pids.add(pid);
    expect(fleet.url()).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);

    const res = await h2get(`${fleet.url()}/products/2/styles`, cert.pem);
    expect(res.alpn).to.equal('h2');
    expect(res.status).to.equal(200);
    expect((JSON.parse(res.body.toString()) as { product_id: string }).product_id).to.equal('2');
    expect(res.headers['strict-transport-security']).to.equal(HSTS_VALUE);

    const { code } = await fleet.stop();
    expect(code).to.equal(0);
    for (const pid of pids) expect(alive(pid), `pid ${pid} still running`).to.equal(false);
  });
});
