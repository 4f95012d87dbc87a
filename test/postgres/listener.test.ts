import { expect } from 'chai';
import pg from 'pg';
import { CATALOG_CHANNEL } from '../../src/postgres/live-catalog';
import { listenForCatalogChanges, MISSED, type CatalogListener } from '../../src/postgres/listener';
import { createTestDatabase, testServer, type TestDatabase } from '../support/postgres';
import { memoryLogger } from '../support/silent-logger';
import { eventually } from '../support/wait';

const APP = 'atelier-products listener';
const KEPT = 'catalog listener reconnected; no change committed meanwhile: cache kept';

describe('catalog listener reconnects (real PostgreSQL)', function () {
  this.timeout(30_000);
  let db: TestDatabase;
  let admin: pg.Client;
  let listener: CatalogListener | undefined;
  let version = 0;

  /** A catalog version committed as the tools commit theirs, with its notice unless `quietly`. */
  const commitVersion = async (quietly = false): Promise<string> => {
    version++;
    await admin.query('BEGIN');
    await admin.query("INSERT INTO catalog.catalog_info (version, source, kind) VALUES ($1, 'test', 'changes')", [version]);
    if (!quietly) await admin.query('SELECT pg_notify($1, $2)', [CATALOG_CHANNEL, `${version} p1`]);
    await admin.query('COMMIT');
    return String(version);
  };

  const listenerPid = async (): Promise<number | undefined> => {
    const { rows } = await admin.query<{ pid: number }>(
      // Idle after the version read: cutting it mid-read would be a missed read, not a reconnect.
      "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database() AND state = 'idle' AND query ILIKE $2",
      [APP, '%catalog_info%'],
    );
    return rows[0]?.pid;
  };

  /** Starts a listener and waits until it has read the catalog's version after its LISTEN. */
  const start = async (): Promise<{ notices: string[]; lines: () => Array<Record<string, unknown>> }> => {
    const notices: string[] = [];
    const { log, lines } = memoryLogger();
    listener = listenForCatalogChanges({ connectionString: db.url, log, onChange: (p) => notices.push(p) });
    await eventually(async () => (await listenerPid()) !== undefined, 10_000, 'the listener read the version');
    return { notices, lines };
  };

  /** Ends the listener's session from the server side, as a PostgreSQL restart does. */
  const cut = async (): Promise<number> => {
    const pid = await listenerPid();
    expect(pid, 'a listener session').to.be.a('number');
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    return pid!;
  };

  /** Runs `meanwhile` with the listener cut off and unable to come back, then lets it in. */
  const whileDown = async (meanwhile: () => Promise<unknown>): Promise<void> => {
    // From another database: PostgreSQL refuses to lock out the one a session is in.
    const server = new pg.Client({ connectionString: (await testServer()).adminUrl });
    await server.connect();
    await server.query(`ALTER DATABASE ${db.name} WITH ALLOW_CONNECTIONS false`);
    try {
      await cut();
      await meanwhile();
    } finally {
      await server.query(`ALTER DATABASE ${db.name} WITH ALLOW_CONNECTIONS true`);
      await server.end();
    }
  };

  const reconnected = (lines: () => Array<Record<string, unknown>>, notices: string[], n: number): Promise<void> =>
    eventually(() => lines().filter((l) => l.msg === KEPT).length + notices.filter((p) => p === MISSED).length >= n, 20_000, `reconnect ${n} decided`);

  before(async () => {
    db = await createTestDatabase();
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await commitVersion();
  });
  afterEach(async () => {
    await listener?.close();
    listener = undefined;
  });
  after(async () => {
    await admin?.end();
    await db?.drop();
  });

  it('when its LISTEN is in place before the wait ends, then ready() resolves at once and the first connect clears nothing', async () => {
    const { log } = memoryLogger();
    const notices: string[] = [];
    listener = listenForCatalogChanges({ connectionString: db.url, log, onChange: (p) => notices.push(p) });
    const started = Date.now();
    await listener.ready(10_000);
    expect(Date.now() - started, 'ms waited').to.be.below(5_000);
    expect(await listenerPid(), 'LISTENing, version read').to.be.a('number');
    const next = await commitVersion();
    await eventually(() => notices.includes(`${next} p1`), 10_000, 'the notice arrived');
    expect(notices).to.deep.equal([`${next} p1`]);
  });

  it('when the database refuses connections until after the wait, then ready() resolves at its timeout and the first connect reports a missed change', async () => {
    const { log } = memoryLogger();
    const notices: string[] = [];
    const server = new pg.Client({ connectionString: (await testServer()).adminUrl });
    await server.connect();
    await server.query(`ALTER DATABASE ${db.name} WITH ALLOW_CONNECTIONS false`);
    try {
      listener = listenForCatalogChanges({ connectionString: db.url, log, onChange: (p) => notices.push(p) });
      const started = Date.now();
      await listener.ready(300);
      expect(Date.now() - started, 'ms waited').to.be.within(250, 5_000);
      // What the worker cached from here on may predate a change it will never be told of.
      await commitVersion(true);
    } finally {
      await server.query(`ALTER DATABASE ${db.name} WITH ALLOW_CONNECTIONS true`);
      await server.end();
    }
    await eventually(() => notices.length > 0, 20_000, 'the first connect decided');
    expect(notices).to.deep.equal([MISSED]);
  });

  it('when its session is cut and nothing is committed meanwhile, then it reconnects and keeps the cache', async () => {
    const { notices, lines } = await start();
    const first = await cut();
    await reconnected(lines, notices, 1);
    expect(notices).to.deep.equal([]);
    expect(lines().find((l) => l.msg === KEPT)).to.include({ version: String(version) });
    expect(await listenerPid()).to.be.a('number').and.not.equal(first);
  });

  it('when a change is committed while it is disconnected, then the reconnect reports a missed change (the cache is cleared)', async () => {
    const { notices, lines } = await start();
    await whileDown(() => commitVersion());
    await reconnected(lines, notices, 1);
    expect(notices).to.deep.equal([MISSED]);
  });

  it('when a notice was heard before the cut and nothing after, then the reconnect keeps the cache; a later change is heard as usual', async () => {
    const { notices, lines } = await start();
    const heard = await commitVersion();
    await eventually(() => notices.includes(`${heard} p1`), 10_000, 'the notice arrived');
    await cut();
    await reconnected(lines, notices, 1);
    expect(notices).to.deep.equal([`${heard} p1`]);
    const next = await commitVersion();
    await eventually(() => notices.includes(`${next} p1`), 10_000, 'the next notice arrived');
  });

  it('when the catalog is rebuilt from scratch at the same version while it is disconnected, then the reconnect reports a missed change', async () => {
    const { notices, lines } = await start();
    await whileDown(async () => {
      await admin.query('DELETE FROM catalog.catalog_info');
      await admin.query("INSERT INTO catalog.catalog_info (version, source, loaded_at) VALUES ($1, 'rebuilt', now() + interval '1 second')", [version]);
    });
    await reconnected(lines, notices, 1);
    expect(notices).to.deep.equal([MISSED]);
  });
});
