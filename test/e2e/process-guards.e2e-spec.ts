import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const GUARDS = path.resolve(
  __dirname,
  '..',
  '..',
  'dist',
  'src',
  'cache-node',
  'process-guards.js',
);

/** The built guard module in a fresh Node process, which then throws and rejects without handlers. */
function runWithGuards(body: string) {
  const script = `require(${JSON.stringify(GUARDS)}).installProcessGuards('probe');\n${body}`;
  return spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
}

describe('process guards', () => {
  // A process in an unknown state (locks held, a half-changed map) must not keep serving: it
  // logs what happened, with its stack, and exits for its supervisor to restart it.
  it('log an unhandled rejection with its stack and exit non-zero', () => {
    const run = runWithGuards(`
      Promise.reject(new Error('node answered nonsense'));
      setTimeout(() => console.log('still serving'), 500);
    `);
    expect(run.status).toBe(70);
    expect(run.stderr).toMatch(
      /probe: unhandled promise rejection \(exiting\): Error: node answered nonsense\n\s+at /,
    );
    expect(run.stdout).not.toContain('still serving');
  });

  it('log an exception thrown from a callback with its origin and exit non-zero', () => {
    const run = runWithGuards(`
      setTimeout(() => { throw new TypeError('bad header'); }, 10);
      setTimeout(() => console.log('still serving'), 500);
    `);
    expect(run.status).toBe(70);
    expect(run.stderr).toMatch(
      /probe: uncaught exception from uncaughtException \(exiting\): TypeError: bad header\n\s+at /,
    );
    expect(run.stdout).not.toContain('still serving');
  });

  it('are what Node does without them: the process dies without naming the process', () => {
    const run = spawnSync(process.execPath, ['-e', "Promise.reject(new Error('x'))"], {
      encoding: 'utf8',
    });
    expect(run.status).not.toBe(0);
  });
});
