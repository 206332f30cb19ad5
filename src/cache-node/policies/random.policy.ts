import type { Entry } from '../entry';
import type { RandomSource, ReplacementPolicy } from './replacement-policy';

/** Uniform random eviction (the course's second policy): a dense array, Entry.slot its index. */
export class RandomPolicy implements ReplacementPolicy {
  readonly name = 'random' as const;
  private readonly slots: Entry[] = [];

  constructor(private readonly random: RandomSource = Math.random) {}

  admit(entry: Entry): void {
    entry.slot = this.slots.length;
    this.slots.push(entry);
  }

  touch(): void {
    // Hits do not change the odds.
  }

  remove(entry: Entry): void {
    const last = this.slots.pop();
    if (last && last !== entry) {
      // Fill the hole with the last entry so the array stays dense.
      this.slots[entry.slot] = last;
      last.slot = entry.slot;
    }
    entry.slot = -1;
  }

  victim(): Entry | undefined {
    if (this.slots.length === 0) return undefined;
    return this.slots[Math.floor(this.random() * this.slots.length)];
  }

  entries(): Entry[] {
    return this.slots.slice();
  }
}
