import { NodeStatsSample } from './metrics.ports';

interface NodeGauges {
  atMs: number;
  items: number;
  bytes: number;
}

/**
 * The latest items/bytes gauge of each pool member, so the pool total at a poll is a sum over nodes,
 * never over polls. A node that misses one poll keeps its last value (it still holds its items), but
 * the tracker never counts more nodes than the pool has: after a shrink or a replaced node, the ones
 * heard from least recently are forgotten first.
 */
export class PoolGauges {
  private readonly latest = new Map<string, NodeGauges>();

  update(samples: NodeStatsSample[], poolSize: number): void {
    const polled = new Set<string>();
    for (const sample of samples) {
      polled.add(sample.nodeId);
      const atMs = sample.at.getTime();
      const seen = this.latest.get(sample.nodeId);
      if (!seen || seen.atMs <= atMs) {
        this.latest.set(sample.nodeId, { atMs, items: sample.items, bytes: sample.bytes });
      }
    }
    const absent = [...this.latest.entries()]
      .filter(([nodeId]) => !polled.has(nodeId))
      .sort(([, a], [, b]) => a.atMs - b.atMs);
    for (const [nodeId] of absent) {
      if (this.latest.size <= poolSize) break;
      this.latest.delete(nodeId);
    }
  }

  totals(): { items: number; bytes: number } {
    let items = 0;
    let bytes = 0;
    for (const gauges of this.latest.values()) {
      items += gauges.items;
      bytes += gauges.bytes;
    }
    return { items, bytes };
  }

  /** The nodes whose gauges are counted in the totals. */
  members(): string[] {
    return [...this.latest.keys()];
  }
}
