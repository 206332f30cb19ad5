import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { PoolCacheService } from '../pool/pool-cache.service';
import { LEADERSHIP, Leadership } from './leadership.port';
import { OutboxStore, PendingInvalidation } from './outbox.store';
import { PeriodicJob } from './periodic-job';

/**
 * Delivers the invalidations of the outbox (design: outbox.ts). Uploads ack their own record once
 * they have invalidated; this replays the ones a crashed or timed-out writer left: all of them at
 * start, before the app listens (any instance: replay is idempotent), and, on the leader, those
 * older than resilience.outboxGraceMs every outboxSweepIntervalMs.
 */
@Injectable()
export class OutboxService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxService.name);
  private readonly job: PeriodicJob;

  constructor(
    private readonly config: AppConfig,
    private readonly store: OutboxStore,
    private readonly pool: PoolCacheService,
    @Optional() @Inject(LEADERSHIP) private readonly leadership?: Leadership,
  ) {
    this.job = new PeriodicJob(
      'outbox sweep',
      config.resilience.outboxSweepIntervalMs,
      async () => void (await this.sweep()),
      this.logger,
    );
  }

  /** Runs after the pool's own bootstrap (this module imports the pool): nodes are routed. */
  async onApplicationBootstrap(): Promise<void> {
    const replayed = await this.replay();
    if (replayed > 0) this.logger.log(`replayed ${replayed} pending invalidation(s) at start`);
    this.job.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.job.stop();
  }

  /** The upload's own ack; a failure only leaves the record for the sweeper (idempotent). */
  async ack(id: number): Promise<void> {
    try {
      await this.store.ack([id]);
    } catch (err) {
      this.logger.warn(`outbox record ${id} left for the sweeper: ${(err as Error).message}`);
    }
  }

  /** The leader's periodic pass over records whose writer is gone (or very slow). */
  async sweep(): Promise<number> {
    if (!(this.leadership?.isLeader() ?? true)) return 0;
    const before = new Date(Date.now() - this.config.resilience.outboxGraceMs);
    const replayed = await this.replay(before);
    if (replayed > 0) this.logger.log(`replayed ${replayed} pending invalidation(s)`);
    return replayed;
  }

  /** Delivers and acks pending records (created before `before`, if given); returns how many. */
  async replay(before?: Date): Promise<number> {
    let total = 0;
    for (;;) {
      const batch = await this.store.pending(before);
      if (batch.length === 0) return total;
      for (const [key, records] of byKey(batch)) {
        // The highest version covers the lower ones: a node refuses anything older from then on.
        const version = Math.max(...records.map((r) => r.version));
        await this.pool.invalidate(key, version);
        await this.store.ack(records.map((r) => r.id));
        total += records.length;
      }
    }
  }
}

function byKey(records: PendingInvalidation[]): Map<string, PendingInvalidation[]> {
  const groups = new Map<string, PendingInvalidation[]>();
  for (const r of records) groups.set(r.key, [...(groups.get(r.key) ?? []), r]);
  return groups;
}
