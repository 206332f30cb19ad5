import { Injectable, Logger } from '@nestjs/common';
import { StoredImage } from '../image/stored-image';
import { CacheNodeClient, CacheNodeUnavailableError } from './client/cache-node.client';
import { NodeFailureService } from './membership/node-failure.service';
import { PoolRouter, RoutedNode } from './routing/pool-router.service';

/**
 * Whether a node that may hold a key was told, and if not what fences it: 'adopt', the assignment
 * this instance routes by does not read it (quarantined, or left behind by a resize); 'lease', no
 * assignment fences it (a region answering "not owner" from its owner: a node that restarted owns
 * nothing, or mid-resize), so only the longest lease the nodes grant does.
 */
type Told = 'told' | 'adopt' | 'lease';

/** A storage read; `leader` is true for the one reader whose blob fetch the others shared. */
export type StorageLoad = { image: StoredImage | null; leader: boolean };
type Loader = (key: string) => Promise<StorageLoad>;
/** `nearSafe`: the owner node vouched for the image, so a near cache may keep it (readForNear). */
export type PoolRead = { image: StoredImage | null; nearSafe: boolean };
type KeyOp = (
  client: CacheNodeClient,
  region: number,
  epoch: number,
) => Promise<{ kind: string; epoch: number }>;

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
    return (await this.readForNear(key, load)).image;
  }

  /**
   * A read, and whether its image may enter a near cache: only what the owner node vouched for, a
   * hit or a miss that came with a fill lease. A pending key (an upload is about to commit it), a
   * node that could not be asked or no owner: the image is right for this read but may be older
   * than a commit a moment away, which no near copy may outlive (src/frontend/write-fence.ts).
   */
  async readForNear(key: string, load: Loader): Promise<PoolRead> {
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
        const { value: body, contentType, version } = answer;
        return { image: { key, body, contentType, version, source: 'cache' }, nearSafe: true };
      }
      if (answer.kind === 'not_owner') {
        await this.router.reload();
        continue;
      }
      // Concurrent misses share one blob fetch (see ReadPathService); only its leader fills, so
      // a key is filled once however many readers missed it.
      if (answer.kind === 'pending') return { image: (await load(key)).image, nearSafe: false };
      const { image, leader } = await load(key);
      if (image && leader) await settledWithin(this.fill(node, region, epoch, image, answer.lease));
      return { image, nearSafe: true };
    }
    return { image: (await load(key)).image, nearSafe: false };
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
    await this.tellOwners(key, 'invalidation', (client, region, epoch) =>
      client.invalidate(key, region, version, epoch, nearId),
    );
  }

  /**
   * Before an upload of `key` commits (src/frontend/write-fence.ts): the owner (and a previous
   * owner mid-resize) drops its copy and keeps the key pending under `mark`, and so do their
   * near-cache subscribers. A node that cannot be told is handled as by invalidate. Returns the
   * shortest grant, and whether a node was left untold (then the upload invalidates again after
   * its commit, as uploads did before: a quarantined node may rejoin and be refilled meanwhile).
   */
  async markPending(
    key: string,
    mark: { id: string; ms: number },
    nearId?: string,
  ): Promise<{ ms: number; untold: boolean }> {
    let ms = mark.ms;
    // A node quarantined here rejoins empty, but may rejoin before the commit and be refilled with
    // the old image: the upload counts it as untold.
    let quarantined = false;
    const op: KeyOp = async (client, region, epoch) => {
      const answer = await client.markPending(key, region, mark, epoch, nearId);
      if (answer.kind === 'marked') ms = Math.min(ms, answer.ms);
      return answer;
    };
    const untold = await this.tellOwners(key, 'pending mark', op, () => (quarantined = true));
    return { ms, untold: untold || quarantined };
  }

  /**
   * The upload committed `version` (or, undefined, gave up before committing): the owners may
   * store the key again. Best effort and not waited for by the upload: until it arrives the key
   * is only read from storage; a lost release ends with the mark's grant (pending-keys.ts).
   */
  async release(
    key: string,
    id: string,
    version: number | undefined,
    nearId?: string,
  ): Promise<boolean> {
    const { region, node } = this.router.owner(key);
    const previous = this.router.previousOwner(region);
    const results = await Promise.all(
      [node, previous].map((n) =>
        n
          ? n.client.release(key, region, id, version, nearId).then(
              (answer) => answer.kind === 'invalidated' || n === previous,
              () => false,
            )
          : true,
      ),
    );
    return !results.includes(false);
  }

  /** True when a node that may hold the key was left untold; then the caller waited (see above). */
  private async tellOwners(
    key: string,
    what: string,
    op: KeyOp,
    onQuarantine?: () => void,
  ): Promise<boolean> {
    const told = await Promise.all([
      this.tellOwner(key, what, op, onQuarantine),
      this.tellPreviousOwner(key, op),
    ]);
    if (told.includes('lease')) await this.failures.waitOutLeases();
    else if (told.includes('adopt')) await this.failures.everyInstanceRoutesBy();
    else return false;
    return true;
  }

  /** Whether a node that may hold the key was left untold, and what fences it (see invalidate). */
  private async tellOwner(
    key: string,
    what: string,
    op: KeyOp,
    onQuarantine?: () => void,
  ): Promise<Told> {
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
        const answer = await op(node.client, region, this.router.epoch);
        this.router.observeEpoch(answer.epoch);
        if (answer.kind !== 'not_owner') return 'told';
        await this.router.reload();
      } catch (err) {
        if (!(err instanceof CacheNodeUnavailableError)) throw err;
        // Quarantined, no front-end reads it, and it rejoins empty: it can never serve the old copy.
        // quarantineNow waits until every instance routes by the quarantine.
        await this.failures.quarantineNow(node.id, `${what} failed: ${err.message}`);
        onQuarantine?.();
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
  private async tellPreviousOwner(key: string, op: KeyOp): Promise<Told> {
    const { region } = this.router.route(key);
    const previous = this.router.previousOwner(region);
    if (!previous) return 'told';
    return op(previous.client, region, this.router.epoch).then(
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
    await this.clearEach((client) => client.clear(deletedBelow));
  }

  /**
   * delete_all before its commit: every node clears and keeps every key pending under `mark`, as
   * markPending does for one key (the same care for nodes that cannot be told).
   */
  async clearPending(mark: { id: string; ms: number }): Promise<{ ms: number; untold: boolean }> {
    let ms = mark.ms;
    const untold = await this.clearEach(async (client) => {
      const answer = await client.clearPending(mark);
      ms = Math.min(ms, answer.ms ?? 0);
    });
    return { ms, untold };
  }

  /** Ends clearPending's mark; best effort (it runs out by itself). */
  async releaseAll(id: string): Promise<void> {
    await Promise.all(this.router.nodes().map((n) => n.client.releaseAll(id).catch(() => null)));
  }

  /** True when a node was left untold (quarantined before); then this waited as invalidate does. */
  private async clearEach(op: (client: CacheNodeClient) => Promise<unknown>): Promise<boolean> {
    const quarantined = () =>
      new Set(this.router.nodes().flatMap((n) => (this.router.isQuarantined(n.id) ? [n.id] : [])));
    // One may have rejoined since this view was adopted.
    if (quarantined().size > 0) await this.router.refresh();
    const untold = quarantined();
    await Promise.all(
      this.router.nodes().map(async (node) => {
        if (untold.has(node.id)) return;
        try {
          await op(node.client);
        } catch (err) {
          if (!(err instanceof CacheNodeUnavailableError)) throw err;
          await this.failures.quarantineNow(node.id, `clear failed: ${err.message}`);
        }
      }),
    );
    if (untold.size > 0) await this.failures.everyInstanceRoutesBy();
    return untold.size > 0;
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
