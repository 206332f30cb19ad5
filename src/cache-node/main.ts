import { withoutTestMutants } from '../protocol/test-mutants';
import { ArgsError, parseArgs, USAGE } from './args';
import { createCacheNode } from './server';
import { installProcessGuards } from './process-guards';

/**
 * Entry point of one cache node process: `node dist/src/cache-node/main.js --port 5001`.
 * Prints `pixpool cache node listening on http://host:port` once ready (with the real port when
 * started with --port 0). Exits on SIGTERM/SIGINT after in-flight requests, and when the parent
 * that spawned it with an IPC channel goes away, so a crashed app leaves no orphan nodes.
 */
async function main(): Promise<void> {
  installProcessGuards('pixpool cache node');
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    console.log(USAGE);
    return;
  }
  let options;
  try {
    options = parseArgs(withoutTestMutants(argv), process.env);
  } catch (err) {
    if (!(err instanceof ArgsError)) throw err;
    console.error(`pixpool cache node: ${err.message} (see --help)`);
    process.exit(2);
  }
  const node = createCacheNode(options);
  const address = await node.listen();
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  console.log(`pixpool cache node listening on http://${host}:${address.port}`);

  let stopping = false;
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`pixpool cache node stopping (${why})`);
    node.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (process.send) process.on('disconnect', () => stop('parent went away'));
}

main().catch((err: unknown) => {
  console.error('pixpool cache node failed to start:', err);
  process.exit(1);
});
