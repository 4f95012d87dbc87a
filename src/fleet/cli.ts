import path from 'node:path';
import { ConfigError, loadConfig } from '../config';
import { UsageError } from '../cli/options';
import { parseFleetArgs, USAGE, type FleetCommand } from './args';
import { startFleet, type Fleet } from './fleet';
import { sharedNginxDir, writeNginxConfig } from './nginx-config';
import { runUserData, USER_DATA_USAGE } from './user-data';

const say = (line: string): void => void process.stdout.write(`fleet: ${line}\n`);

/** `npm run fleet`: the fleet runs until SIGINT (Ctrl-C) or SIGTERM, then stops all of it. */
async function run(args: Extract<FleetCommand, { command: 'run' }>): Promise<void> {
  const config = loadConfig();
  let fleet: Fleet | undefined;
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) {
      say(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    if (fleet === undefined) return say(`${signal}: stopping once started`);
    say(`${signal}: stopping nginx, then the instances, then the database`);
    await fleet.stop();
    say('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  fleet = await startFleet({ config, ...args, say });
  if (stopping) {
    await fleet.stop();
    say('stopped');
    process.exit(0);
  }
  say(`database: ${fleet.database}`);
  for (const instance of fleet.instances) {
    say(`instance ${instance.index} ${instance.url} (pid ${instance.pid()}, metrics ${instance.metricsUrl})`);
  }
  say(`nginx ${fleet.url} (pid ${fleet.nginxPid}), stub_status ${fleet.statusUrl} (private listener)`);
  say(`logs: ${path.dirname(fleet.accessLog)}`);
  say(`ready: ${fleet.url} (nginx, least_conn over ${fleet.instances.length} instances) - try ${fleet.url}/products/1/styles`);
}

function nginxConfig(args: Extract<FleetCommand, { command: 'nginx-config' }>): void {
  const conf = writeNginxConfig(path.resolve(args.out), { ...args, sharedDir: sharedNginxDir(), workerProcesses: 'auto' });
  say(`wrote ${conf} and ${path.join(path.dirname(conf), 'upstream.conf')}`);
  say(`check: nginx -t -p ${path.dirname(conf)}/ -e stderr -c ${conf}`);
}

/** `parse()`, or exit 2 with its UsageError's message and `usage`. */
function parsed<T>(parse: () => T, usage: string): T {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`fleet: ${err.message}\n${usage}\n`);
    process.exit(2);
  }
}

function main(): void {
  const argv = process.argv.slice(2);
  // `user-data --role ROLE …`: cloud-init user-data for one EC2 role on stdout (src/fleet/user-data.ts).
  if (argv[0] === 'user-data') return void process.stdout.write(parsed(() => runUserData(argv.slice(1)), USER_DATA_USAGE));
  const args: FleetCommand = parsed(() => parseFleetArgs(argv), USAGE);
  const done = args.command === 'run' ? run(args) : Promise.resolve(nginxConfig(args));
  done.catch((err: unknown) => {
    const message = err instanceof ConfigError || err instanceof Error ? err.message : String(err);
    process.stderr.write(`fleet: failed: ${message}\n`);
    process.exit(1);
  });
}

if (require.main === module) main();
