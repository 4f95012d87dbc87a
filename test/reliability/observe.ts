import fs from 'node:fs/promises';
import pg from 'pg';

export { childPids } from '../../src/fleet/process';

/**
 * Observations of the service from outside, as an operator would make them: which processes
 * hold its listening socket (Linux /proc) and which database sessions it keeps.
 */

/** Inode of the TCP socket listening on 127.0.0.1:`port` (from /proc/net/tcp), or undefined. */
export async function listeningInode(port: number): Promise<string | undefined> {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of (await fs.readFile('/proc/net/tcp', 'utf8')).split('\n')) {
    const f = line.trim().split(/\s+/);
    // Columns: sl, local_address, rem_address, st (0A = LISTEN), …, inode (10th).
    if (f[1] === local && f[3] === '0A') return f[9];
  }
  return undefined;
}

/** Whether process `pid` holds a file descriptor on socket `inode`. */
export async function holdsSocket(pid: number, inode: string): Promise<boolean> {
  const dir = `/proc/${pid}/fd`;
  let fds: string[];
  try {
    fds = await fs.readdir(dir);
  } catch {
    return false;
  }
  const target = `socket:[${inode}]`;
  for (const fd of fds) {
    if ((await fs.readlink(`${dir}/${fd}`).catch(() => '')) === target) return true;
  }
  return false;
}


/** Database sessions per application_name whose name starts with "atelier-products". */
export async function serviceSessions(adminUrl: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ app: string; n: number }>(
      "SELECT application_name AS app, count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE 'atelier-products%' GROUP BY 1 ORDER BY 1",
    );
    return Object.fromEntries(rows.map((r) => [r.app, r.n]));
  } finally {
    await client.end();
  }
}
