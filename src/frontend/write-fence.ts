/*
 * Invalidate before commit: the upload path's half of linearizable reads (the node's half, with
 * the proof of each linearization point: src/cache-node/pending-keys.ts).
 *
 * Invariant (DESIGN.md, Consistency rules): once any read has returned version v of a key, no
 * read anywhere (node, near cache, storage) returns an older one.
 *
 * Steps of an upload of (key, v) (ImageService.upload; delete_all does the same for every key):
 * 1. open: the key becomes pending under a fresh mark id: in this front-end's near cache first
 *    (no copy, no admission), then at its owner node and a previous owner mid-resize, which drop
 *    their copies, refuse fills and answer reads with a miss without lease, and push the mark to
 *    every near cache subscribed to the region, answering once each acknowledged or its lease ran
 *    out. A node that cannot be reached is quarantined and the upload waits until every instance
 *    routes around it, as an untold owner always was (PoolCacheService.markPending).
 * 2. commit the row (v) with its outbox record, within the mark's grant (counted from when we sent
 *    it, so it ends before the node's).
 * 3. close: release the mark with v, not waited for (and sent with the releases that queued at
 *    that node meanwhile: src/pool/client/release-queue.ts). Until it arrives the key is read from
 *    storage only, which is linearizable; once it arrives, fills read the database after the
 *    commit and the node's tombstone of v refuses anything older. The outbox record is acked when
 *    the release was delivered.
 * Waits on the upload path: one to the nodes (step 1), as before when it followed the commit.
 *
 * Linearization points: a write at its commit; a storage read at its row read; a node hit, or a
 * near hit of a copy the node vouched for, at the moment it is answered (pending-keys.ts shows
 * such a copy is the latest commit then). A near cache admits only what the owner vouched for (a
 * hit or a miss with a fill lease) under a ticket no mark or invalidation has moved since, and
 * nothing of a key it holds a mark for: so a near copy of v exists at t only if the node could
 * serve v at t. Every read returns the latest commit at a point inside it: linearizable.
 *
 * What a crash or failure at each step leaves:
 * - after 1, before 2: marks run out (pendingMs); nothing changed. A commit that failed for sure
 *   releases at once; one whose outcome is unknown (database stall) keeps its marks to expiry.
 * - after 2: the release is lost; marks run out, and since the commit came first every read after
 *   is v or newer. The outbox replays an invalidation of v (the tombstone).
 * - a commit whose outcome was unknown (503) and that lands only after its marks ran out (a
 *   database stall beyond pendingMs, which is at least twice the database deadline): until the
 *   outbox replays its invalidation a cache may serve the older image beside storage's newer one.
 *   This is the one window left; the upload was not acknowledged.
 * - a commit that ends past the grant, a node left untold in step 1 (it may rejoin and be refilled
 *   before the commit), or an assignment that moved between 1 and 3: close invalidates again, as
 *   uploads did before (after the commit, waited for), so the upload is never acknowledged while a
 *   cache may serve older; linearizability in that rare window rests on the pending marks the
 *   moved regions carry (transfer-stream.ts) and on quarantine.
 */
import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { NearCacheService } from '../near-cache/near-cache.service';
import { PoolCacheService } from '../pool/pool-cache.service';
import { PoolState } from '../pool/routing/pool-state';
import { ReadPathService } from './read-path.service';

/** An open fence: the mark of one upload (key) or one delete_all (key undefined). */
export interface Fence {
  readonly key: string | undefined;
  readonly id: string;
  /** performance.now() by which the commit must have landed. */
  deadline: number;
  untold: boolean;
  readonly before: PoolState | null;
}

@Injectable()
export class WriteFence {
  private readonly logger = new Logger(WriteFence.name);

  constructor(
    private readonly config: AppConfig,
    private readonly pool: PoolCacheService,
    private readonly near: NearCacheService,
    private readonly readPath: ReadPathService,
  ) {}

  /** Step 1: on return the key is pending everywhere for long enough to commit. */
  async open(key: string | undefined): Promise<Fence> {
    const fence: Fence = {
      key,
      id: randomBytes(8).toString('hex'),
      deadline: 0,
      untold: false,
      before: this.near.stateBefore(),
    };
    // A mark slowed by a cut-off subscriber may leave too little for the object's write and the
    // commit (ImageService.upload): mark again.
    const { storageTimeoutMs, databaseTimeoutMs } = this.config.resilience;
    for (let attempt = 0; attempt < 3; attempt++) {
      await this.mark(fence);
      if (this.remainingMs(fence) >= storageTimeoutMs + databaseTimeoutMs) break;
    }
    // The assignment changed under the mark (an owner removed untold): one lease more, as before.
    await this.near.afterInvalidation(fence.before);
    return fence;
  }

  /** The commit failed for sure: nothing changed, nobody need wait for the marks to run out. */
  abandon(fence: Fence): void {
    this.near.releaseLocal(fence.key, fence.id);
    void this.releaseNodes(fence, undefined);
  }

  /**
   * Step 3, after the commit of `version` (for delete_all, the version of its table delete: every
   * row it deleted was below it). Resolves when the upload may be acknowledged; `released` runs
   * once the nodes have the release (the outbox ack). A delete_all always clears again, with its
   * version: the release ends the marks, and a region-transfer frame still in flight, written
   * before the delete, must be refused after it too (store.ts, rule 4).
   */
  async close(fence: Fence, version: number | undefined, released: () => void): Promise<void> {
    const late = this.remainingMs(fence) < 0;
    if (late) this.logger.error(`commit of ${fence.key ?? 'delete_all'} landed after its mark`);
    const moved = this.near.stateBefore() !== fence.before;
    if (fence.key === undefined || late || moved || fence.untold)
      await this.invalidateAgain(fence, version);
    this.near.releaseLocal(fence.key, fence.id);
    void this.releaseNodes(fence, version).then((ok) => ok && released());
  }

  private async mark(fence: Fence): Promise<void> {
    const ms = this.config.pool.pendingMs;
    const sentAt = performance.now();
    this.near.markLocal(fence.key, fence.id, ms);
    try {
      const marked =
        fence.key === undefined
          ? await this.pool.clearPending({ id: fence.id, ms })
          : await this.pool.markPending(fence.key, { id: fence.id, ms }, this.near.id);
      fence.deadline = sentAt + marked.ms;
      fence.untold ||= marked.untold;
    } finally {
      // The nodes leave us out of the push of our own mark: a read of ours that reached the node
      // before the mark may offer what it read until now; it goes here (see near-cache.service).
      if (fence.key === undefined) this.near.clearLocal();
      else this.near.dropLocal(fence.key);
    }
  }

  /** The invalidation uploads made after their commit before this fence, waited for. */
  private async invalidateAgain(fence: Fence, version: number | undefined): Promise<void> {
    if (fence.key === undefined) await this.readPath.clearCache(version);
    else await this.readPath.invalidate(fence.key, version!);
  }

  private async releaseNodes(fence: Fence, version: number | undefined): Promise<boolean> {
    try {
      if (fence.key !== undefined)
        return await this.pool.release(fence.key, fence.id, version, this.near.id);
      await this.pool.releaseAll(fence.id);
      return true;
    } catch (err) {
      this.logger.warn(`release of ${fence.key ?? 'delete_all'}: ${(err as Error).message}`);
      return false;
    }
  }

  private remainingMs(fence: Fence): number {
    return fence.deadline - performance.now();
  }
}
