import { NodeStatsSample } from './metrics.ports';

interface LookupDelta {
  atMs: number;
  hits: number;
  misses: number;
}

/**
 * The raw per-poll hit/miss deltas of the last few minutes. Minute buckets alone would make "the last
 * 60 s" straddle two minutes; raw deltas make a window exact to one polling interval.
 */
export class RecentSamples {
  private deltas: LookupDelta[] = [];
  /** From this instant on, every ingested delta is still here (nothing older was kept or pruned). */
  private completeSinceMs: number;

  constructor(
    startMs: number,
    private readonly keepMs: number,
  ) {
    this.completeSinceMs = startMs;
  }

  add(samples: NodeStatsSample[]): void {
    for (const { at, hits, misses } of samples) {
      if (at.getTime() >= this.completeSinceMs) {
        this.deltas.push({ atMs: at.getTime(), hits, misses });
      }
    }
  }

  prune(nowMs: number): void {
    const cutoff = nowMs - this.keepMs;
    if (cutoff <= this.completeSinceMs) return;
    this.completeSinceMs = cutoff;
    this.deltas = this.deltas.filter((delta) => delta.atMs >= cutoff);
  }

  get completeSince(): number {
    return this.completeSinceMs;
  }

  /** Sums the deltas whose interval ends in (startMs, endMs]: a delta stamped at startMs counted before it. */
  sum(startMs: number, endMs: number): { hits: number; misses: number } {
    let hits = 0;
    let misses = 0;
    for (const delta of this.deltas) {
      if (delta.atMs > startMs && delta.atMs <= endMs) {
        hits += delta.hits;
        misses += delta.misses;
      }
    }
    return { hits, misses };
  }
}
