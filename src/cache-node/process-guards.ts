/**
 * Process-level last resort: an error that escaped every handler is logged with what it was and
 * where it came from, and the process keeps serving. Node's default (print and exit on an
 * unhandled rejection) would let one bad request or one odd node answer end the service for all.
 * Staying up is the right trade here because every durable fact lives in the database and object
 * storage, and what is in memory (cache, routing) is rebuilt or re-checked from them anyway.
 * Here, free of Nest, because the cache node may import nothing from the app but the protocol; the
 * app uses it too.
 */
export function installProcessGuards(
  processName: string,
  log: (line: string) => void = (line) => console.error(line),
): void {
  const describe = (reason: unknown): string =>
    reason instanceof Error
      ? (reason.stack ?? `${reason.name}: ${reason.message}`)
      : String(reason);
  process.on('unhandledRejection', (reason, promise) => {
    log(`${processName}: unhandled promise rejection (kept running): ${describe(reason)}`);
    // Marks the promise handled, so Node does not also warn about it later.
    promise.catch(() => undefined);
  });
  process.on('uncaughtException', (err, origin) => {
    log(`${processName}: uncaught exception from ${origin} (kept running): ${describe(err)}`);
  });
}
