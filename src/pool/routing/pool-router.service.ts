import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { CacheNodeClient, NODE_JSON_HEADROOM_BYTES } from '../client/cache-node.client';
import { TRANSFER_TIMEOUT_MS } from '../pool.tokens';
import { partition } from '../../protocol/hash-ring';
import { nearWaitMs } from '../../near-cache/near-wait';
import { NodeEndpoint } from '../providers/node-provider.port';
import { POOL_STATE_STORE, PoolState, PoolStateStore } from './pool-state';
import { NodeLeases } from './node-leases';

export interface RoutedNode {
  id: string;
  url: string;
  client: CacheNodeClient;
}

/**
 * This instance's view of the pool: the assignment it routes by and one keep-alive client per
 * node. It only changes by adopting a state with a higher epoch, read from the database, so a
 * notify, a node's "not owner" answer and the periodic poll all converge on the same state.
 */
@Injectable()
export class PoolRouter implements OnModuleDestroy {
  private readonly logger = new Logger(PoolRouter.name);
  private state: PoolState | null = null;
  private readonly clients = new Map<string, RoutedNode>();
  /** Clients of nodes that left the pool, kept for previousOwner() until the next epoch. */
  private readonly retiring = new Map<string, RoutedNode>();
  private reloading: Promise<void> | null = null;
  /** Nodes this instance suspects (a failed request or probe): not read until they answer again. */
  private readonly suspected = new Set<string>();
  /** The near-cache lease each node grants (node-leases.ts). */
  readonly leases = new NodeLeases();

  constructor(
    private readonly config: AppConfig,
    @Inject(POOL_STATE_STORE) private readonly store: PoolStateStore,
  ) {}

  get epoch(): number {
    return this.state?.epoch ?? 0;
  }

  get current(): PoolState | null {
    return this.state;
  }

  /**
   * The owner of the key's region, or null while the pool has no node, or while its owner is
   * quarantined (everyone) or suspected (here): then the key is read from storage, and not filled.
   */
  route(key: string): { region: number; node: RoutedNode | null } {
    const region = partition(key);
    const owner = this.state?.owners[region];
    if (!owner || !this.serving(owner)) return { region, node: null };
    return { region, node: this.clients.get(owner) ?? null };
  }

  /**
   * The node that must hear of an upload of the key: its owner, suspected or not (other instances
   * may still read it), unless quarantined (it rejoins empty, so it need not be told).
   */
  owner(key: string): { region: number; node: RoutedNode | null } {
    const region = partition(key);
    const owner = this.state?.owners[region];
    if (!owner || this.isQuarantined(owner)) return { region, node: null };
    return { region, node: this.clients.get(owner) ?? null };
  }

  /** Whether the node is read from: not quarantined in the assignment, not suspected here. */
  serving(id: string): boolean {
    return !this.suspected.has(id) && !this.isQuarantined(id);
  }

  isQuarantined(id: string): boolean {
    return this.state?.quarantined?.includes(id) ?? false;
  }

  /** This instance stops (suspect) or resumes reading a node; see src/pool/membership/. */
  suspect(id: string, suspected: boolean): void {
    if (suspected) this.suspected.add(id);
    else this.suspected.delete(id);
  }

  node(id: string): RoutedNode | null {
    return this.clients.get(id) ?? null;
  }

  /**
   * The owner of the region in the assignment before this one, when it differs from the current
   * owner: it may still serve instances that have not seen this epoch yet.
   */
  previousOwner(region: number): RoutedNode | null {
    const previous = this.state?.previous;
    const id = previous?.owners[region];
    if (!previous || !id || id === this.state?.owners[region]) return null;
    const known = this.clients.get(id) ?? this.retiring.get(id);
    if (known) return known;
    const endpoint = previous.nodes.find((n) => n.id === id);
    if (!endpoint) return null;
    const routed = this.connect(endpoint);
    this.retiring.set(id, routed);
    return routed;
  }

