import 'reflect-metadata';
import { ConfigError, loadConfig } from './config/config-loader';
import { createApp, listen, shutDownGracefully } from './bootstrap';
import { installProcessGuards } from './cache-node/process-guards';

async function main(): Promise<void> {
  installProcessGuards('pixpool');
  let config;
  try {
    config = loadConfig({ env: process.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const app = await createApp(config);
  shutDownGracefully(app, config);
  await listen(app, config);
}

main().catch((err: unknown) => {
  console.error(
    'pixpool failed to start:',
    err instanceof Error ? (err.stack ?? err.message) : err,
  );
  process.exit(1);
});
