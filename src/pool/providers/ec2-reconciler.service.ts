import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { LEADERSHIP, Leadership } from '../../coordination/leadership.port';
import { PeriodicJob } from '../../coordination/periodic-job';
import { NODE_PROVIDER, NodeProvider } from './node-provider.port';
import { POOL_STATE_STORE, PoolStateStore } from '../routing/pool-state';
import { Ec2NodeProvider, ReconcileReport } from './ec2-node.provider';

/**
 * The EC2 reconciler: every pool.ec2.reconcileIntervalMs, on the leader only, stops pool instances that
 * have been running outside the stored assignment for longer than pool.ec2.strayGraceMs. Strays come from
 * an app instance that died between StartInstances and saving the assignment, a rollback that could not
 * stop a pending instance in time, or a shrink that crashed before its stop. Without EC2 it does nothing.
 */
@Injectable()
export class Ec2Reconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(Ec2Reconciler.name);
  private job: PeriodicJob | null = null;
  private running = false;

  constructor(
    private readonly config: AppConfig,
    @Inject(NODE_PROVIDER) private readonly provider: NodeProvider,
    @Inject(POOL_STATE_STORE) private readonly store: PoolStateStore,
    @Optional() @Inject(LEADERSHIP) private readonly leadership?: Leadership,
  ) {}

  onApplicationBootstrap(): void {
    if (!(this.provider instanceof Ec2NodeProvider)) return;
    const every = this.config.pool.ec2.reconcileIntervalMs;
    this.job = new PeriodicJob(
      'EC2 reconciliation',
      every,
      async () => {
        await this.tick();
      },
      this.logger,
    );
    this.job.start();
  }

  /** Waits for a pass under way, so no StopInstances is sent after shutdown. */
  async onApplicationShutdown(): Promise<void> {
    await this.job?.stop();
    this.job = null;
  }

  /** One pass; null when skipped (not EC2, not the leader, a pass still running, no pool yet). */
  async tick(): Promise<ReconcileReport | null> {
    if (!(this.provider instanceof Ec2NodeProvider) || this.running) return null;
    // Asked right before acting: a deposed leader must not stop what the new one is starting.
    if (!(this.leadership?.isLeader() ?? true)) return null;
    this.running = true;
    try {
      // Read fresh from the database, not this instance's router: another instance may have grown.
      const state = await this.store.load();
      // Before the first assignment is saved, every running instance may be one a booting app instance
      // is about to take (first boot adopts running ones and stops the rest itself).
      if (!state) return null;
      const report = await this.provider.reconcile(new Set(state.nodes.map((node) => node.id)));
      if (report.waiting.size > 0) {
        const waiting = [...report.waiting].map(([id, ms]) => `${id} (${Math.round(ms / 1000)} s)`);
        this.logger.log(`running outside the assignment, within the grace period: ${waiting}`);
      }
      return report;
    } finally {
      this.running = false;
    }
  }
}
