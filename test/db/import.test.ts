import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';

const ROOT = path.join(__dirname, '..', '..');
const TOOLS = ['db/etl.ts', 'db/generate.ts', 'db/migrate.ts', 'db/refresh.ts', 'db/bench-etl.ts'];

describe('data tool modules (import)', function () {
  this.timeout(30_000);

  it('when every command-line tool is imported, then none of them runs: no output, no exit code of its own', () => {
    const requires = TOOLS.map((t) => `require(${JSON.stringify(path.join(ROOT, t))});`).join(' ');
    const run = spawnSync(
      process.execPath,
      ['-e', `require('tsx/cjs'); ${requires} process.stdout.write('imported');`],
      {
        cwd: ROOT,
        encoding: 'utf8',
        // No database: a tool that started would fail or start one, and say so.
        env: { ...process.env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
      },
    );
    expect({ status: run.status, stdout: run.stdout, stderr: run.stderr }).to.deep.equal({
      status: 0,
      stdout: 'imported',
      stderr: '',
    });
  });
});
