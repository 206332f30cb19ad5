import { describeReport } from '../support/history/check-history';
import { describeWithMysql } from '../support/mysql';
import { describeWithNetns } from '../support/netns';
import { NemesisResult, runNemesis } from './nemesis-run';
import { nemesisSettings } from './nemesis-settings';

/**
 * The seeded nemesis (issue 21; what it runs: nemesis-run.ts). Without settings, CI's bounded
 * form: a few seeds of half a minute. `npm run nemesis -- --seed N --seconds S` runs one seed as
 * long as asked; with `--mutant NAME` it runs seeds in turn until one catches the mutant.
 */
const settings = nemesisSettings();
// The run, set-up and settling, and the history search (nemesis-run.ts gives it 200 ms per second run).
const perSeedMs = settings.seconds * 1200 + 240_000;

function summary(r: NemesisResult): string {
  const faults = Object.entries(r.faults)
    .map(([name, n]) => `${n}× ${name}`)
    .join(', ');
  return (
    `nemesis seed ${r.seed}${r.mutant ? ` (mutant ${r.mutant})` : ''}: ${r.seconds} s of faults, ` +
    `${(r.durationMs / 1000).toFixed(0)} s in all\n` +
    `  clients: ${r.counts.uploads} uploads (${r.acknowledged} acknowledged), ${r.counts.reads} reads ` +
    `(${r.counts.variantReads} of a variant, ${r.counts.nearHits} near hits), ` +
    `${r.counts.listings} listings, ${r.counts.deleteAlls} delete_all, ${r.counts.clearCaches} clear cache, ` +
    `${r.counts.failed} failed requests\n` +
    `  failures: ${Object.entries(r.counts.failures)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([reason, n]) => `${n}× ${reason}`)
      .join(', ')}\n` +
    `  faults (${r.tempo}; ${r.profile}; ${r.faultLog.length} events): ${faults}\n` +
    `  ${describeReport(r.report).replace(/\n/g, '\n  ')}\n` +
    `  final reads: ${r.finalFailures.length} failed, ${r.finalDisagreements.length} keys disagreeing`
  );
}

/** What a mutant made the checker report, if anything: the models it broke, or the final reads. */
function caughtBy(r: NemesisResult): string | null {
  const by = [
    r.report.acknowledged.verdict !== 'ok' && 'the acknowledged model',
    settings.requireLinearizable &&
      r.report.linearizable.verdict !== 'ok' &&
      'the linearizable model',
    r.finalDisagreements.length > 0 && 'the final reads',
  ].filter((found): found is string => typeof found === 'string');
  return by.length > 0 ? by.join(', ') : null;
}

describeWithMysql('nemesis', () => {
  describeWithNetns('seeded faults against two front-ends and four nodes', () => {
    if (!settings.mutant) {
      it.each(settings.seeds)(
        `seed %d: the acknowledged model holds${settings.requireLinearizable ? ', and the linearizable one' : ''}; after healing every route answers the last write`,
        async (seed) => {
          const r = await runNemesis({
            seed,
            seconds: settings.seconds,
            outDir: settings.outDir,
            log: console.log,
          });
          console.log(summary(r));
          // The run was real: faults ran, uploads were acknowledged and read.
          expect(Object.values(r.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
          expect(r.acknowledged).toBeGreaterThan(10);
          expect(r.counts.reads).toBeGreaterThan(50);
          expect(r.counts.variantReads).toBeGreaterThan(10);
          expect(r.report.acknowledged.keysChecked).toBeGreaterThan(0);
          expect({ seed, failures: r.report.acknowledged.failures }).toEqual({
            seed,
            failures: [],
          });
          if (settings.requireLinearizable)
            expect({ seed, failures: r.report.linearizable.failures }).toEqual({
              seed,
              failures: [],
            });
          expect({ seed, failed: r.finalFailures, disagree: r.finalDisagreements }).toEqual({
            seed,
            failed: [],
            disagree: [],
          });
        },
        perSeedMs,
      );
    } else {
      const mutant = settings.mutant;
      it(
        `mutant ${mutant} is caught within ${settings.seeds.length} seeds`,
        async () => {
          const started = Date.now();
          let needed = 0;
          for (const seed of settings.seeds) {
            needed++;
            const r = await runNemesis({
              seed,
              seconds: settings.seconds,
              outDir: settings.outDir,
              mutant,
              log: console.log,
            });
            console.log(summary(r));
            console.log(`  fault log:\n    ${r.faultLog.join('\n    ')}`);
            const by = caughtBy(r);
            if (by) {
              console.log(
                `mutant ${mutant}: caught by seed ${seed} (${by}), after ${needed} seed(s), ${((Date.now() - started) / 1000).toFixed(0)} s`,
              );
              return;
            }
          }
          throw new Error(`mutant ${mutant} not caught by seeds ${settings.seeds.join(', ')}`);
        },
        perSeedMs * settings.seeds.length,
      );
    }
  });
});
