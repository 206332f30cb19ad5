import type { NodePolicy } from '../../protocol/cache-node.protocol';
import type { Entry } from '../entry';

/**
 * Chooses what to evict. The store owns the entries and the byte accounting; a policy only keeps
 * its own order, through the policy fields on Entry, so switching policy at run time is a rebuild
 * of that order (see CacheStore.setPolicy) rather than a copy of the data.
 */
export interface ReplacementPolicy {
  readonly name: NodePolicy;
  /** A new entry entered the cache. */
  admit(entry: Entry): void;
  /** The entry was read (a hit). */
  touch(entry: Entry): void;
  /** The entry left the cache (evicted, replaced, invalidated or dropped). */
  remove(entry: Entry): void;
  /** Next entry to evict, left in place: the store removes it through remove(). */
  victim(): Entry | undefined;
  /** Every entry, those this policy would evict first coming first (random: any order). */
  entries(): Entry[];
}

export type RandomSource = () => number;
