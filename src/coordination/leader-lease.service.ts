import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { PROMETHEUS_REGISTRY } from '../metrics/prometheus/prometheus-registry';
import { LeaderLease } from './leader-lease';
import { Leadership } from './leadership.port';
import { SINGLETON_JOBS_LEASE, TypeOrmLeaseStore } from './lease-store';

/**
 * Runs the lease protocol (leader-lease.ts) every coordination.renewMs on an instance eligible to
 * lead (autoscaler.enabled), and answers Leadership for the jobs. Exposes pixpool_leader (1 on the
 * leader) and pixpool_leader_epoch on /metrics.
 */
@Injectable()
export class LeaderLeaseService
  implements Leadership, OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger('LeaderLease');
  readonly holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly lease: LeaderLease;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private wasLeader = false;

  constructor(
    private readonly config: AppConfig,
    dataSource: DataSource,
    @Inject(PROMETHEUS_REGISTRY) registry: Registry,
  ) {
    this.lease = new LeaderLease(new TypeOrmLeaseStore(dataSource), {
      name: SINGLETON_JOBS_LEASE,
      holder: this.holder,
      leaseMs: config.coordination.leaseMs,
      eligible: config.autoscaler.enabled,
      now: () => performance.now(),
    });
    // Collected on scrape: always this instance's view at that moment.
    const lease = this.lease;
    new Gauge({
      name: 'pixpool_leader',
      help: '1 while this instance holds the leader lease of the singleton jobs',
      registers: [registry],
      collect() {
        this.set(lease.isLeader() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'pixpool_leader_epoch',
      help: 'Lease epoch (fencing token) of the leader as this instance last saw it',
      registers: [registry],
      collect() {
        this.set(lease.epochSeen());
      },
    });
  }

  isLeader(): boolean {
    return this.lease.isLeader();
  }

  fencingToken(): number | null {
    return this.lease.fencingToken();
  }

  onApplicationBootstrap(): void {
    if (!this.config.autoscaler.enabled) {
      this.logger.log(
        'not eligible to lead (autoscaler.enabled: false): never runs singleton jobs',
      );
      return;
    }
    void this.loop();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.lease
      .release()
      .catch((err: Error) => this.logger.warn(`lease not released: ${err.message}`));
  }

  private async loop(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.lease.step();
    } catch (err) {
      this.logger.warn(`lease step failed: ${(err as Error).message}`);
    }
    this.report();
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.loop(), this.config.coordination.renewMs);
    this.timer.unref();
  }

  private report(): void {
    const leading = this.lease.isLeader();
    if (leading === this.wasLeader) return;
    this.wasLeader = leading;
    if (leading)
      this.logger.log(
        `leading the singleton jobs (lease epoch ${this.lease.fencingToken()}) as ${this.holder}`,
      );
    else this.logger.warn(`no longer leading the singleton jobs (${this.holder})`);
  }
}
