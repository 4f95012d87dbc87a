import fs from 'node:fs';

// util-linux's setpriv (in every Debian, package util-linux): sets PR_SET_PDEATHSIG, then execs
// the command, so the child keeps its pid and the setting survives the exec.
const SETPRIV = '/usr/bin/setpriv';

/**
 * The command line that starts `file args` so that the kernel sends it `signal` when the
 * process that spawned it dies, however it dies (SIGKILL included, when no exit hook runs).
 * Supervised children (fleet instances, nginx, the embedded PostgreSQL) use it so that a
 * supervisor killed outright leaves no orphans: each gets its own clean-stop signal.
 * Without setpriv (not Linux) the command is returned as it is and only the exit hooks remain.
 * The signal goes when the spawning *thread* exits: node spawns from its main thread.
 */
export function dieWithParent(file: string, args: readonly string[], signal: 'SIGTERM' | 'SIGINT' | 'SIGQUIT'): [string, string[]] {
  if (process.platform !== 'linux' || !fs.existsSync(SETPRIV)) return [file, [...args]];
  return [SETPRIV, ['--pdeathsig', signal.slice(3), '--', file, ...args]];
}
