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
import { hourPrefix } from '../storage/object-name';
import { LEADERSHIP, Leadership } from './leadership.port';
import { PeriodicJob } from './periodic-job';

const HOUR_MS = 3_600_000;

/**
 * Deletes objects no row names once they are older than resilience.orphanGraceMs: those left by
 * an upload that crashed or timed out before its commit, and replaced objects whose delete was
 * lost. Why this never deletes an object a committed row names: see outbox.ts (I2). Runs on the
 * leader every orphanSweepIntervalMs; safe anywhere.
 *
 * Cost: object names start with their upload hour (object-name.ts), so a pass lists one prefix
 * per hour of resilience.orphanSweepLookbackHours, never the whole store: its LIST requests grow
 * with the upload rate, not with the store's size. Every object is listed by some pass once it is
 * past the grace, because the lookback exceeds interval + grace (checked at start) — as long as
 * no sweep is missed for longer than the lookback (all instances down for two days, say); then
 * those hours' orphans stay, costing storage only, never an image. So do objects named before
 * names carried their hour, and objects of a failed delete of a replaced or deleted image
 * older than the lookback (outbox.ts, step 3): the sweep no longer reaches them.
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
    const {
      orphanGraceMs,
      storageTimeoutMs,
      databaseTimeoutMs,
      orphanSweepIntervalMs,
      orphanSweepLookbackHours,
    } = config.resilience;
    const minimum = 2 * (storageTimeoutMs + databaseTimeoutMs);
    if (orphanGraceMs < minimum) {
      throw new Error(
        `resilience.orphanGraceMs (${orphanGraceMs}) must be at least twice ` +
          `storageTimeoutMs + databaseTimeoutMs (${minimum}): an upload in flight could lose its object`,
      );
    }
    if (orphanSweepLookbackHours * HOUR_MS <= orphanSweepIntervalMs + orphanGraceMs) {
      throw new Error(
        `resilience.orphanSweepLookbackHours (${orphanSweepLookbackHours}) must exceed ` +
          `orphanSweepIntervalMs + orphanGraceMs (${orphanSweepIntervalMs + orphanGraceMs} ms): ` +
          'an orphan could fall between two passes',
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
    const { orphanGraceMs, orphanSweepLookbackHours } = this.config.resilience;
    const cutoff = now.getTime() - orphanGraceMs;
    const newestHour = Math.floor(now.getTime() / HOUR_MS);
    let deleted = 0;
    // Up to the current hour: the store's clock (modifiedAt) decides age, not the name's hour.
    for (let hour = newestHour - orphanSweepLookbackHours; hour <= newestHour; hour++) {
      for await (const page of this.blobs.list(hourPrefix(new Date(hour * HOUR_MS)))) {
        const old = page.filter((o) => o.modifiedAt.getTime() < cutoff).map((o) => o.name);
        if (old.length === 0) continue;
        const named = await this.table.referencedObjectNames(old);
        for (const name of old) {
          if (named.has(name)) continue;
          await this.blobs.delete(name);
          deleted += 1;
        }
      }
    }
    return deleted;
  }
}
