import { assertValidOwners, InvalidAssignmentError } from '../assignment';

export const ALLOCATOR_NAMES = ['balanced', 'round-robin'] as const;
export type AllocatorName = (typeof ALLOCATOR_NAMES)[number];

/**
 * Decides which node owns each region after the pool changes. Pure: same input, same output,
 * so every front-end instance that recomputes an assignment agrees with the one that published it.
 */
export interface Allocator {
  readonly name: AllocatorName;
  /**
   * @param previous owners per region before the change, or null on a fresh start
   * @param nodes the pool after the change, in order (distinct ids; past 16 some own nothing)
   * @returns owners per region (length 16), every id taken from `nodes`
   */
  allocate(previous: readonly string[] | null, nodes: readonly string[]): string[];
}

/** Shared input checks, so both allocators reject the same bad input the same way. */
export function assertValidAllocateInput(
  previous: readonly string[] | null,
  nodes: readonly string[],
): void {
  if (previous !== null) assertValidOwners(previous);
  if (!Array.isArray(nodes) || nodes.length === 0) {
    throw new InvalidAssignmentError('the pool needs at least one node');
  }
  if (nodes.some((id) => typeof id !== 'string' || id.length === 0)) {
    throw new InvalidAssignmentError('node ids must be non-empty strings');
  }
  if (new Set(nodes).size !== nodes.length) {
    throw new InvalidAssignmentError('node ids must be distinct');
  }
}
