export const NODE_PROVIDER = Symbol('NodeProvider');

/** One cache node the pool can route to. `id` is stable for the node's life (EC2: instance id; local: `local-<port>`). */
export interface NodeEndpoint {
  id: string;
  /** http://host:port */
  url: string;
}

export interface NodeProvider {
  readonly kind: 'local' | 'static' | 'ec2';
  /** Nodes running now (for EC2: reconciled with what AWS says is running and tagged). */
  list(): Promise<NodeEndpoint[]>;
  /** Start `count` more nodes and resolve once every one answers its health check; on failure stop the ones
   *  this call started and throw an Error whose message says which node failed and why. */
  start(count: number): Promise<NodeEndpoint[]>;
  /** Stop these nodes (called after their regions were drained). */
  stop(ids: string[]): Promise<void>;
  /**
   * The nodes the stored pool uses now (another app instance may have changed it), so start()
   * does not hand out a node that is already a member. Providers that own their nodes ignore it.
   */
  adopt?(ids: string[]): void;
  /** Max nodes this provider can offer (EC2: tagged instances, or unbounded with a launch template). */
  capacity(): Promise<number>;
}

/** Health probe, injected so providers can be tested without a network: resolves true when the node answers /health. */
export type HealthProbe = (url: string) => Promise<boolean>;
