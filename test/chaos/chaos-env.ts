/**
 * Short deadlines for the chaos suites, so each fault is answered (and the suite done) in seconds.
 * The orphan grace must stay at least twice storage + database deadlines (the sweeper checks).
 */
export const CHAOS_DEADLINE_MS = 1000;

/** App starts on a machine shared with other test suites can be slow; a start is not what is tested. */
export const CHAOS_START_TIMEOUT_MS = 90_000;

export const CHAOS_RESILIENCE_ENV: Record<string, string> = {
  PIXPOOL_RESILIENCE_STORAGE_TIMEOUT_MS: String(CHAOS_DEADLINE_MS),
  PIXPOOL_RESILIENCE_STORAGE_CONNECT_TIMEOUT_MS: '500',
  PIXPOOL_RESILIENCE_DATABASE_TIMEOUT_MS: String(CHAOS_DEADLINE_MS),
  PIXPOOL_RESILIENCE_DATABASE_CONNECT_TIMEOUT_MS: '500',
  PIXPOOL_RESILIENCE_RETRY_AFTER_SECONDS: '2',
  PIXPOOL_RESILIENCE_BREAKER_OPEN_MS: '500',
  PIXPOOL_RESILIENCE_OUTBOX_SWEEP_INTERVAL_MS: '500',
  PIXPOOL_RESILIENCE_OUTBOX_GRACE_MS: '1000',
  PIXPOOL_RESILIENCE_ORPHAN_SWEEP_INTERVAL_MS: '1000',
  PIXPOOL_RESILIENCE_ORPHAN_GRACE_MS: '4000',
  // The stats poller writes the database every few seconds: keep it out of the way.
  PIXPOOL_METRICS_POLL_INTERVAL_MS: '60000',
};

/** Polls `probe` every 100 ms until it returns true; resolves with the seconds it took. */
export async function secondsUntil(
  probe: () => Promise<boolean>,
  timeoutMs = 20_000,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await probe().catch(() => false)) return (Date.now() - started) / 1000;
    if (Date.now() - started > timeoutMs) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
