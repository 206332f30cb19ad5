import {
  ConflictException,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { NODE_PROVIDER, NodeEndpoint, NodeProvider } from '../providers/node-provider.port';
import { POOL_STATE_STORE, PoolStateStore } from '../routing/pool-state';
import { PoolRouter } from '../routing/pool-router.service';
import { ResizeService } from './resize.service';
import { NodeSetup } from './node-setup.service';
import { LocalNodeProvider } from '../providers/local-node.provider';

/**
 * Brings the pool up at start. A stored pool whose nodes all answer at its epoch is adopted as it
 * is (a second app instance joining); otherwise the pool is rebuilt at the next epoch with the
 * nodes that are still up plus fresh ones (after a restart with local nodes, or a node lost
 * meanwhile), the stored size kept.
 */
@Injectable()
export class PoolBootstrap implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PoolBootstrap.name);

  constructor(
    private readonly config: AppConfig,
    private readonly router: PoolRouter,
    private readonly resizer: ResizeService,
    private readonly setup: NodeSetup,
    @Inject(NODE_PROVIDER) private readonly provider: NodeProvider,
    @Inject(POOL_STATE_STORE) private readonly store: PoolStateStore,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Instances started at once on an empty database all try to save the first pool; the
    // compare-and-save lets one win and the others fail with a conflict. Starting again then
    // finds the winner's pool stored and joins it (or rebuilds it, with local nodes). So does an
    // instance that finds a node past the epoch it read: the pool changed while it started.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.start();
      } catch (err) {
        if (attempt >= 5 || !(err instanceof ConflictException)) throw err;
        this.logger.log(
          `another instance changed the pool meanwhile (${err.message}); starting again`,
        );
      }
    }
  }

  private async start(): Promise<void> {
    await this.resizer.runExclusive('pool start', async () => {
      const stored = await this.store.load();
      if (stored) {
        this.provider.adopt?.(stored.nodes.map((n) => n.id));
        this.router.adopt(stored); // connects to its nodes, to ask them their epoch
      }
      const running = new Set((await this.provider.list()).map((n) => n.id));
      const alive: NodeEndpoint[] = [];
      let allCurrent = true;
      for (const node of stored?.nodes ?? []) {
        const epoch = running.has(node.id) ? await this.epochOf(node) : null;
        if (stored && epoch !== null && epoch > stored.epoch) {
          // Another instance saved and pushed a newer pool after this one read the store (it saves
          // before it pushes): start again from the store, never take a node back to an older one.
          throw new ConflictException(`${node.id} is at epoch ${epoch}, past ${stored.epoch}`);
        }
        // A quarantined member is not read and is behind by design: it rejoins empty later.
        const quarantined = stored?.quarantined?.includes(node.id) ?? false;
        if (epoch !== stored?.epoch && !(quarantined && epoch !== null)) allCurrent = false;
        if (epoch === null) continue;
        // A node behind the stored epoch may have missed invalidations: it rejoins empty.
        if (epoch !== stored?.epoch) await this.setup.prepare(node, stored?.epoch ?? 0);
        alive.push(node);
      }
      if (stored && allCurrent && alive.length > 0) {
        this.logger.log(`joined the pool at epoch ${stored.epoch} (${alive.length} nodes)`);
        return;
      }
      const { min, max, initial } = this.config.pool;
      const want = Math.min(
        max,
        Math.max(min, stored ? (stored.target ?? stored.nodes.length) : initial),
      );
      const fresh =
        want > alive.length
          ? // Members that did not come back are replaced here, ids and all (stopped below).
            await this.resizer.startNodes(
              stored,
              want - alive.length,
              alive.map((n) => n.id),
            )
          : [];
      const members = [...alive, ...fresh];
      const next = await this.resizer.switchTo(stored, members, []);
      const gone = (stored?.nodes ?? []).filter((n) => !members.some((m) => m.id === n.id));
      if (gone.length > 0) await this.provider.stop(gone.map((n) => n.id)).catch(() => undefined);
      this.logger.log(`pool started at epoch ${next.epoch} with ${next.nodes.length} node(s)`);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.provider instanceof LocalNodeProvider) await this.provider.stopAll();
  }

  private async epochOf(node: NodeEndpoint): Promise<number | null> {
    const routed = this.router.node(node.id);
    try {
      const client = routed?.client;
      if (!client) return null;
      return (await client.health()).epoch;
    } catch {
      return null;
    }
  }
}
