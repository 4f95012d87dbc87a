import { parseCorsOrigins, type CorsOrigins } from '../config';

/** `npm run fleet -- …`: run a local fleet, or write a bare-metal nginx configuration. */
export type FleetCommand =
  | { command: 'run'; instances: number; port: number; workers?: number; runDir: string; microcache: boolean; nginxBin?: string }
  | {
      command: 'nginx-config';
      out: string;
      upstreams: string[];
      listen: string;
      statusListen: string;
      microcache: boolean;
      limitExempt: string[];
      corsAllowOrigins: CorsOrigins;
    };

export const USAGE = `usage:
  npm run fleet -- [--instances N] [--port P] [--workers W] [--run-dir DIR] [--microcache] [--nginx BIN]
      N instances (default 2) of the service behind nginx on 127.0.0.1:P (default 8080);
      each instance runs W workers (default: the service's WORKERS); logs in DIR (default .data/fleet).
  node dist/src/fleet/cli.js nginx-config --out DIR --upstream HOST:PORT [--upstream HOST:PORT …]
      [--listen 80] [--status-listen 127.0.0.1:8081] [--limit-exempt ADDR …] [--microcache]
      [--cors-allow-origins ORIGINS]
      writes DIR/nginx.conf and DIR/upstream.conf for a bare-metal load balancer; ORIGINS is
      the instances' CORS_ALLOW_ORIGINS (default *), for the CORS headers of nginx's own answers
      (run: nginx -p DIR/ -e stderr -c DIR/nginx.conf).`;

export class UsageError extends Error {}

function integer(name: string, raw: string | undefined, min: number, max: number): number {
  if (raw === undefined || !/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`${name} must be an integer from ${min} to ${max} (got ${raw ?? 'nothing'})`);
  }
  return Number(raw);
}

/** Parses argv (without node and the script). Throws UsageError on anything unknown. */
export function parseFleetArgs(argv: readonly string[]): FleetCommand {
  const args = [...argv];
  const command = args[0] === 'nginx-config' ? (args.shift(), 'nginx-config') : 'run';
  const flags = new Map<string, string[]>();
  const BOOLEAN = new Set(['--microcache']);
  while (args.length > 0) {
    const arg = args.shift()!;
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (!name.startsWith('--')) throw new UsageError(`unexpected argument ${arg}`);
    const value = BOOLEAN.has(name) ? 'true' : (inline ?? args.shift());
    if (value === undefined) throw new UsageError(`${name} needs a value`);
    flags.set(name, [...(flags.get(name) ?? []), value]);
  }
  const take = (name: string): string | undefined => {
    const values = flags.get(name);
    flags.delete(name);
    return values?.at(-1);
  };
  const takeAll = (name: string): string[] => {
    const values = flags.get(name) ?? [];
    flags.delete(name);
    return values;
  };

  let result: FleetCommand;
  if (command === 'run') {
    const workers = take('--workers');
    const nginxBin = take('--nginx');
    result = {
      command,
      instances: integer('--instances', take('--instances') ?? '2', 1, 64),
      port: integer('--port', take('--port') ?? '8080', 1, 65535),
      ...(workers !== undefined && { workers: integer('--workers', workers, 1, 256) }),
      runDir: take('--run-dir') ?? '.data/fleet',
      microcache: take('--microcache') === 'true',
      ...(nginxBin !== undefined && { nginxBin }),
    };
  } else {
    const out = take('--out');
    const upstreams = takeAll('--upstream').flatMap((u) => u.split(','));
    if (out === undefined) throw new UsageError('nginx-config needs --out DIR');
    if (upstreams.length === 0) throw new UsageError('nginx-config needs at least one --upstream HOST:PORT');
    const problems: string[] = [];
    const corsAllowOrigins = parseCorsOrigins('--cors-allow-origins', take('--cors-allow-origins'), problems);
    if (problems.length > 0) throw new UsageError(problems.join('; '));
    result = {
      command,
      out,
      upstreams,
      listen: take('--listen') ?? '80',
      statusListen: take('--status-listen') ?? '127.0.0.1:8081',
      microcache: take('--microcache') === 'true',
      limitExempt: takeAll('--limit-exempt'),
      corsAllowOrigins,
    };
  }
  const unknown = [...flags.keys()];
  if (unknown.length > 0) throw new UsageError(`unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
  return result;
}
