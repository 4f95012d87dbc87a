import { expect } from 'chai';
import { loadConfig } from '../../src/config';
import { prepareDatabase } from '../../src/postgres/prepare-database';
import { withDatabase } from '../../src/postgres/urls';
import { createTestDatabase, queryRows, type TestDatabase } from '../support/postgres';
import { memoryLogger } from '../support/silent-logger';

describe('database preparation at start (real PostgreSQL)', () => {
  const OWNER = `atelier_nocreaterole_${process.pid}`;
  let db: TestDatabase;

  before(async () => {
    db = await createTestDatabase({ migrate: false });
    // An owner that may create schemas in its database but not roles.
    await queryRows(db.url, `CREATE ROLE ${OWNER} LOGIN PASSWORD 'owner-pw' NOCREATEROLE`);
    await queryRows(db.url, `ALTER DATABASE ${db.name} OWNER TO ${OWNER}`);
  });
  after(async () => {
    await db?.drop();
    await queryRows(withDatabase(db.url, 'postgres'), `DROP ROLE IF EXISTS ${OWNER}`);
  });

  it('when the owner may not create roles, then the schema is migrated and workers get the owner URL, with a warning naming the fix', async () => {
    const parsed = new URL(db.url);
    parsed.username = OWNER;
    parsed.password = 'owner-pw';
    const ownerUrl = parsed.toString();
    const { log, lines } = memoryLogger();
    expect(await prepareDatabase(ownerUrl, loadConfig({}), false, log)).to.equal(ownerUrl);
    expect(await queryRows(ownerUrl, 'SELECT count(*)::int FROM catalog.catalog_info')).to.deep.equal([[0]]);
    const warning = lines().find((l) => l.level === 40);
    expect(warning?.msg).to.match(/may not create roles: workers connect as the owner \(grant CREATEROLE, or create atelier_reader\)/);
  });
});
