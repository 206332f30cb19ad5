import * as os from 'node:os';
import * as path from 'node:path';
import { parseTestMutants, TestMutant } from '../../src/protocol/test-mutants';

/**
 * Uploads invalidate before they commit (src/frontend/write-fence.ts), so reads are linearizable:
 * the suite asserts both models, the register's (linearizable) and today's weaker promise
 * (acknowledged), and reports both.
 */
export const REQUIRE_LINEARIZABLE = true;

/** The bounded form CI runs: these seeds, this long each (about 5 minutes in all, setup included). */
export const CI_SEEDS = [1, 2, 3, 4];
export const CI_SECONDS = 30;

export interface NemesisSettings {
  seeds: number[];
  seconds: number;
  mutant?: TestMutant;
  requireLinearizable: boolean;
  outDir: string;
}

/** From the environment `npm run nemesis` sets (test/nemesis/nemesis-cli.js), or CI's bounded form. */
export function nemesisSettings(env: NodeJS.ProcessEnv = process.env): NemesisSettings {
  const seeds = env.PIXPOOL_NEMESIS_SEEDS ? parseSeeds(env.PIXPOOL_NEMESIS_SEEDS) : CI_SEEDS;
  const seconds = Number(env.PIXPOOL_NEMESIS_SECONDS ?? CI_SECONDS);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`bad seconds: ${seconds}`);
  const mutant = env.PIXPOOL_NEMESIS_MUTANT
    ? [...parseTestMutants([`--pixpool-test-mutant=${env.PIXPOOL_NEMESIS_MUTANT}`])][0]
    : undefined;
  return {
    seeds,
    seconds,
    mutant,
    requireLinearizable: REQUIRE_LINEARIZABLE || env.PIXPOOL_NEMESIS_LINEARIZABLE === 'true',
    outDir: env.PIXPOOL_NEMESIS_OUT || path.join(os.tmpdir(), 'pixpool-nemesis'),
  };
}

/** "7", "1,2,5" or "1-10". */
export function parseSeeds(text: string): number[] {
  const range = /^(\d+)-(\d+)$/.exec(text);
  const seeds = range
    ? Array.from(
        { length: Number(range[2]) - Number(range[1]) + 1 },
        (_, i) => Number(range[1]) + i,
      )
    : text.split(',').map(Number);
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0))
    throw new Error(`seeds must be N, N,M,... or N-M; got ${JSON.stringify(text)}`);
  return seeds;
}
