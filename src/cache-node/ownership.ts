import { NODE_REGION_COUNT } from '../protocol/cache-node.protocol';

export interface OwnershipChange {
  gained: Set<number>;
  lost: Set<number>;
}

/**
 * Which regions this node serves, and at which epoch. A fresh node owns every region at epoch 0
 * so it works stand-alone; the manager's first assignment (epoch >= 1) replaces that. (So a node
 * restarted on its address claims every region: issue 18's defect 4, which the test mutant
 * 'restarted-node-claims-all' keeps once that is fixed.)
 */
export class Ownership {
  private owned: boolean[] = new Array<boolean>(NODE_REGION_COUNT).fill(true);
  private currentEpoch = 0;
  /** Sent on every key response; cached so responses format nothing. */
  epochHeader = '0';

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
