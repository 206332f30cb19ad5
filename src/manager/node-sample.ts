import { NodeStats } from '../pool/cache-node.protocol';
import { NodeStatsSample } from '../metrics/metrics.ports';

/** A node's closed polling interval as the aggregator takes it: counter deltas plus gauges now. */
export function toSample(nodeId: string, at: Date, stats: NodeStats): NodeStatsSample {
  const { interval } = stats;
  return {
    nodeId,
    at,
    requests: interval.requests,
    hits: interval.hits,
    misses: interval.misses,
    evictions: interval.evictions,
    items: stats.items,
    bytes: stats.bytesUsed,
  };
}
