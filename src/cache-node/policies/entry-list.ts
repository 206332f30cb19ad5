import type { Entry } from '../entry';

/**
 * Intrusive doubly linked list over Entry.newer/older: O(1) insert, unlink and move with no
 * allocation, which a Map-based order (delete + set on every hit) cannot offer.
 */
export class EntryList {
  /** Most recently inserted (or moved) entry. */
  newest: Entry | null = null;
  /** Least recently inserted (or moved) entry. */
  oldest: Entry | null = null;

  pushNewest(entry: Entry): void {
    entry.older = this.newest;
    entry.newer = null;
    if (this.newest) this.newest.newer = entry;
    else this.oldest = entry;
    this.newest = entry;
  }

  unlink(entry: Entry): void {
    if (entry.newer) entry.newer.older = entry.older;
    else this.newest = entry.older;
    if (entry.older) entry.older.newer = entry.newer;
    else this.oldest = entry.newer;
    entry.newer = null;
    entry.older = null;
  }

  moveToNewest(entry: Entry): void {
    if (this.newest === entry) return;
    this.unlink(entry);
    this.pushNewest(entry);
  }

  /** Oldest first. */
  toArray(): Entry[] {
    const out: Entry[] = [];
    for (let e = this.oldest; e; e = e.newer) out.push(e);
    return out;
  }
}
