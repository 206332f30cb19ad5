import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { POOL_STATE_STORE, PoolStateStore } from './pool-state';
import { PoolRouter } from './pool-router.service';
import { ResizeService } from './resize.service';

/** Consecutive failed health checks after which a node counts as dead. */
const FAILURES_TO_REMOVE = 2;

/**
 * Notices dead nodes and takes them out of the pool: from failed requests (a suspect is checked at
 * once) and from a periodic health check. The same timer polls the stored epoch, so an instance
 * that missed a notify still converges within one interval.
 */
@Injectable()
export class NodeFailureService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(NodeFailureService.name);
  private readonly failures = new Map<string, number>();
  private readonly checking = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private health: Map<string, { ok: boolean; checkedAt: string; error?: string }> = new Map();

  constructor(
    private readonly config: AppConfig,
    private readonly router: PoolRouter,
    private readonly resizer: ResizeService,
    @Inject(POOL_STATE_STORE) private readonly store: PoolStateStore,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.checkAll(), this.config.pool.healthIntervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Health of each routed node as last seen, for the manager. */
  status(id: string): { ok: boolean; checkedAt: string; error?: string } | undefined {
    return this.health.get(id);
  }

  /** A request to the node failed: check it now rather than wait for the next round. */
  suspect(id: string, why: string): void {
    if (this.checking.has(id)) return;
    this.logger.warn(`node ${id} suspected: ${why}`);
    void this.checkNode(id, FAILURES_TO_REMOVE - 1);
  }

  /** The node could not be told something it must know (an invalidation): remove it before going on. */
  async removeNow(id: string, why: string): Promise<void> {
    await this.resizer.removeFailed(id, why);
  }

  async checkAll(): Promise<void> {
    try {
      if ((await this.store.epoch()) > this.router.epoch) await this.router.reload();
    } catch (err) {
      this.logger.warn(`could not read the stored epoch: ${(err as Error).message}`);
    }
    await Promise.all(this.router.nodes().map((node) => this.checkNode(node.id, 0)));
  }

  private async checkNode(id: string, priorFailures: number): Promise<void> {
    const node = this.router.node(id);
    if (!node || this.checking.has(id)) return;
    this.checking.add(id);
    try {
      await node.client.health();
      this.failures.delete(id);
      this.health.set(id, { ok: true, checkedAt: new Date().toISOString() });
    } catch (err) {
      const count = Math.max(this.failures.get(id) ?? 0, priorFailures) + 1;
      this.failures.set(id, count);
      this.health.set(id, {
        ok: false,
        checkedAt: new Date().toISOString(),
        error: (err as Error).message,
      });
      if (count >= FAILURES_TO_REMOVE) {
        this.failures.delete(id);
        await this.resizer
          .removeFailed(id, `no answer to ${count} health checks: ${(err as Error).message}`)
          .catch((e: Error) => this.logger.error(`could not remove ${id}: ${e.message}`));
      }
    } finally {
      this.checking.delete(id);
    }
  }
}
