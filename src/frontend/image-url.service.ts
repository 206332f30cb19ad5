import { Injectable } from '@nestjs/common';
import { ImagingService } from '../imaging/imaging.service';
import type { StoredImage } from '../image/stored-image';
import { variantKey } from '../protocol/variant-key';
import { ImageService } from './image.service';

/** What `/images/:key?query` answers: the original, or a variant of it (README "Variants"). */
@Injectable()
export class ImageUrlService {
  constructor(
    private readonly images: ImageService,
    private readonly imaging: ImagingService,
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
    const original = await this.images.get(rawKey);
    if (!spec) return original;
    const key = variantKey(original.key, spec.id);
    const rendered = await this.imaging.render(
      `${key}@${original.version}`,
      original.body,
      original.contentType,
      spec,
    );
    return {
      key,
      body: rendered.body,
      contentType: rendered.contentType,
      version: original.version,
      source: 'storage',
    };
  }
}
