import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { isLocalBackend, lowerSessionPriority } from '../../../db/etl/priority';
import { createTestDatabase, type TestDatabase } from '../../support/postgres';

/** The nice value of process `pid` (/proc/PID/stat field 19). */
function niceOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

describe('Loader priority (db/etl/priority.ts)', () => {
  describe('isLocalBackend', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-priority-'));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('when the process with that pid works in the data directory, then it is the backend', () => {
      expect(isLocalBackend(42, dir, () => fs.realpathSync(dir))).to.equal(true);
    });

    it('when the pid is some other local process, or none, or the directory is unknown, then it is not', () => {
      expect(isLocalBackend(42, dir, () => '/')).to.equal(false);
      expect(isLocalBackend(42, dir, () => undefined)).to.equal(false);
      expect(isLocalBackend(42, undefined, () => fs.realpathSync(dir))).to.equal(false);
      // A server on another host names a directory this host may not have.
      expect(isLocalBackend(42, '/nonexistent/pgdata', () => '/nonexistent/pgdata-other')).to.equal(false);
    });
  });

  describe('lowerSessionPriority (real PostgreSQL on this host)', () => {
    let db: TestDatabase;
    let client: pg.Client;
    before(async () => {
      db = await createTestDatabase({ migrate: false });
      client = new pg.Client({ connectionString: db.url });
      await client.connect();
    });
    after(async () => {
      await client?.end();
      await db?.drop();
    });

    it('when lowered to 7, then its backend runs at nice 7 without parallel workers, and this process keeps its priority', async function () {
      // Renicing the server's processes (another user) takes root or CAP_SYS_NICE, as CI has.
      if (process.getuid?.() !== 0) this.skip();
      const before = os.getPriority();
      expect(await lowerSessionPriority(client, 7)).to.equal(undefined);
      const { rows } = await client.query<{ pid: number; m: string; g: string }>(
        "SELECT pg_backend_pid() AS pid, current_setting('max_parallel_maintenance_workers') AS m, current_setting('max_parallel_workers_per_gather') AS g",
      );
      expect(niceOf(rows[0]!.pid)).to.equal(7);
      expect([rows[0]!.m, rows[0]!.g]).to.deep.equal(['0', '0']);
      expect(os.getPriority()).to.equal(before);
    });
  });

  describe('lowerOwnPriority', () => {
    it('when called, then every thread of the process runs at that priority, not only the main one', () => {
      const module = path.resolve(__dirname, '../../../db/etl/priority.ts');
      const script = `
        const fs = require('node:fs');
        require(${JSON.stringify(module)}).lowerOwnPriority(6);
        const nice = (tid) => { const s = fs.readFileSync('/proc/self/task/' + tid + '/stat', 'utf8'); return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[16]); };
        console.log(JSON.stringify(fs.readdirSync('/proc/self/task').map(nice)));`;
      const run = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], { encoding: 'utf8' });
      expect(run.status, run.stderr).to.equal(0);
      const nices = JSON.parse(run.stdout) as number[];
      // Node runs V8's platform workers and more beside the main thread.
      expect(nices.length).to.be.greaterThan(1);
      expect(nices.every((n) => n === 6), run.stdout).to.equal(true);
    });
  });
});
