import cluster from 'node:cluster';
import { ConfigError, loadConfig } from './config';
import { runPrimary } from './cluster/primary';
import { runWorker } from './cluster/worker';

/** Entry point: the primary supervises, each forked worker serves HTTP. */
function main(): void {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`atelier-products: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const run = cluster.isPrimary ? runPrimary : runWorker;
  run(config).catch((err: unknown) => {
    process.stderr.write(`atelier-products: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

if (require.main === module) main();
