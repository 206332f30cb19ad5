import 'reflect-metadata';
import { runMigrateCommand } from './migrate.command';

// `npm run migrate [-- --revert]`: migrates the database the config names.
runMigrateCommand(process.argv.slice(2), process.env, (line) => console.log(line)).catch(
  (err: unknown) => {
    console.error(`migrate: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
