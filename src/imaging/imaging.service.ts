import { Injectable, UnprocessableEntityException } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { parseImageQuery, type ImageQuery } from './image-query';
import { parsePresets } from './presets';
import { renderVariant, type PipelineSettings, type RenderedVariant } from './sharp-pipeline';
import { SourceRefused } from './source-limits';
import { UrlSigner } from './url-signature';
import type { VariantParams } from './variant-params';
import { resolveVariant, type VariantSpec } from './variant-spec';

/** Variants as the front-end needs them: what a URL asks for, and its bytes from a source. */
@Injectable()
export class ImagingService {
  readonly presets: ReadonlyMap<string, VariantParams>;
  readonly signer: UrlSigner;
  private readonly settings: PipelineSettings;

  constructor(private readonly config: AppConfig) {
    const imaging = config.imaging;
    this.presets = parsePresets(imaging.presets, imaging.maxDimension);
    this.signer = new UrlSigner(imaging.signingKeys === '' ? [] : imaging.signingKeys.split(','));
    this.settings = {
      maxInputPixels: imaging.maxInputPixels,
      maxFrames: imaging.maxFrames,
      keepIcc: imaging.keepIcc,
    };
  }

  /** Throws 400 for a malformed query. `path` as received, `query` without its `?`. */
  parse(path: string, query: string): ImageQuery {
    return parseImageQuery(path, query, { maxDimension: this.config.imaging.maxDimension });
  }

  /** The variant asked for, or null for the original; 400/403 for one that may not be made. */
  resolve(query: ImageQuery, accept: string | undefined): VariantSpec | null {
    return resolveVariant(query, {
      presets: this.presets,
      signer: this.signer,
      defaultQuality: this.config.imaging.defaultQuality,
      accept,
    });
  }

  /** 422 for a source beyond the limits (stored before they were lowered) or one that fails. */
  async render(source: Buffer, sourceType: string, spec: VariantSpec): Promise<RenderedVariant> {
    try {
      return await renderVariant(source, sourceType, spec, this.settings);
    } catch (err) {
      if (err instanceof SourceRefused) {
        throw new UnprocessableEntityException(
          `the stored image cannot be transformed: ${err.message}`,
        );
      }
      throw new UnprocessableEntityException(
        `the stored image cannot be transformed: ${(err as Error).message}`,
      );
    }
  }
}
