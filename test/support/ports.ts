/**
 * Fixed port ranges that tests hand to processes which cannot take port 0 (local cache nodes are
 * started on basePort..basePort+7). PIXPOOL_TEST_PORT_OFFSET shifts every range, so two checkouts
 * can run their suites on one machine at the same time without meeting.
 *
 * The ranges stay below 32768, where Linux's ephemeral ports begin: a fixed port inside that range
 * can be taken at any moment as the local port of some outgoing connection (seen: EADDRINUSE under
 * load). At offset 0: apps' local nodes 21000..22999, the local-provider suite 30100..30299, the
 * EC2 replacement suite 31110..31129.
 */
export function testPortOffset(): number {
  const offset = Number(process.env.PIXPOOL_TEST_PORT_OFFSET ?? '0');
  if (!Number.isInteger(offset) || offset < 0 || offset > 20000) {
    throw new Error(`PIXPOOL_TEST_PORT_OFFSET must be an integer in 0..20000, got ${offset}`);
  }
  return offset;
}

/** This Jest worker's number, 1-based (1 outside Jest). */
export function jestWorker(): number {
  return Number(process.env.JEST_WORKER_ID ?? '1');
}
