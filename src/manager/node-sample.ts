import { NodeCounters, NodeStats } from '../protocol/cache-node.protocol';
import { NodeStatsSample } from '../metrics/metrics.ports';

type Counted = Pick<NodeCounters, 'requests' | 'hits' | 'misses' | 'evictions'>;
const ZERO: Counted = { requests: 0, hits: 0, misses: 0, evictions: 0 };

/**
 * Where a node's counting starts, given what this instance knew of it before this poll.
 * - Same run as at the previous poll of it: from the totals seen then.
 * - Another run (restarted between polls: other start time, or totals that went down): from zero,
 *   since everything it counted happened after the previous poll.
 * - Never seen: from zero if it started after `newSinceMs` (this instance's start), since all its
 *   traffic is then traffic this instance has not counted yet, e.g. a node a grow just added;
 *   from its totals now if it was already running, since earlier traffic predates us.
 *
 * Its start is taken as the poll's time minus its uptime, on this instance's clock: nodes and
 * app instances may sit on different hosts whose wall clocks disagree.
 */
export function baselineOf(
  stats: NodeStats,
  previous: NodeStats | undefined,
  at: Date,
  newSinceMs: number,
): Counted {
  const now = stats.sinceStart;
  if (previous) {
    const before = previous.sinceStart;
    const sameRun =
      previous.startedAt === stats.startedAt &&
      (['requests', 'hits', 'misses', 'evictions'] as const).every((f) => now[f] >= before[f]);
    return sameRun ? before : ZERO;
  }
  const startedMs = at.getTime() - stats.uptimeMs;
  return startedMs >= newSinceMs ? ZERO : now;
}

/**
 * A node's traffic since the previous poll, as the aggregator takes it: counter deltas plus gauges
 * now. Deltas come from the node's running totals (not by resetting its interval), so several app
 * instances can poll the same nodes and each sees all of the traffic.
 */
export function toSample(
  nodeId: string,
  at: Date,
  stats: NodeStats,
  previous: NodeStats | undefined,
  newSinceMs: number,
): NodeStatsSample {
  const now = stats.sinceStart;
  const before = baselineOf(stats, previous, at, newSinceMs);
  const delta = (field: keyof Counted) => Math.max(0, now[field] - before[field]);
  return {
    nodeId,
    at,
    requests: delta('requests'),
    hits: delta('hits'),
    misses: delta('misses'),
    evictions: delta('evictions'),
    items: stats.items,
    bytes: stats.bytesUsed,
  };
}
