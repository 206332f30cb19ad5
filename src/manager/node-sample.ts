import { NodeCounters, NodeStats } from '../pool/cache-node.protocol';
import { NodeStatsSample } from '../metrics/metrics.ports';

/**
 * A node's traffic since the previous poll, as the aggregator takes it: counter deltas plus gauges
 * now. Deltas come from the node's running totals (not by resetting its interval), so several app
 * instances can poll the same nodes and each sees all of the traffic. A node seen for the first
 * time, or restarted since (other start time, or totals that went down), counts from zero.
 */
export function toSample(
  nodeId: string,
  at: Date,
  stats: NodeStats,
  previous: NodeStats | undefined,
): NodeStatsSample {
  const now = stats.sinceStart;
  const sameRun = previous && previous.startedAt === stats.startedAt;
  const before: Pick<NodeCounters, 'requests' | 'hits' | 'misses' | 'evictions'> = sameRun
    ? previous.sinceStart
    : { requests: now.requests, hits: now.hits, misses: now.misses, evictions: now.evictions };
  const delta = (field: 'requests' | 'hits' | 'misses' | 'evictions') =>
    Math.max(0, now[field] - before[field]);
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
