import { expect } from 'chai';
import pg from 'pg';
import { migrate } from '../../src/postgres/migrate';
import { ADVISORY_LOCKS } from '../../src/postgres/locks';
import { ownerIdentity, provisionReader, readerPassword, readerUrl, ReaderRefusedError } from '../../src/postgres/roles';
import { loadCatalog } from '../support/catalog';
import { createTestDatabase, queryRows, type TestDatabase } from '../support/postgres';

describe('read-only database role (real PostgreSQL)', () => {
  let db: TestDatabase;
  let reader: pg.Client;

  before(async () => {
    db = await createTestDatabase();
    await loadCatalog(db.url, { products: [{ id: 1, name: 'A', default_price: 1 }] });
    const owner = new pg.Client({ connectionString: db.url });
    await owner.connect();
    const url = await provisionReader(owner, db.url);
    // Provisioning twice (every instance start) is harmless and keeps the same password.
    expect(await provisionReader(owner, db.url)).to.equal(url);
    await owner.end();
    expect(url).to.equal(readerUrl(db.url));
    reader = new pg.Client({ connectionString: url });
    await reader.connect();
  });
  after(async () => {
    await reader?.end();
    await db?.drop();
  });

  it('when the reader reads documents, then it can', async () => {
    const { rows } = await reader.query('SELECT body FROM catalog.product_doc WHERE id = 1');
    expect(rows).to.have.length(1);
  });

  for (const sql of [
    "INSERT INTO catalog.product (id, name, default_price) VALUES (2, 'x', 1)",
    'DELETE FROM catalog.product',
    'REFRESH MATERIALIZED VIEW catalog.product_doc',
    'CREATE TABLE catalog.evil (id int)',
    'CREATE TABLE public.evil (id int)',
    'DROP SCHEMA catalog CASCADE',
  ]) {
    it(`when the reader tries "${sql.slice(0, 40)}…", then it is refused`, async () => {
      let failed: unknown;
      try {
        await reader.query(sql);
      } catch (err) {
        failed = err;
      }
      expect(failed, sql).to.be.instanceOf(Error);
      expect((failed as { code?: string }).code).to.be.oneOf(['42501', '25006']);
    });
  }

  it('when the owner builds another catalog schema later, then the reader can read it too', async () => {
    const owner = new pg.Client({ connectionString: db.url });
    await owner.connect();
    await migrate(owner, 'catalog_next');
    await owner.end();
    const { rows } = await reader.query('SELECT count(*)::int AS n FROM catalog_next.product_doc');
    expect(rows[0].n).to.equal(0);
  });

  it('when the owner connects through a socket directory with no host, then the reader URL keeps it and logs in', async () => {
    const owner = new pg.Client({ connectionString: db.url });
    await owner.connect();
    try {
      const dirs = (await owner.query<{ d: string }>("SELECT current_setting('unix_socket_directories') AS d")).rows[0]!.d;
      const port = (await owner.query<{ p: string }>("SELECT current_setting('port') AS p")).rows[0]!.p;
      const socketDir = dirs.split(',')[0]!.trim();
      const parsed = new URL(db.url);
      // libpq's form, which WHATWG URL cannot parse: credentials, no host, the directory in ?host=.
      const socketUrl = `postgres://${parsed.username}:${parsed.password}@${parsed.pathname}?host=${socketDir}&port=${port}`;
      const url = await provisionReader(owner, socketUrl);
      expect(url).to.equal(`postgres://atelier_reader:${readerPassword(ownerIdentity(socketUrl))}@${parsed.pathname}?host=${socketDir}&port=${port}`);
      const socketReader = new pg.Client({ connectionString: url });
      await socketReader.connect();
      try {
        expect((await socketReader.query('SELECT current_user AS u, inet_server_addr() AS a')).rows[0]).to.deep.equal({ u: 'atelier_reader', a: null });
      } finally {
        await socketReader.end();
      }
    } finally {
      // Back to the password the other tests' reader uses.
      await provisionReader(owner, db.url);
      await owner.end();
    }
  });

  it('when one owner role provisions through two differently spelled URLs, then both give the same reader password and neither locks the other out', async () => {
    // Other parameters: the text differs, the owner role and its password do not.
    const other = `${db.url}?application_name=other-deployment&connect_timeout=5`;
    const owner = new pg.Client({ connectionString: other });
    await owner.connect();
    try {
      expect(readerPassword(ownerIdentity(other))).to.equal(readerPassword(ownerIdentity(db.url)));
      const url = await provisionReader(owner, other);
      expect(new URL(url).password).to.equal(new URL(readerUrl(db.url)).password);
    } finally {
      await owner.end();
    }
    // The first deployment's reader, connecting afresh, still logs in.
    const again = new pg.Client({ connectionString: readerUrl(db.url) });
    await again.connect();
    await again.end();
  });

  it('when another owner role on the cluster provisions, then the reader is left alone and it is told why', async () => {
    const name = `atelier_second_owner_${process.pid}`;
    await queryRows(db.url, `CREATE ROLE ${name} LOGIN CREATEROLE PASSWORD 'second-pw'`);
    const parsed = new URL(db.url);
    parsed.username = name;
    parsed.password = 'second-pw';
    const owner = new pg.Client({ connectionString: parsed.toString() });
    await owner.connect();
    try {
      let refused: unknown;
      await provisionReader(owner, parsed.toString()).catch((err: unknown) => (refused = err));
      expect(refused).to.be.instanceOf(ReaderRefusedError);
      expect((refused as Error).message).to.equal(
        `atelier_reader on this PostgreSQL cluster is managed by the owner role "${new URL(db.url).username}": workers connect as the owner ` +
          '(deployments sharing a cluster must share one owner role)',
      );
      // The first deployment's workers keep logging in.
      const reader = new pg.Client({ connectionString: readerUrl(db.url) });
      await reader.connect();
      await reader.end();
    } finally {
      await owner.end();
      await queryRows(db.url, `DROP ROLE ${name}`);
    }
  });

  it('when a catalog load or a migration holds its lock, then provisioning the reader (every start) does not wait for it', async () => {
    const holder = new pg.Client({ connectionString: db.url });
    const owner = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await owner.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1), pg_advisory_lock($2)', [ADVISORY_LOCKS.reload, ADVISORY_LOCKS.migration]);
      // Fails instead of waiting if the reader's lock is one of those.
      await owner.query("SET lock_timeout = '2s'");
      expect(await provisionReader(owner, db.url)).to.equal(readerUrl(db.url));
    } finally {
      await owner.end();
      await holder.end();
    }
  });
});
