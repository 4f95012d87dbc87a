import fs from 'node:fs';
import os from 'node:os';
import type pg from 'pg';

/**
 * A full load on a host that also serves (one box, or the soak): the load is background work
 * and should take only the CPU the service leaves. `nice` is the Unix scheduling priority,
 * 0 (as now) to 19 (lowest); at 19 a busy task gets about 1.5 % of a core's share against a
 * task at 0 (the kernel's weights 15 vs 1024), so the load still uses every idle cycle.
 */
export const MAX_NICE = 19;

// Settings of a session at lowered priority: parallel index builds and scans run in
// background workers of their own, which would keep the normal priority.
const LOW_PRIORITY_SETTINGS = ['SET max_parallel_maintenance_workers = 0', 'SET max_parallel_workers_per_gather = 0'];

/**
 * Lowers every thread of this process (Node's main thread, V8's compiler and GC helpers, the
 * libuv pool): setpriority(2) on Linux applies to one thread, and threads started before the
 * call keep their own value. Threads started later inherit it.
 */
export function lowerOwnPriority(nice: number): void {
  let tasks: string[];
  try {
    tasks = fs.readdirSync('/proc/self/task');
  } catch {
    // Not Linux: setpriority there applies to the whole process.
    os.setPriority(nice);
    return;
  }
  for (const tid of tasks) {
    try {
      os.setPriority(Number(tid), nice);
    } catch {
      // The thread ended meanwhile.
    }
  }
}

/** The working directory of process `pid` on this host, or undefined when there is none to read. */
function cwdOf(pid: number): string | undefined {
  try {
    return fs.realpathSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/**
 * Whether backend `pid` is a process of this host: PostgreSQL's processes run in its data
 * directory, so a local process of that pid with that working directory is the backend; a
 * server on another host (or one whose data directory the role may not read) is left alone,
 * never some unrelated local process that happens to have the same pid.
 */
export function isLocalBackend(pid: number, dataDirectory: string | undefined, cwd: (pid: number) => string | undefined = cwdOf): boolean {
  if (dataDirectory === undefined) return false;
  const here = cwd(pid);
  if (here === undefined) return false;
  let dir = dataDirectory;
  try {
    dir = fs.realpathSync(dataDirectory);
  } catch {
    // Not a path of this host: compared as given (it will not match a local cwd by chance).
  }
  return here === dir;
}

/**
 * Lowers session `client`'s priority: no parallel workers, and its backend reniced when it
 * runs on this host. Returns why the backend kept its priority, or undefined when it was lowered.
 */
export async function lowerSessionPriority(client: pg.ClientBase, nice: number): Promise<string | undefined> {
  for (const s of LOW_PRIORITY_SETTINGS) await client.query(s);
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const pid = rows[0]!.pid;
  let dataDirectory: string | undefined;
  try {
    // Superusers and members of pg_read_all_settings may read it; others get an error.
    const dir = await client.query<{ dir: string }>("SELECT current_setting('data_directory') AS dir");
    dataDirectory = dir.rows[0]?.dir;
  } catch {
    return 'the role may not read data_directory (needs pg_read_all_settings)';
  }
  if (!isLocalBackend(pid, dataDirectory)) return 'PostgreSQL does not run on this host';
  try {
    os.setPriority(pid, nice);
    return undefined;
  } catch (err) {
    return `renice refused (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); it needs root or CAP_SYS_NICE`;
  }
}
