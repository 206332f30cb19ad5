/**
 * Deliberate defects, for the nemesis to show that its checker catches them (test/nemesis): a
 * checker that never fails proves nothing. One is switched on only by the command-line flag
 * `--pixpool-test-mutant=<name>` that the test harness passes when it starts an app or a node
 * process; no configuration file or environment variable can turn one on, so no deployment
 * carries one by accident. Shared by app and node, hence here.
 */
export const TEST_MUTANTS = [
  /** The node applies an upload's pending mark and its invalidation without pushing either to
   * near-cache subscribers (the mark alone, pushed before the commit, also drops their copies). */
  'skip-invalidation-push',
  /** Nothing waits out a lease: the node answers an invalidation without waiting for its
   * subscribers' acknowledgements, and an upload whose assignment changed does not wait. */
  'skip-lease-wait',
  /** delete_all removes every object in storage, also those of uploads committed meanwhile. */
  'delete-every-object',
  /** A node restarted on its address owns every region at once, and holds none for the near
   * copies its old process granted. */
  'restarted-node-claims-all',
  /** The upload is acknowledged before its invalidation is done (which then runs behind it). */
  'ack-before-invalidate',
  /** The upload commits first and makes its key pending after (the order before write-fence.ts). */
  'commit-before-invalidate',
] as const;

export type TestMutant = (typeof TEST_MUTANTS)[number];

export const TEST_MUTANT_FLAG = '--pixpool-test-mutant=';

/** The mutants named in `argv`; throws on an unknown name, so a typo is never a silent no-op. */
export function parseTestMutants(argv: readonly string[]): Set<TestMutant> {
  const named = argv.filter((a) => a.startsWith(TEST_MUTANT_FLAG));
  const mutants = new Set<TestMutant>();
  for (const arg of named) {
    const name = arg.slice(TEST_MUTANT_FLAG.length);
    if (!(TEST_MUTANTS as readonly string[]).includes(name))
      throw new Error(`unknown test mutant ${JSON.stringify(name)}: ${TEST_MUTANTS.join(', ')}`);
    mutants.add(name as TestMutant);
  }
  return mutants;
}

/** argv without the mutant flags (what the process's own option parser should see). */
export function withoutTestMutants(argv: readonly string[]): string[] {
  return argv.filter((a) => !a.startsWith(TEST_MUTANT_FLAG));
}

const active = parseTestMutants(process.argv);

export function testMutant(name: TestMutant): boolean {
  return active.has(name);
}
