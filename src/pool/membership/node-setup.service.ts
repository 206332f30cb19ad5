import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { movedRegions, regionsOf } from '../routing/assignment';
import {
  CacheNodeClient,
  CacheNodeRequestError,
  NODE_JSON_HEADROOM_BYTES,
} from '../client/cache-node.client';
import { TRANSFER_TIMEOUT_MS } from '../pool.tokens';
import { NodeEndpoint } from '../providers/node-provider.port';
import { PoolState } from '../routing/pool-state';
import { PoolRouter } from '../routing/pool-router.service';
import { CACHE_SETTINGS, CacheSettingsSource } from '../cache-settings';
import { nearWaitMs } from '../../near-cache/near-wait';

/** The node-side steps of a pool change: prepare new nodes, push ownership, move regions. */
@Injectable()
export class NodeSetup {
  private readonly logger = new Logger(NodeSetup.name);

  constructor(
    private readonly config: AppConfig,
    private readonly router: PoolRouter,
    @Inject(CACHE_SETTINGS) private readonly settings: CacheSettingsSource,
  ) {}

  /** A node joining the pool starts empty, with the pool's cache settings, owning nothing. */
  async prepare(node: NodeEndpoint, epoch: number): Promise<void> {
    const { capacityMb, policy } = await this.settings.current();
    await this.withClient(node, async (client) => {
      await client.clear();
      await client.setConfig({ capacityBytes: capacityMb * 1024 * 1024, policy });
      await client.setOwnership(epoch, []);
    });
  }

  /**
   * Two rounds: first every node keeps only the regions it keeps (losers stop serving what moves),
   * then every node takes its full new set. A region in flight is briefly owned by nobody, so
   * readers go to storage, instead of by two nodes that could disagree.
   */
  /** Returns the ids of nodes that could not be told: they must leave the pool (they may serve stale regions). */
  async pushOwnership(
    nodes: NodeEndpoint[],
    prev: PoolState | null,
    next: PoolState,
  ): Promise<string[]> {
    const keep = (id: string) => {
      const before = new Set(prev ? regionsOf(prev, id) : []);
      return regionsOf(next, id).filter((r) => before.has(r));
    };
    // Named with the ownership: the only nodes a transfer may then stream to (transfer.ts).
    const members = nodes.filter((n) => next.nodes.some((m) => m.id === n.id)).map((n) => n.url);
    const failed = await this.eachNode(nodes, 'give up moved regions', (client, node) =>
      client.setOwnership(next.epoch, keep(node.id), 0, members),
    );
    const reachable = nodes.filter((n) => !failed.includes(n.id));
    const holdMs = await this.holdMs(prev);
    failed.push(
      ...(await this.eachNode(reachable, 'take new regions', (client, node) =>
        // Gained regions are held for the previous owners' grants, near cache on here or not.
        client.setOwnership(next.epoch, regionsOf(next, node.id), holdMs, members),
      )),
    );
    return failed;
  }

  /**
   * Each old owner streams its moved regions to each new owner, which keeps the newer version.
   * Senders in `dead` are skipped: their entries are gone, the regions refill from storage.
   */
  async moveRegions(
    prev: PoolState,
    next: PoolState,
    everyone: NodeEndpoint[],
    dead: ReadonlySet<string>,
  ): Promise<void> {
    const urls = new Map(everyone.map((n) => [n.id, n.url]));
    // One stream per sender at a time: a node's upload bandwidth is the bottleneck anyway.
    const bySender = new Map<string, Map<string, number[]>>();
    for (const { region, from, to } of movedRegions(prev, next)) {
      if (dead.has(from) || !urls.has(from) || !urls.has(to)) continue;
      const sends = bySender.get(from) ?? new Map<string, number[]>();
      sends.set(to, [...(sends.get(to) ?? []), region]);
      bySender.set(from, sends);
    }
    let entries = 0;
    let bytes = 0;
    const started = Date.now();
    await Promise.all(
      [...bySender].map(([from, sends]) =>
        this.withClient({ id: from, url: urls.get(from)! }, async (client) => {
          for (const [to, regions] of sends) {
            try {
              const result = await client.transfer(regions, urls.get(to)!, next.epoch);
              entries += result.entries;
              bytes += result.bytes;
            } catch (err) {
              // The regions are refilled from storage; the sender no longer serves them.
              this.logger.warn(
                `transfer of regions ${regions} ${from} → ${to} failed: ${(err as Error).message}`,
              );
            }
          }
        }),
      ),
    );
    const moved = movedRegions(prev, next).length;
    if (moved > 0) {
      const mib = (bytes / 1024 / 1024).toFixed(1);
      this.logger.log(
        `moved ${moved} region(s): ${entries} entries, ${mib} MiB in ${Date.now() - started} ms`,
      );
    }
  }

  private async holdMs(prev: PoolState | null): Promise<number> {
    await this.router.learnLeases(prev);
    return this.router.leases.holdFor(prev, this.config.nearCache.leaseMs);
  }

  private async eachNode(
    nodes: NodeEndpoint[],
    what: string,
    work: (client: CacheNodeClient, node: NodeEndpoint) => Promise<unknown>,
  ): Promise<string[]> {
    const failed: string[] = [];
    await Promise.all(
      nodes.map((node) =>
        this.withClient(node, (client) => work(client, node)).catch((err: Error) => {
          // A node already at a newer epoch was reached by a newer change (another instance's):
          // it is healthy and that change's owner is in charge of it now.
          if (err instanceof CacheNodeRequestError && err.code === 'stale_epoch') return;
          this.logger.warn(`${node.id}: could not ${what}: ${err.message}`);
          failed.push(node.id);
        }),
      ),
    );
    return failed;
  }

  /** The router's keep-alive client when the node is routed to, else a short-lived one, closed after. */
  private async withClient<T>(
    node: NodeEndpoint,
    work: (client: CacheNodeClient) => Promise<T>,
  ): Promise<T> {
    const routed = this.router.node(node.id)?.client;
    if (routed) return work(routed);
    const client = new CacheNodeClient({
      url: node.url,
      secret: this.config.security.nodeSecret || undefined,
      timeoutMs: Math.max(this.config.pool.requestTimeoutMs, 5000),
      transferTimeoutMs: TRANSFER_TIMEOUT_MS,
      waitTimeoutMs: Math.max(this.config.pool.requestTimeoutMs, 5000) + nearWaitMs(this.config),
      maxResponseBytes: this.config.server.uploadLimitBytes + NODE_JSON_HEADROOM_BYTES,
    });
    try {
      return await work(client);
    } finally {
      client.close();
    }
  }
}
