import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { cpuSeconds, pidsNamed } from './processes';

// Debian's PostgreSQL 15 pgbench (CI installs postgresql-15).
const DEBIAN_PGBENCH = '/usr/lib/postgresql/15/bin/pgbench';

/** What one pgbench run printed: transactions a second, mean latency (ms), counts. */
export interface PgbenchRun {
  tps: number;
  latencyMs: number;
  transactions: number;
  failed: number;
  /** CPU cores PostgreSQL's processes used during the run. */
  cores: number;
}

/**
 * One pgbench run of `scriptFile` (prepared statements, one thread: a client as cheap as
 * wrk) for `seconds`, with the cores PostgreSQL used meanwhile; rejects with its output when it fails.
 */
export async function runPgbench(url: string, scriptFile: string, clients: number, seconds: number): Promise<PgbenchRun> {
  const before = cpuSeconds(pidsNamed('postgres'), true);
  const started = Date.now();
  const run = await pgbench(url, scriptFile, clients, seconds);
  return { ...run, cores: (cpuSeconds(pidsNamed('postgres'), true) - before) / ((Date.now() - started) / 1000) };
}

function pgbench(url: string, scriptFile: string, clients: number, seconds: number): Promise<Omit<PgbenchRun, 'cores'>> {
  const args = ['-n', '-M', 'prepared', '-f', scriptFile, '-c', String(clients), '-j', '1', '-T', String(seconds), url];
  return new Promise((resolve, reject) => {
    const child = spawn(fs.existsSync(DEBIAN_PGBENCH) ? DEBIAN_PGBENCH : 'pgbench', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? NaN);
      const run = {
        tps: num(/tps = ([\d.]+)/),
        latencyMs: num(/latency average = ([\d.]+) ms/),
        transactions: num(/number of transactions actually processed: (\d+)/),
        failed: num(/number of failed transactions: (\d+)/) || 0,
      };
      if (code !== 0 || !Number.isFinite(run.tps)) return reject(new Error(`pgbench failed (${code}): ${out.slice(-2000)}`));
      resolve(run);
    });
  });
}
