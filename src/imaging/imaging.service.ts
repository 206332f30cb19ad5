import { Injectable, UnprocessableEntityException } from '@nestjs/common';
import { availableParallelism } from 'node:os';
import { ServiceBusyError } from '../common/service-busy.error';
import { AppConfig } from '../config/app-config';
import { parseImageQuery, type ImageQuery } from './image-query';
import { parsePresets } from './presets';
import { renderVariant, type PipelineSettings, type RenderedVariant } from './sharp-pipeline';
import { SourceRefused } from './source-limits';
import { TransformMetrics } from './transform-metrics';
import { TransformQueue } from './transform-queue';
import { UrlSigner } from './url-signature';
import type { VariantParams } from './variant-params';
import { resolveVariant, type VariantSpec } from './variant-spec';

/** Variants as the front-end needs them: what a URL asks for, and its bytes from a source. */
@Injectable()
export class ImagingService {
  readonly presets: ReadonlyMap<string, VariantParams>;
  readonly signer: UrlSigner;
  private readonly settings: PipelineSettings;
  private readonly queue: TransformQueue;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: TransformMetrics,
  ) {
    const imaging = config.imaging;
    this.presets = parsePresets(imaging.presets, imaging.maxDimension);
    this.signer = new UrlSigner(imaging.signingKeys === '' ? [] : imaging.signingKeys.split(','));
    this.settings = {
      maxInputPixels: imaging.maxInputPixels,
      maxFrames: imaging.maxFrames,
      keepIcc: imaging.keepIcc,
      timeoutMs: imaging.timeoutMs,
    };
    this.queue = new TransformQueue(
      {
        concurrency: imaging.concurrency === 0 ? availableParallelism() : imaging.concurrency,
        queueLimit: imaging.queueLimit,
        timeoutMs: imaging.timeoutMs,
        retryAfterSeconds: config.resilience.retryAfterSeconds,
      },
      metrics,
    );
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

  /**
   * Renders under the transform limits, once for all concurrent callers of one `identity` (name
   * the variant and its original's version: callers that share it share the bytes). 503 when
   * there is no room or no time; 422 for a source beyond the limits (stored before they were
   * lowered) or one libvips cannot decode.
   */
  render(
    identity: string,
    source: Buffer,
    sourceType: string,
    spec: VariantSpec,
  ): Promise<RenderedVariant> {
    return this.queue.run(identity, async () => {
      try {
        return await renderVariant(source, sourceType, spec, this.settings);
      } catch (err) {
        // libvips' own deadline (pipeline): the same answer as a render that waited too long.
        if (!(err instanceof SourceRefused) && /^timeout/.test((err as Error).message)) {
          this.metrics.refused('deadline');
          throw new ServiceBusyError(
            `the variant was not rendered within ${this.settings.timeoutMs} ms; retry later`,
            this.config.resilience.retryAfterSeconds,
          );
        }
        this.metrics.refused('source');
        throw new UnprocessableEntityException(
          `the stored image cannot be transformed: ${(err as Error).message}`,
        );
      }
    });
  }
}
