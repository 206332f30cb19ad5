import { Injectable } from '@nestjs/common';
import { ImagingService } from '../imaging/imaging.service';
import type { StoredImage } from '../image/stored-image';
import { variantKey } from '../protocol/variant-key';
import { ImageService } from './image.service';
import { VariantCacheService } from './variant-cache.service';
import { AppConfig } from '../config/app-config';
import { validateKey } from '../common/image-key';

/** What `/images/:key?query` answers: the original, or a variant of it (README "Variants"). */
@Injectable()
export class ImageUrlService {
  constructor(
    private readonly images: ImageService,
    private readonly imaging: ImagingService,
    private readonly cache: VariantCacheService,
    private readonly config: AppConfig,
  ) {}

  /** `path` as received and `query` without its `?` (both still URL-encoded). */
  async read(
    rawKey: string,
    path: string,
    query: string,
    accept: string | undefined,
  ): Promise<StoredImage> {
    if (query === '') return this.images.get(rawKey);
    const spec = this.imaging.resolve(this.imaging.parse(path, query), accept);
    if (!spec) return this.images.get(rawKey);
    const key = validateKey(rawKey, this.config.server.maxKeyLength);
    const poolKey = variantKey(key, spec.id);
    return this.cache.read(poolKey, async () => {
      const original = await this.images.get(key);
      // One render per variant and version: whoever shares it read this same original.
      const rendered = await this.imaging.render(
        `${poolKey}@${original.version}`,
        original.body,
        original.contentType,
        spec,
      );
      return {
        key: poolKey,
        body: rendered.body,
        contentType: rendered.contentType,
        version: original.version,
        source: 'storage',
      };
    });
  }
}
