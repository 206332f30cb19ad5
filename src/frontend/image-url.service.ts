import { Injectable, NotFoundException } from '@nestjs/common';
import { IMMUTABLE, REVALIDATE } from '../image/image-response';
import { ImagingService } from '../imaging/imaging.service';
import type { VariantSpec } from '../imaging/variant-spec';
import type { NearEntry } from '../near-cache/near-store';
import type { StoredImage } from '../image/stored-image';
import { variantKey } from '../protocol/variant-key';
import { ImageService } from './image.service';
import { VariantCacheService } from './variant-cache.service';
import { AppConfig } from '../config/app-config';
import { validateKey } from '../common/image-key';

/**
 * How many distinct (query, Accept) pairs nearVariant remembers the variant of: a page asks for a
 * few presets in a few formats, so this holds every hot one; past it, it starts afresh.
 */
const RESOLVED_MAX = 1024;

/** An image and how long others may keep it. */
export interface ImageAnswer {
  image: StoredImage;
  cacheControl: string;
}

/**
 * What `/images/:key?query` answers: the original, or a variant of it (README "Variants"). With
 * `v=` it is immutable when v is the version just read, and 404 for any other v: such a URL names
 * one set of bytes for ever, so it may never answer others (not even through a redirect, which
 * would make an old URL show new bytes).
 */
@Injectable()
export class ImageUrlService {
  constructor(
    private readonly images: ImageService,
    private readonly imaging: ImagingService,
    private readonly cache: VariantCacheService,
    private readonly config: AppConfig,
  ) {}

  /**
   * Unversioned query + Accept → the variant id it resolves to (presets, signing keys and limits
   * are fixed for the process's life, so the same pair always resolves the same way). Only
   * queries that resolved are kept: refusals go the full way each time, to answer their error.
   */
  private readonly resolved = new Map<string, string>();

  /** `path` as received and `query` without its `?` (both still URL-encoded). */
  async read(
    rawKey: string,
    path: string,
    query: string,
    accept: string | undefined,
  ): Promise<ImageAnswer> {
    if (query === '') return { image: await this.images.get(rawKey), cacheControl: REVALIDATE };
    const parsed = this.imaging.parse(path, query);
    const spec = this.imaging.resolve(parsed, accept);
    const image = spec ? await this.readVariant(rawKey, spec) : await this.images.get(rawKey);
    if (parsed.version === undefined) return { image, cacheControl: REVALIDATE };
    if (parsed.version !== image.version) {
      throw new NotFoundException(
        `version ${parsed.version} of this image is not the current one (${image.version}); ` +
          'the URL without v, or /api/images/:key, names the current version',
      );
    }
    return { image, cacheControl: IMMUTABLE };
  }

  /**
   * The hot path of a variant: its near copy, found without a Promise, for an unversioned URL
   * (a versioned one needs its Cache-Control decided per request). Undefined otherwise, also for
   * a query that does not parse: read() answers that one with its error.
   */
  nearVariant(
    rawKey: string,
    path: string,
    query: string,
    accept: string | undefined,
  ): NearEntry | undefined {
    try {
      const asked = `${path}?${query}\n${accept ?? ''}`;
      let id = this.resolved.get(asked);
      if (id === undefined) {
        const parsed = this.imaging.parse(path, query);
        const spec = parsed.version === undefined ? this.imaging.resolve(parsed, accept) : null;
        if (!spec) return undefined;
        if (this.resolved.size >= RESOLVED_MAX) this.resolved.clear();
        this.resolved.set(asked, (id = spec.id));
      }
      const key = validateKey(rawKey, this.config.server.maxKeyLength);
      return this.cache.nearHit(variantKey(key, id));
    } catch {
      return undefined;
    }
  }

  private readVariant(rawKey: string, spec: VariantSpec): Promise<StoredImage> {
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
