/**
 * The front-end's view of a lease (Gray and Cheriton, 1989). The node starts a lease of `ms` when
 * it receives the request; the front-end counts from when it sent it, which is earlier, and takes
 * a margin off for clock-rate drift between the two machines and for timers firing late. So the
 * front-end's lease always ends before the node's, and a node that waits out a subscriber's lease
 * knows the front-end has stopped serving under it.
 */
export const NEAR_DRIFT = 0.01;
export const NEAR_MARGIN_MS = 50;

export function leaseEnd(sentAt: number, ms: number): number {
  return sentAt + ms * (1 - NEAR_DRIFT) - NEAR_MARGIN_MS;
}

/** Monotonic milliseconds (never jumps with the wall clock). */
export const monotonicNow = (): number => performance.now();
