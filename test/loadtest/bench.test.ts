import { expect } from 'chai';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { FIXTURE } from '../support/fixture';
import { requireBinary } from '../support/binaries';
import { loadCatalog } from '../support/catalog';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

const ROOT = path.resolve(__dirname, '../..');

describe('bench runner smoke (wrk, nginx, the built service; a few seconds)', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  before(async function () {
    requireBinary(this, 'wrk', 'wrk');
    requireBinary(this, 'nginx', 'nginx');
    db = await createTestDatabase();
    await loadCatalog(db.url, FIXTURE);
  });
  after(async () => db?.drop());

  it('when run briefly on a small catalog, then it prints every scenario beside the baseline with no errors', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'loadtest/bench/main.ts', '--duration', '1', '--churn', '1', '--rounds', '1', '--paths', '300', '--connections', '4'],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', DATABASE_URL: db.url, WORKERS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code, err).to.equal(0);
    const rows = out.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| scenario'));
    expect(rows.map((r) => r.split('|')[1]!.trim().split(':')[0])).to.deep.equal([
      'baseline', 'hot', 'baseline (styles)', 'hot styles', 'database', 'cold', 'cold styles', 'memory', 'listing', 'listing', 'overload', 'overload', 'overload',
    ]);
    for (const row of rows) {
      const cells = row.split('|').map((c) => c.trim());
      expect(Number(cells[2]), row).to.be.greaterThan(0); // req/s
      expect(cells[8], `socket errors in ${row}`).to.equal('0');
      expect(Number(cells[10]), row).to.be.greaterThan(0); // requests
      // Overload may answer 503 (and says which statuses it saw); nothing else may fail.
      if (!cells[1]!.startsWith('overload')) expect(cells[9], `non-2xx in ${row}`).to.equal('0');
      // The cold styles row is compared with the database's own rate too.
      if (cells[1]!.startsWith('cold styles')) expect(Number(cells[4]), row).to.be.greaterThan(0);
    }
    const tallies = out.split('\n').filter((l) => l.startsWith('- overload'));
    expect(tallies).to.have.length(3);
    for (const line of tallies) {
      const statuses = JSON.parse(line.slice(line.indexOf('{'))) as Record<string, number>;
      expect(Object.keys(statuses).filter((code) => code !== '200' && code !== '503'), line).to.deep.equal([]);
    }
  });
});
