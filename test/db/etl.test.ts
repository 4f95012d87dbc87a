import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createTestDatabase, queryRows, type TestDatabase } from '../support/postgres';
import { eventually } from '../support/wait';
import { documentBodies, generateDataset } from './support/datasets';
import { runTool, type ToolRun } from './support/run-tool';
import { EXPECTED_REJECTS, FIXTURE_DIR, readRejects } from './etl/fixture';

const KEYS = ['product:1', 'styles:2', 'related:3', 'page:1:100'];

/** `npm run etl -- args` as a child process. */
function runEtl(args: string[], databaseUrl: string): ToolRun {
  return runTool('db/etl.ts', args, { DATABASE_URL: databaseUrl });
}

describe('npm run etl (command line)', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let tmp: string;
  const children: ChildProcess[] = [];

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-etl-cli-'));
  });

  beforeEach(async () => {
    db = await createTestDatabase();
  });

  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await db?.drop();
  });

  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('when loading the fixture, then it prints the reconciliation, writes the rejects and exits 0', async () => {
    const rejects = path.join(tmp, 'cli-rejects.csv');
    const run = runEtl(['--dir', FIXTURE_DIR, '--rejects', rejects], db.url);
    children.push(run.child);
    const { code, stdout, stderr } = await run.done;
    expect(code, stderr).to.equal(0);
    expect(stdout).to.include(
      [
        'file          read  loaded  rejected  dropped',
        'product.csv     12       6         6        0',
        'features.csv    13       8         5        0',
        'styles.csv      13       7         6        0',
        'photos.csv       9       5         4        0',
        'skus.csv        13       6         7        0',
        'related.csv     17       7         7        3',
        'total           77      39        35        3',
      ].join('\n'),
    );
    expect(stdout).to.match(
      /catalog version 1 loaded in \d+s \(campus hr-rfp\); 35 rejects written to .*cli-rejects\.csv; peak RSS \d+ MiB/,
    );
    // Not a terminal: plain lines, no cursor control.
    expect(stderr).to.include('product.csv: 12 read, 6 loaded, 6 rejected, 0 dropped');
    expect(stderr).to.not.include('\x1b[');
    expect(readRejects(rejects)).to.deep.equal(EXPECTED_REJECTS);
  });

  it('when loading with --nice 5 (PostgreSQL on this host), then its sessions run at that priority and the catalog is the same', async function () {
    // Renicing the server's backends (another user) takes root or CAP_SYS_NICE, as CI has.
    if (process.getuid?.() !== 0) this.skip();
    const run = runEtl(['--dir', FIXTURE_DIR, '--nice', '5', '--rejects', path.join(tmp, 'nice-rejects.csv')], db.url);
    children.push(run.child);
    const { code, stdout, stderr } = await run.done;
    expect(code, stderr).to.equal(0);
    expect(stderr).to.include("priority: the load's 3 database sessions run at nice 5, without parallel workers");
    expect(stdout).to.include('total           77      39        35        3');
  });

  it('when --nice is given with --changes, then it is refused: it belongs to full loads', async () => {
    const run = runEtl(['--changes', FIXTURE_DIR, '--nice', '5'], db.url);
    children.push(run.child);
    const { code, stderr } = await run.done;
    expect(code).to.equal(1);
    expect(stderr).to.include('--campus, --jobs, --max-reject-ratio and --nice belong to full loads (--dir)');
  });

  it('when the folder is missing, then it exits 1 saying why and that the live catalog is unchanged', async () => {
    const run = runEtl(['--dir', path.join(tmp, 'nowhere'), '--rejects', path.join(tmp, 'r.csv')], db.url);
    children.push(run.child);
    const { code, stderr } = await run.done;
    expect(code).to.equal(1);
    expect(stderr).to.include(
      `etl failed: ${path.join(tmp, 'nowhere')} is not a directory\nThe live catalog is unchanged.`,
    );
  });

  for (const [what, campus] of [
    ['empty', ''],
    ['over 64 characters', 'x'.repeat(65)],
    ['non-printable', 'hr\u0007rfp'],
    ['with a space', 'hr rfp'],
  ] as const) {
    it(`when --campus is ${what}, then it exits 1 before any work, saying what a code may be`, async () => {
      const rejects = path.join(tmp, `campus-${what}.csv`);
      const run = runEtl(['--dir', FIXTURE_DIR, '--campus', campus, '--rejects', rejects], db.url);
      children.push(run.child);
      const { code, stderr } = await run.done;
      expect(code).to.equal(1);
      expect(stderr).to.include(
        `etl failed: --campus must be 1 to 64 printable ASCII characters without spaces (got ${JSON.stringify(campus)})`,
      );
      // Before any work: nothing said about the live catalog, no rejects file, no schema built.
      expect(stderr).to.not.include('live catalog');
      expect(fs.existsSync(rejects)).to.equal(false);
      expect(await queryRows(db.url, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'catalog%'")).to.deep.equal([['catalog']]);
      expect(await queryRows(db.url, 'SELECT count(*)::int FROM catalog.catalog_info')).to.deep.equal([[0]]);
    });
  }

  for (const [option, value, expected] of [
    ['--jobs', '2.5', '--jobs must be an integer from 1 to 16 (got "2.5")'],
    ['--max-reject-ratio', '2', '--max-reject-ratio must be a number from 0 to 1 (got "2")'],
    ['--nice', '20', '--nice must be an integer from 0 to 19 (got "20")'],
  ] as const) {
    it(`when ${option} is ${value}, then it exits 1 before any work, naming the option, its range and the value`, async () => {
      const rejects = path.join(tmp, `option${option}.csv`);
      const run = runEtl(['--dir', FIXTURE_DIR, option, value, '--rejects', rejects], db.url);
      children.push(run.child);
      const { code, stderr } = await run.done;
      expect(code).to.equal(1);
      expect(stderr).to.include(`etl failed: ${expected}\n`);
      expect(stderr).to.not.include('live catalog');
      expect(fs.existsSync(rejects)).to.equal(false);
    });
  }

  describe('when interrupted in the middle of a load', () => {
    let big: string;
    let previous: Map<string, string | undefined>;

    before(async () => {
      big = path.join(tmp, 'big');
      await generateDataset(big, 20_000, 3);
    });

    beforeEach(async () => {
      const first = runEtl(['--dir', FIXTURE_DIR, '--rejects', path.join(tmp, 'first.csv')], db.url);
      children.push(first.child);
      expect((await first.done).code).to.equal(0);
      previous = await documentBodies(db.url, KEYS);
    });

    /** Starts loading `big` and resolves once PostgreSQL reports a COPY in progress for it. */
    async function loadUntilCopying(): Promise<ToolRun> {
      const run = runEtl(['--dir', big, '--rejects', path.join(tmp, 'big.csv')], db.url);
      children.push(run.child);
      await eventually(
        async () =>
          Number(
            (
              await queryRows(db.url, 'SELECT count(*)::int FROM pg_stat_progress_copy WHERE datname = $1', [db.name])
            )[0]![0],
          ) >= 1,
        10_000,
        'the load is copying rows',
      );
      return run;
    }

    it('when the loader is killed, then the live catalog is untouched and the next load succeeds', async () => {
      const run = await loadUntilCopying();
      run.child.kill('SIGKILL');
      expect((await run.done).code).to.equal(null);
      expect(await documentBodies(db.url, KEYS)).to.deep.equal(previous);
      expect(await queryRows(db.url, 'SELECT version FROM catalog.catalog_info')).to.deep.equal([['1']]);

      const again = runEtl(['--dir', FIXTURE_DIR, '--rejects', path.join(tmp, 'again.csv')], db.url);
      children.push(again.child);
      const { code, stderr } = await again.done;
      expect(code, stderr).to.equal(0);
      expect(await queryRows(db.url, 'SELECT version FROM catalog.catalog_info')).to.deep.equal([['2']]);
      expect(await queryRows(db.url, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'catalog%'")).to.deep.equal([
        ['catalog'],
      ]);
    });

    it('when the loader gets SIGINT, then it drops the partial catalog and exits 1 with a clear message', async () => {
      const run = await loadUntilCopying();
      run.child.kill('SIGINT');
      const { code, stderr } = await run.done;
      expect(code).to.equal(1);
      expect(stderr).to.include('etl failed: interrupted\nThe live catalog is unchanged.');
      expect(await documentBodies(db.url, KEYS)).to.deep.equal(previous);
      expect(await queryRows(db.url, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'catalog%'")).to.deep.equal([
        ['catalog'],
      ]);
    });
  });
});
