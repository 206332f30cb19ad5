import { NODE_REGION_COUNT } from '../protocol/cache-node.protocol';
import { testMutant } from '../protocol/test-mutants';

export interface OwnershipChange {
  gained: Set<number>;
  lost: Set<number>;
}

/**
 * Which regions this node serves, and at which epoch. A node starts owning nothing at epoch 0
 * (every key answers 421 not_owner) until the manager pushes ownership: a process that restarted
 * on the same address knows nothing of what it missed (invalidations, subscribers that still serve
 * near copies under its old grants), so it must not serve, fill or answer invalidations as an
 * owner until the pool has treated it as a rejoin (emptied, its regions given at a new epoch, and
 * held for its near lease on gaining them: subscriptions.ts, step 3). The failure detector spots
 * the restart by its boot id and epoch 0 (src/pool/membership/node-failure.service.ts).
 */
export class Ownership {
  // The mutant is the old defect (a restarted node claims every region at once), for the nemesis.
  private owned: boolean[] = new Array<boolean>(NODE_REGION_COUNT).fill(
    testMutant('restarted-node-claims-all'),
  );
  private currentEpoch = 0;
  /** Sent on every key response; cached so responses format nothing. */
  epochHeader = '0';
  /**
   * The pool's nodes (origins) as the app last named them: the only targets a transfer streams
   * to, so no caller can make this node send its images anywhere else. Empty until named.
   */
  members: ReadonlySet<string> = new Set();

  get epoch(): number {
    return this.currentEpoch;
  }

  owns(region: number): boolean {
    return this.owned[region];
  }

  regions(): number[] {
    const out: number[] = [];
    this.owned.forEach((owned, region) => owned && out.push(region));
    return out;
  }

  /** Replaces the ownership. The caller checked that epoch >= the current epoch. */
  set(epoch: number, regions: readonly number[]): OwnershipChange {
    const next = new Array<boolean>(NODE_REGION_COUNT).fill(false);
    for (const region of regions) next[region] = true;
    const change: OwnershipChange = { gained: new Set(), lost: new Set() };
    for (let region = 0; region < NODE_REGION_COUNT; region++) {
      if (next[region] && !this.owned[region]) change.gained.add(region);
      if (!next[region] && this.owned[region]) change.lost.add(region);
    }
    this.owned = next;
    this.currentEpoch = epoch;
    this.epochHeader = String(epoch);
    return change;
  }
}
