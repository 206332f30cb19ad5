import type { Entry } from '../entry';
import { EntryList } from './entry-list';
import type { ReplacementPolicy } from './replacement-policy';

/**
 * SIEVE: Y. Zhang, J. Yang, Y. Yue, Y. Vigfusson, K. V. Rashmi, "SIEVE is Simpler than LRU: an
 * Efficient Turn-Key Eviction Algorithm for Web Caches", USENIX NSDI 2024.
 *
 * A FIFO queue with one "visited" bit per entry and a hand that sweeps from the oldest entry
 * towards the newest: a visited entry is spared (bit cleared), the first unvisited one is evicted.
 * Unlike LRU, a hit only sets a bit (no list surgery), and entries that are never read again
 * leave quickly, which gives better hit ratios than LRU on skewed (Zipf-like) web workloads.
 */
export class SievePolicy implements ReplacementPolicy {
  readonly name = 'sieve' as const;
  private readonly queue = new EntryList();
  /** Where the next sweep starts; null means "from the oldest". */
  private hand: Entry | null = null;

  admit(entry: Entry): void {
    entry.visited = false;
    this.queue.pushNewest(entry);
  }

  touch(entry: Entry): void {
    entry.visited = true;
  }

  remove(entry: Entry): void {
    // The hand moves on towards newer entries, as after an eviction in the paper.
    if (this.hand === entry) this.hand = entry.newer;
    this.queue.unlink(entry);
  }

  victim(): Entry | undefined {
    let candidate = this.hand ?? this.queue.oldest;
    while (candidate && candidate.visited) {
      candidate.visited = false;
      candidate = candidate.newer ?? this.queue.oldest;
    }
    this.hand = candidate;
    return candidate ?? undefined;
  }

  /** Queue order from the hand round to just before it: the order the sweep would visit. */
  entries(): Entry[] {
    const all = this.queue.toArray();
    const start = this.hand ? all.indexOf(this.hand) : 0;
    return start <= 0 ? all : all.slice(start).concat(all.slice(0, start));
  }
}
