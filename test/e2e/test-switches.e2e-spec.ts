import { startApp, type AppProcess } from '../support/app-process';
import { upload } from '../support/http';
import { makePng } from '../support/images';

/**
 * The switches that break the app on purpose for tests (crash points, mutants) act only when the
 * test harness names them on the command line: a variable in a production environment, set by
 * mistake or by someone who can write it, changes nothing.
 */
describe('test-only switches (real app)', () => {
  let app: AppProcess;
  afterEach(async () => {
    await app?.stop();
  });

  it('a crash point or a mutant in the environment alone neither kills an upload nor changes it', async () => {
    app = await startApp({
      env: {
        PIXPOOL_RESILIENCE_TEST_CRASH_POINT: 'after-commit',
        PIXPOOL_TEST_CRASH_POINT: 'after-commit',
        PIXPOOL_TEST_MUTANT: 'ack-before-invalidate',
      },
    });
    for (let i = 0; i < 3; i++) {
      expect((await upload(app.url, `k${i}`, makePng(600))).status).toBe(200);
    }
    expect(app.exitCode()).toBeNull();
  });

  it('the same crash point on the command line kills the app at that step', async () => {
    app = await startApp({ args: ['--pixpool-test-crash-point=after-commit'] });
    await expect(upload(app.url, 'k', makePng(600))).rejects.toThrow();
  });
});
