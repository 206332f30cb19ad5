/** EX_SOFTWARE (sysexits.h): an internal error; the supervisor restarts the process. */
export const CRASH_EXIT_CODE = 70;

/**
 * Process-level last resort: an error that escaped every handler is logged with what it was and
 * where it came from (its stack, and which process), then the process exits with code 70.
 * Such an error can leave a lock held, a map half-changed or a lease never released, so the
 * process is in a state nobody reasoned about; serving on from it risks a wrong answer, while a
 * restart loses nothing: every durable fact lives in the database and object storage, and a cache
 * node that restarts knows nothing and owns no region until told (see store.ts). The supervisor
 * restarts it: systemd (Restart=on-failure) for the app and remote nodes, and for local nodes
 * the app's membership, which replaces a node that stopped answering.
 * Here, free of Nest, because the cache node may import nothing from the app but the protocol; the
 * app uses it too.
 */
export function installProcessGuards(
  processName: string,
  log: (line: string) => void = (line) => console.error(line),
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  const describe = (reason: unknown): string =>
    reason instanceof Error
      ? (reason.stack ?? `${reason.name}: ${reason.message}`)
      : String(reason);
  process.on('unhandledRejection', (reason) => {
    log(`${processName}: unhandled promise rejection (exiting): ${describe(reason)}`);
    exit(CRASH_EXIT_CODE);
  });
  process.on('uncaughtException', (err, origin) => {
    log(`${processName}: uncaught exception from ${origin} (exiting): ${describe(err)}`);
    exit(CRASH_EXIT_CODE);
  });
}
