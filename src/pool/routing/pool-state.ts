import { NodeEndpoint } from '../providers/node-provider.port';

/**
 * The pool as every front-end must see it: which node owns each of the 16 regions, at which
 * epoch, and where those nodes are. Persisted in the database so all app instances agree.
 */
export interface PoolState {
  epoch: number;
  /** Node id per region, length 16. */
  owners: string[];
  /** The nodes in pool order (round-robin reads its order from here). */
  nodes: NodeEndpoint[];
  /**
   * The assignment this one replaced. Until every old owner has given up its moved regions, an
   * instance that has not seen this epoch yet may still read from them, so uploads invalidate the
   * previous owner of a key's region too.
   */
  previous?: { owners: string[]; nodes: NodeEndpoint[] } | null;
  /**
   * Members no front-end reads from or fills (src/pool/membership/): their regions are read from
   * storage until they rejoin empty, or are removed. Absent: none.
   */
  quarantined?: string[];
  /**
   * The size the pool is meant to have (the operator's, or the auto-scaler's last decision): a node
   * removed for failure is replaced up to it. Absent: the number of nodes.
   */
  target?: number;
}

export const POOL_STATE_STORE = Symbol('PoolStateStore');

export interface PoolStateStore {
  load(): Promise<PoolState | null>;
  /**
   * Saves `next` only if the stored epoch is still `expectedEpoch` (0: nothing stored yet), so two
   * instances that resize at once cannot both win; false when another one moved first.
   * With a fencing token, also only while the leader lease is still at that epoch (checked in the
   * same statement): false for a deposed leader.
   */
  compareAndSave(expectedEpoch: number, next: PoolState, fencingToken?: number): Promise<boolean>;
  /** Cheap read of the stored epoch, for instances polling for changes they were not told of. */
  epoch(): Promise<number>;
}
