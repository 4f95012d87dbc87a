import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

export interface BenchRun {
  code: number | null;
  out: string;
  err: string;
}

/** `npm run bench -- ARGS` as the operator runs it (tsx, the built service), against `databaseUrl`, one worker. */
export function runBench(args: readonly string[], databaseUrl: string): Promise<BenchRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'loadtest/bench/main.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl, WORKERS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

/** The table's rows (markdown lines after the header). */
export const tableRows = (out: string): string[] =>
  out.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| scenario'));
