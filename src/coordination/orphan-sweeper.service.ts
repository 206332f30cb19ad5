import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { BLOB_STORE, BlobStore } from '../storage/blob-store';
import { IMAGE_TABLE, ImageTable } from '../database/image-table';
import { LEADERSHIP, Leadership } from './leadership.port';
import { PeriodicJob } from './periodic-job';

/**
 * Deletes objects no row names once they are older than resilience.orphanGraceMs: those left by
 * an upload that crashed or timed out before its commit, and replaced objects whose delete was
 * lost. Why this never deletes an object a committed row names: see outbox.ts (I2). Runs on the
 * leader every orphanSweepIntervalMs; safe anywhere.
 */
@Injectable()
export class OrphanSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OrphanSweeper.name);
  private readonly job: PeriodicJob;

  constructor(
    private readonly config: AppConfig,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    @Inject(IMAGE_TABLE) private readonly table: ImageTable,
    @Optional() @Inject(LEADERSHIP) private readonly leadership?: Leadership,
  ) {
    const { orphanGraceMs, storageTimeoutMs, databaseTimeoutMs, orphanSweepIntervalMs } =
      config.resilience;
    const minimum = 2 * (storageTimeoutMs + databaseTimeoutMs);
    if (orphanGraceMs < minimum) {
      throw new Error(
        `resilience.orphanGraceMs (${orphanGraceMs}) must be at least twice ` +
          `storageTimeoutMs + databaseTimeoutMs (${minimum}): an upload in flight could lose its object`,
      );
    }
    this.job = new PeriodicJob(
      'orphan sweep',
      orphanSweepIntervalMs,
      () => this.run(),
      this.logger,
    );
  }

  onApplicationBootstrap(): void {
    this.job.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.job.stop();
  }

  private async run(): Promise<void> {
    if (!(this.leadership?.isLeader() ?? true)) return;
    const deleted = await this.sweep();
    if (deleted > 0) this.logger.log(`deleted ${deleted} orphan object(s)`);
  }

  /** One pass; returns how many objects were deleted. */
  async sweep(now: Date = new Date()): Promise<number> {
    const cutoff = now.getTime() - this.config.resilience.orphanGraceMs;
    let deleted = 0;
    for await (const page of this.blobs.list()) {
      const old = page.filter((o) => o.modifiedAt.getTime() < cutoff).map((o) => o.name);
      if (old.length === 0) continue;
      const named = await this.table.referencedObjectNames(old);
      for (const name of old) {
        if (named.has(name)) continue;
        await this.blobs.delete(name);
        deleted += 1;
      }
    }
    return deleted;
  }
}
