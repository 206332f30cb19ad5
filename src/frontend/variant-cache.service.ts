import { Injectable } from '@nestjs/common';
import { IMAGE_TYPES } from '../image/image-formats';
import type { StoredImage } from '../image/stored-image';
import { NearCacheService } from '../near-cache/near-cache.service';
import type { NearEntry } from '../near-cache/near-store';
import { PoolCacheService } from '../pool/pool-cache.service';

/**
 * Variants cached like originals: the near cache, then the owner node, under the variant's pool
 * key (src/protocol/variant-key.ts), which lives in its original's region. On a miss the node's
 * lease is issued *before* `render` reads the original, so the argument of ReadPathService.read
 * holds as it is: an upload of the original that the node sees after the lease voids it (the
 * node drops the original's variants and their leases in the same step), and one acknowledged
 * before it is in the original that `render` reads. The near ticket is taken first for the same
 * reason (the original's invalidation moves the region's count).
 */
@Injectable()
export class VariantCacheService {
  constructor(
    private readonly pool: PoolCacheService,
    private readonly near: NearCacheService,
  ) {}

  /** A near copy of the variant that may be served now (counted as a hit), or undefined. */
  nearHit(poolKey: string): NearEntry | undefined {
    return this.near.lookup(poolKey);
  }

  async read(poolKey: string, render: () => Promise<StoredImage>): Promise<StoredImage> {
    const near = this.near.lookup(poolKey);
    if (near) {
      const { body, contentType, version } = near;
      return { key: poolKey, body, contentType, version, source: 'cache' };
    }
    const ticket = this.near.ticket(poolKey);
    const read = await this.pool.readForNear(poolKey, async () => ({
      image: await render(),
      leader: true,
    }));
    // Only what an upload or a render can produce is served; anything else is rendered anew.
    const { image } = read;
    if (!image || (image.source === 'cache' && !IMAGE_TYPES.has(image.contentType))) {
      return render();
    }
    // Only what the owner vouched for, as for originals (near-cache.service.ts, F): a render of an
    // original whose upload was pending may predate a commit whose release moves no ticket here.
    if (ticket && read.nearSafe) this.near.offer(ticket, image);
    return image;
  }
}
