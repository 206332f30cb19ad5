import {
  parseTestMutants,
  testMutant,
  TEST_MUTANTS,
  withoutTestMutants,
} from '../../../src/protocol/test-mutants';

describe('test mutants: deliberate defects switched on only by a command-line flag', () => {
  it('reads the named mutants from argv and leaves the rest to the option parser', () => {
    const argv = ['--port', '5001', '--pixpool-test-mutant=skip-lease-wait'];
    expect([...parseTestMutants(argv)]).toEqual(['skip-lease-wait']);
    expect(withoutTestMutants(argv)).toEqual(['--port', '5001']);
  });

  it('refuses an unknown name instead of running without the defect', () => {
    expect(() => parseTestMutants(['--pixpool-test-mutant=skip-everything'])).toThrow(
      /unknown test mutant "skip-everything"/,
    );
  });

  it('is off in a process started without the flag, whatever the environment says', () => {
    process.env.PIXPOOL_TEST_MUTANT = 'skip-lease-wait';
    try {
      for (const name of TEST_MUTANTS) expect(testMutant(name)).toBe(false);
    } finally {
      delete process.env.PIXPOOL_TEST_MUTANT;
    }
  });
});
