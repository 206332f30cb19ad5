import { NodePolicy } from '../protocol/cache-node.protocol';

/** One cache configuration for every node: a node that joins later gets it too. */
export interface CacheSettings {
  /** Per node, in MB. */
  capacityMb: number;
  policy: NodePolicy;
}

export const CACHE_SETTINGS = Symbol('CacheSettings');

export interface CacheSettingsSource {
  current(): Promise<CacheSettings>;
}
