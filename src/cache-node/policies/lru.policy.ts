import type { Entry } from '../entry';
import { EntryList } from './entry-list';
import type { ReplacementPolicy } from './replacement-policy';

/** Least recently used: exact, every hit moves the entry to the newest end. */
export class LruPolicy implements ReplacementPolicy {
  readonly name = 'lru' as const;
  private readonly list = new EntryList();

  admit(entry: Entry): void {
    this.list.pushNewest(entry);
  }

  touch(entry: Entry): void {
    this.list.moveToNewest(entry);
  }

  remove(entry: Entry): void {
    this.list.unlink(entry);
  }

  victim(): Entry | undefined {
    return this.list.oldest ?? undefined;
  }

  entries(): Entry[] {
    return this.list.toArray();
  }
}
