import { Injectable, Logger } from '@nestjs/common';
import { StoredImage } from '../image/stored-image';
import { CacheNodeUnavailableError } from './client/cache-node.client';
import { NodeFailureService } from './membership/node-failure.service';
import { PoolRouter, RoutedNode } from './routing/pool-router.service';

/**
 * An invalidation's outcome at one node: told (or quarantined by us, which waited already), left
 * untold but fenced by an assignment every instance will adopt, or left untold unfenced.
 */
type Told = 'told' | 'adopt' | 'lease';

/** A storage read; `leader` is true for the one reader whose blob fetch the others shared. */
export type StorageLoad = { image: StoredImage | null; leader: boolean };
type Loader = (key: string) => Promise<StorageLoad>;

/**
 * The cache tier of the read path (look-aside). Storage stays the truth: any trouble with a node
 * (down, slow, not the owner any more) ends in a storage read, never in an error for a read that
 * storage can serve.
 *
 * Fills carry the lease the node handed out with the miss: an upload's invalidation voids it, so
 * a reader that loaded the old image before the upload committed cannot put it back afterwards.
 * There is deliberately no single-flight per key here: a reader that arrived after an upload was
 * acknowledged must not be handed the result of a load that began before it.
 */
@Injectable()
export class PoolCacheService {
  private readonly logger = new Logger(PoolCacheService.name);

  constructor(
    private readonly router: PoolRouter,
    private readonly failures: NodeFailureService,
  ) {}

  async read(key: string, load: Loader): Promise<StoredImage | null> {
    // Twice: a node that says "not owner" made us reload the assignment; the second try uses it.
    for (let attempt = 0; attempt < 2; attempt++) {
      const { region, node } = this.router.route(key);
      if (!node) break;
      const epoch = this.router.epoch;
      let answer;
      try {
        answer = await node.client.get(key, region, epoch);
      } catch (err) {
        this.nodeFailed(node, err);
        break;
      }
      this.router.observeEpoch(answer.epoch);
      if (answer.kind === 'hit') {
        return {
          key,
          body: answer.value,
          contentType: answer.contentType,
          version: answer.version,
          source: 'cache',
        };
      }
      if (answer.kind === 'not_owner') {
        await this.router.reload();
        continue;
      }
      // Concurrent misses share one blob fetch (see ReadPathService); only its leader fills, so
      // a key is filled once however many readers missed it.
      const { image, leader } = await load(key);
      if (image && leader) await settledWithin(this.fill(node, region, epoch, image, answer.lease));
      return image;
    }
    return (await load(key)).image;
  }

  /**
   * After an upload committed `version`: the owner drops its copy, voids outstanding leases and
   * refuses anything older from now on. If the owner cannot be told, it is quarantined before the
   * upload is acknowledged, so it can never serve the old image.
   *
   * A node that was not told must not be read by anyone, from the pool or near, once the upload
   * is acknowledged. Quarantined or left behind by a resize ('adopt'): this instance's assignment
   * does not read it, so the upload waits until every instance routes by that assignment, or, if
   * one did not confirm, until no instance can still serve under an older one: the longest lease
   * the nodes grant (NodeFailureService.everyInstanceRoutesBy). A region answering "not owner"
   * from its owner ('lease': a node that restarted owns nothing; mid-resize) is not fenced by any
   * assignment, so the upload waits the longest lease outright (waitOutLeases).
   */
  async invalidate(key: string, version: number, nearId?: string): Promise<void> {
    const told = await Promise.all([
      this.invalidateOwner(key, version, nearId),
      this.invalidatePreviousOwner(key, version, nearId),
    ]);
    if (told.includes('lease')) await this.failures.waitOutLeases();
    else if (told.includes('adopt')) await this.failures.everyInstanceRoutesBy();
  }

