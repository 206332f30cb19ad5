/*
 * Fills are fenced by epoch: a fill (PUT with a lease) sent by a front-end that routes by an
 * older epoch than this node's is refused, as if its lease had been voided.
 *
 * Invariant: once a node rejoins at epoch E (emptied, then given its regions at E, then E saved),
 * it holds no image older than an upload acknowledged before E was saved.
 *
 * Why this is needed: an upload whose owner is quarantined in its view skips the owner (it rejoins
 * empty, src/pool/pool-cache.service.ts). A rejoin empties the node and pushes its regions at E
 * before it saves E. In between, a front-end that has not adopted the quarantine still reads the
 * node: it misses, is given a lease, loads the old image from storage, and an upload skipping the
 * node commits the new one and is acknowledged; no invalidation reaches the node, so the lease
 * stays good, and without this fence the old image lands and is served to everyone once E is saved.
 *
 * Steps and why each is safe:
 * - Fills the node accepted before it gained its regions at E are purged by the gain
 *   (store.regionsGained), so only fills arriving after the push at E matter.
 * - Such a fill carries the epoch its front-end read the node under. Before E is saved, no
 *   front-end routes by E, so every such fill carries less than E and is refused here.
 * - After E is saved, a front-end at E asked for its lease after the save, so it read storage
 *   after every upload acknowledged before the save committed: its fill is that image or newer.
 * - A crash of the rejoin before the save leaves the node quarantined (nobody reads it); the next
 *   rejoin empties it again. A node restarted since knows no epoch: it owns nothing until told.
 * Cost: after any ownership push, fills from front-ends still on the older epoch are refused until
 * they adopt the new one (a miss more, never a wrong answer). A fill without an epoch header (a
 * tool, not the app) is not fenced.
 */
import { parseNonNegativeInt } from './query';

/** True when a fill sent at `requestEpoch` (the x-pixpool-epoch header) must be refused. */
export function fillFromOlderEpoch(requestEpoch: string | undefined, nodeEpoch: number): boolean {
  if (requestEpoch === undefined) return false;
  return parseNonNegativeInt(requestEpoch) < nodeEpoch;
}
