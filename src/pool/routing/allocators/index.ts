import { Allocator, ALLOCATOR_NAMES, AllocatorName } from './allocator';
import { BalancedAllocator } from './balanced.allocator';
import { RoundRobinAllocator } from './round-robin.allocator';

export { ALLOCATOR_NAMES, assertValidAllocateInput } from './allocator';
export type { Allocator, AllocatorName } from './allocator';
export { BalancedAllocator } from './balanced.allocator';
export { RoundRobinAllocator } from './round-robin.allocator';

export const DEFAULT_ALLOCATOR: AllocatorName = 'balanced';

/** The allocator named in config; throws on an unknown name so a typo stops the start. */
export function createAllocator(name: AllocatorName = DEFAULT_ALLOCATOR): Allocator {
  switch (name) {
    case 'balanced':
      return new BalancedAllocator();
    case 'round-robin':
      return new RoundRobinAllocator();
    default:
      throw new Error(
        `unknown allocator "${String(name)}", expected one of ${ALLOCATOR_NAMES.join(', ')}`,
      );
  }
}
