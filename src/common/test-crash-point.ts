/**
 * TEST ONLY: dies like kill -9 at the named point of an upload, so the chaos suite can crash the
 * app exactly between two steps a random kill would rarely separate. Armed only by the
 * command-line flag `--pixpool-test-crash-point=<point>` that a test passes when it starts the app,
 * like the test mutants (src/protocol/test-mutants.ts): no configuration file or environment
 * variable can arm one, so no deployment carries one by accident. Unarmed it is one comparison.
 */
export const CRASH_POINTS = ['after-blob-write', 'after-commit'] as const;

export type CrashPoint = (typeof CRASH_POINTS)[number];

export const CRASH_POINT_FLAG = '--pixpool-test-crash-point=';

/** The crash point named in `argv`; throws on an unknown name, so a typo never passes silently. */
export function parseCrashPoint(argv: readonly string[]): CrashPoint | undefined {
  const named = argv.filter((arg) => arg.startsWith(CRASH_POINT_FLAG)).pop();
  if (named === undefined) return undefined;
  const point = named.slice(CRASH_POINT_FLAG.length);
  if (!(CRASH_POINTS as readonly string[]).includes(point)) {
    throw new Error(
      `unknown test crash point ${JSON.stringify(point)}: ${CRASH_POINTS.join(', ')}`,
    );
  }
  return point as CrashPoint;
}

const armed = parseCrashPoint(process.argv);

export function crashPoint(point: CrashPoint): void {
  if (armed === point) process.kill(process.pid, 'SIGKILL');
}
