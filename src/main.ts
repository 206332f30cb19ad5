import 'reflect-metadata';
import { ConfigError, loadConfig } from './config/config-loader';
import { createApp, listen, shutDownGracefully } from './bootstrap';

async function main(): Promise<void> {
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
