import type { NodePolicy } from '../../protocol/cache-node.protocol';
import { LruPolicy } from './lru.policy';
import { RandomPolicy } from './random.policy';
import type { RandomSource, ReplacementPolicy } from './replacement-policy';
import { SievePolicy } from './sieve.policy';

export type { RandomSource, ReplacementPolicy } from './replacement-policy';

export function createPolicy(name: NodePolicy, random: RandomSource): ReplacementPolicy {
  switch (name) {
    case 'lru':
      return new LruPolicy();
    case 'random':
      return new RandomPolicy(random);
    case 'sieve':
      return new SievePolicy();
  }
}
