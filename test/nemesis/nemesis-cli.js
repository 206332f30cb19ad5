#!/usr/bin/env node
// `npm run nemesis -- --seed N --seconds S [--mutant NAME] [--seeds 1-10] [--linearizable]`:
// runs test/nemesis/nemesis.e2e-spec.ts under Jest (one process, the built app) with those
// settings. Without --seed/--seeds: seed 1. Failing keys' histories and timelines go to
// --out (default: <tmp>/pixpool-nemesis).
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const args = process.argv.slice(2);
const env = { ...process.env };
const names = {
  seed: 'PIXPOOL_NEMESIS_SEEDS',
  seeds: 'PIXPOOL_NEMESIS_SEEDS',
  seconds: 'PIXPOOL_NEMESIS_SECONDS',
  mutant: 'PIXPOOL_NEMESIS_MUTANT',
  out: 'PIXPOOL_NEMESIS_OUT',
};
for (let i = 0; i < args.length; i++) {
  const name = args[i].replace(/^--/, '');
  if (name === 'linearizable') {
    env.PIXPOOL_NEMESIS_LINEARIZABLE = 'true';
    continue;
  }
  if (!(name in names) || args[i + 1] === undefined) {
    console.error(
      `usage: npm run nemesis -- [--seed N | --seeds 1-10] [--seconds S] [--mutant NAME] [--linearizable] [--out DIR]`,
    );
    process.exit(2);
  }
  env[names[name]] = args[++i];
}
env.PIXPOOL_NEMESIS_SEEDS ??= '1';
const root = path.resolve(__dirname, '..', '..');
const jest = require.resolve('jest/bin/jest', { paths: [root] });
const run = spawnSync(
  process.execPath,
  [jest, '--runInBand', '--verbose', 'test/nemesis/nemesis.e2e-spec.ts'],
  { cwd: root, env, stdio: 'inherit' },
);
process.exit(run.status ?? 1);