  /**
   * The longest lease the nodes of `state` may have granted (NodeLeases.longest), after asking the
   * nodes not heard from yet what they grant (learnLeases). One that does not answer within a
   * request's deadline still counts at the protocol's bound.
   */
  async longestLease(state: PoolState | null): Promise<number> {
    await this.learnLeases(state);
    return this.leases.longest(state);
  }

  /**
   * Asks each node of `state` (or its previous assignment) not heard from yet what it grants: a
   * node another instance added a moment ago has not been probed here, and counting it at the
   * protocol's bound (lease waits) or at this instance's own setting (holds) held uploads for up
   * to 30 s. A node without a client here is asked through a short-lived one.
   */
  async learnLeases(state: PoolState | null): Promise<void> {
    const endpoints = [...(state?.nodes ?? []), ...(state?.previous?.nodes ?? [])];
    await Promise.all(
      this.leases.unheard(state).map(async (id) => {
        const routed = this.clients.get(id) ?? this.retiring.get(id);
        const endpoint = endpoints.find((n) => n.id === id);
        const client = routed?.client ?? (endpoint ? this.connect(endpoint).client : undefined);
        try {
          const health = await client?.health().catch(() => undefined);
          this.leases.record(id, health?.nearLeaseMs);
        } finally {
          if (!routed) client?.close();
        }
      }),
    );
  }

  nodes(): RoutedNode[] {
    return [...this.clients.values()];
  }

  /** Adopts `next` when it is newer than what we route by (older states are ignored). */
  adopt(next: PoolState): boolean {
    if (this.state && next.epoch <= this.state.epoch) return false;
    for (const routed of this.retiring.values()) routed.client.close();
    this.retiring.clear();
    const wanted = new Map(next.nodes.map((n) => [n.id, n]));
    for (const [id, routed] of this.clients) {
      const still = wanted.get(id);
      if (!still || still.url !== routed.url) {
        routed.client.close();
        this.clients.delete(id);
      }
    }
    for (const node of next.nodes)
      if (!this.clients.has(node.id)) this.clients.set(node.id, this.connect(node));
    if (this.state)
      this.logger.log(
        `routing by epoch ${next.epoch} (${next.nodes.length} nodes), was ${this.state.epoch}`,
      );
    this.state = structuredClone(next);
    return true;
  }

  /** Reads the stored state and adopts it if newer; concurrent callers share one read. */
  reload(): Promise<void> {
    this.reloading ??= this.refresh()
      .catch((err: Error) => this.logger.warn(`could not reload the pool state: ${err.message}`))
      .finally(() => (this.reloading = null));
    return this.reloading;
  }

  /**
   * Reads the stored state now (never sharing a read begun earlier) and adopts it if newer; throws
   * when the database cannot be read. For a decision that must see every save made before the call.
   */
  async refresh(): Promise<void> {
    const stored = await this.store.load();
    if (stored) this.adopt(stored);
  }

  /** A node told us its epoch: if it is ahead of ours, we route by an old assignment. */
  observeEpoch(nodeEpoch: number | undefined): void {
    if (nodeEpoch !== undefined && nodeEpoch > this.epoch) void this.reload();
  }

  onModuleDestroy(): void {
    for (const routed of [...this.clients.values(), ...this.retiring.values()])
      routed.client.close();
    this.clients.clear();
    this.retiring.clear();
  }

  private connect(node: NodeEndpoint): RoutedNode {
    const client = new CacheNodeClient({
      url: node.url,
      secret: this.config.security.nodeSecret || undefined,
      timeoutMs: this.config.pool.requestTimeoutMs,
      transferTimeoutMs: TRANSFER_TIMEOUT_MS,
      waitTimeoutMs: this.config.pool.requestTimeoutMs + nearWaitMs(this.config),
      maxResponseBytes: this.config.server.uploadLimitBytes + NODE_JSON_HEADROOM_BYTES,
    });
    return { id: node.id, url: node.url, client };
  }
}
