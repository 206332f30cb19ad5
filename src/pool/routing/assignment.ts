import type { Allocator } from './allocators/allocator';
import { partition, REGION_COUNT } from '../../protocol/hash-ring';

/**
 * Which node owns each of the 16 regions, stamped with an epoch. The epoch lets cache nodes and
 * front-ends tell a stale assignment from the current one during a resize.
 */
export interface Assignment {
  epoch: number;
  /** Node id per region; index = region number, length REGION_COUNT. */
  owners: string[];
}

/** Anything carrying owners per region: an Assignment or a bare allocator result wrapped. */
export interface Owned {
  readonly owners: readonly string[];
}

/** One region changing hands: its entries must be streamed from `from` to `to`. */
export interface RegionMove {
  region: number;
  from: string;
  to: string;
}

/** Cached keys per region, as group15 logged them ("Current cached keys"). */
export type KeysByRegion = Readonly<Record<number, readonly string[]>>;

/** sender → receiver → keys, the shape of group15's "Balance result" `send_to`/`dest`. */
export type KeyMoves = Record<string, Record<string, string[]>>;

export class InvalidAssignmentError extends Error {
  override readonly name = 'InvalidAssignmentError';
}

export function assertValidOwners(owners: readonly string[]): void {
  if (!Array.isArray(owners) || owners.length !== REGION_COUNT) {
    throw new InvalidAssignmentError(`owners must list ${REGION_COUNT} node ids, one per region`);
  }
  owners.forEach((owner, region) => {
    if (typeof owner !== 'string' || owner.length === 0) {
      throw new InvalidAssignmentError(`region ${region} has no owner`);
    }
  });
}

/** Validated copy, so a caller mutating its array later cannot change a published assignment. */
export function makeAssignment(epoch: number, owners: readonly string[]): Assignment {
  if (!Number.isSafeInteger(epoch) || epoch < 0) {
    throw new InvalidAssignmentError(`epoch must be a non-negative integer, got ${epoch}`);
  }
  assertValidOwners(owners);
  return { epoch, owners: [...owners] };
}

/** The assignment after a resize: the allocator decides owners, the epoch moves on by one. */
export function nextAssignment(
  previous: Assignment | null,
  nodes: readonly string[],
  allocator: Allocator,
): Assignment {
  const owners = allocator.allocate(previous?.owners ?? null, nodes);
  return makeAssignment(previous ? previous.epoch + 1 : 1, owners);
}

export function regionsOf(assignment: Owned, nodeId: string): number[] {
  const regions: number[] = [];
  assignment.owners.forEach((owner, region) => {
    if (owner === nodeId) regions.push(region);
  });
  return regions;
}

/** Distinct owners in order of first appearance over regions 0..15 (group15's node order). */
export function nodesOf(assignment: Owned): string[] {
  return [...new Set(assignment.owners)];
}

export function ownerOfKey(assignment: Owned, key: string): string {
  return assignment.owners[partition(key)];
}

export function movedRegions(old: Owned, next: Owned): RegionMove[] {
  assertValidOwners(old.owners);
  assertValidOwners(next.owners);
  const moves: RegionMove[] = [];
  old.owners.forEach((from, region) => {
    const to = next.owners[region];
    if (from !== to) moves.push({ region, from, to });
  });
  return moves;
}

/** Which cached keys each old owner must hand to each new owner; keys that stay are left out. */
export function keyMoves(old: Owned, next: Owned, keysByRegion: KeysByRegion): KeyMoves {
  const moves: KeyMoves = {};
  for (const { region, from, to } of movedRegions(old, next)) {
    const keys = keysByRegion[region] ?? [];
    if (keys.length === 0) continue;
    const dest = (moves[from] ??= {});
    (dest[to] ??= []).push(...keys);
  }
  return moves;
}
