/**
 * Fixed port ranges that tests hand to processes which cannot take port 0 (local cache nodes are
 * started on basePort..basePort+7). PIXPOOL_TEST_PORT_OFFSET shifts every range, so two checkouts
 * can run their suites on one machine at the same time without meeting.
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