  /** Whether a node that may hold the key was left untold, and what fences it (see invalidate). */
  private async invalidateOwner(key: string, version: number, nearId?: string): Promise<Told> {
    // Every node applies an invalidation even when it answers "not owner", so a node that gives
    // up a region never ships the old copy; retrying reaches the owner of the new assignment. A
    // region between owners (mid-resize) may answer "not owner" from both: safe, see store.ts.
    for (let attempt = 0; attempt < 3; attempt++) {
      const { region, node } = this.router.owner(key);
      if (!node) {
        if (!(await this.ownerServesAfterAll(region))) return 'adopt';
        continue;
      }
      try {
        const answer = await node.client.invalidate(
          key,
          region,
          version,
          this.router.epoch,
          nearId,
        );
        this.router.observeEpoch(answer.epoch);
        if (answer.kind !== 'not_owner') return 'told';
        await this.router.reload();
      } catch (err) {
        if (!(err instanceof CacheNodeUnavailableError)) throw err;
        // Quarantined, no front-end reads it, and it rejoins empty: it can never serve the old copy.
        // quarantineNow waits until every instance routes by the quarantine.
        await this.failures.quarantineNow(node.id, `invalidation failed: ${err.message}`);
        return 'told';
      }
    }
    return 'lease'; // "not owner" three times: between owners, or the owner restarted
  }

  /**
   * The key's owner is quarantined in this instance's view (or it sees no pool). A quarantined
   * node need not hear of the upload (nobody reads it; it rejoins empty), but this view may be
   * behind the stored one, where it has rejoined (or the pool has nodes) and others fill and read
   * it. Read the stored assignment now, after the commit: true when it has an owner to tell.
   */
  private async ownerServesAfterAll(region: number): Promise<boolean> {
    await this.router.refresh();
    const owner = this.router.current?.owners[region];
    return owner !== undefined && !this.router.isQuarantined(owner);
  }

  /**
   * Right after a resize, instances that have not seen the new epoch still read the old owner
   * until it gives the region up: it must drop the old copy too. One that cannot be reached is
   * leaving the pool or already gone, but another instance may still reach and read it: false
   * then, and the upload waits until every instance routes by the new assignment.
   */
  private async invalidatePreviousOwner(
    key: string,
    version: number,
    nearId?: string,
  ): Promise<Told> {
    const { region } = this.router.route(key);
    const previous = this.router.previousOwner(region);
    if (!previous) return 'told';
    return previous.client.invalidate(key, region, version, this.router.epoch, nearId).then(
      () => 'told',
      () => 'adopt',
    );
  }

  /**
   * Every node drops everything; a quarantined one rejoins empty (the same care as invalidate).
   * `deletedBelow` (a data clear: every version below it was deleted) makes each node refuse
   * later writes below it, such as region-transfer frames still in flight (store.ts, rule 4).
   */
  async clear(deletedBelow?: number): Promise<void> {
    const quarantined = () =>
      new Set(this.router.nodes().flatMap((n) => (this.router.isQuarantined(n.id) ? [n.id] : [])));
    // One may have rejoined since this view was adopted.
    if (quarantined().size > 0) await this.router.refresh();
    const untold = quarantined();
    await Promise.all(
      this.router.nodes().map(async (node) => {
        if (untold.has(node.id)) return;
        try {
          await node.client.clear(deletedBelow);
        } catch (err) {
          if (!(err instanceof CacheNodeUnavailableError)) throw err;
          await this.failures.quarantineNow(node.id, `clear failed: ${err.message}`);
        }
      }),
    );
    if (untold.size > 0) await this.failures.everyInstanceRoutesBy();
  }

  private fill(
    node: RoutedNode,
    region: number,
    epoch: number,
    image: StoredImage,
    lease: string,
  ): Promise<void> {
    // Never rejects: the reader has its image; a refused or failed fill only costs a later miss.
    return node.client
      .put(
        image.key,
        region,
        image.body,
        { version: image.version, contentType: image.contentType, lease },
        epoch,
      )
      .then(
        () => undefined,
        (err: unknown) => this.nodeFailed(node, err),
      );
  }

  private nodeFailed(node: RoutedNode, err: unknown): void {
    if (!(err instanceof CacheNodeUnavailableError)) {
      this.logger.error(`unexpected answer from ${node.url}: ${(err as Error).message}`);
      return;
    }
    this.failures.suspect(node.id, err.message);
  }
}

/**
 * How long a miss waits for its fill before it answers. A healthy node stores a fill in about a
 * millisecond, so a read right after a miss hits (what a user expects of a cache, and what the
 * statistics of a freshly grown pool show); a slow or stalled node delays a miss by this much at
 * most, and its fill still lands (or fails) in the background.
 */
const FILL_WAIT_MS = 50;

function settledWithin(work: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, FILL_WAIT_MS)));
  return Promise.race([work, waited]).finally(() => clearTimeout(timer));
}
