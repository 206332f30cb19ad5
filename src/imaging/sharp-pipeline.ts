import sharp, { type Sharp } from 'sharp';
import { readSourceHeader, type SourceLimits } from './source-limits';
import type { OutputFormat } from './variant-params';
import type { VariantSpec } from './variant-spec';

export interface PipelineSettings extends SourceLimits {
  keepIcc: boolean;
  /** libvips stops a render after this (whole seconds, at least 1). */
  timeoutMs: number;
}

export interface RenderedVariant {
  body: Buffer;
  contentType: string;
}

// libvips caches operations for repeated work on one image; every transform here is a new image,
// so the cache would only hold memory.
sharp.cache(false);

/**
 * One variant from its source: the header checked against the limits first (no pixel decoded
 * for a bomb), then EXIF orientation applied, resized, encoded. sharp writes no metadata unless
 * asked, so EXIF (a phone photo's location), XMP and IPTC are dropped; the ICC profile is kept
 * only when configured. Animations render their first frame.
 */
export async function renderVariant(
  source: Buffer,
  sourceType: string,
  spec: VariantSpec,
  settings: PipelineSettings,
): Promise<RenderedVariant> {
  await readSourceHeader(source, settings);
  const format = spec.fmt === 'original' ? writableFormatOf(sourceType) : spec.fmt;
  let image = sharp(source, { limitInputPixels: settings.maxInputPixels, pages: 1 })
    .autoOrient()
    .resize({ width: spec.w, height: spec.h, fit: spec.fit, withoutEnlargement: true });
  if (settings.keepIcc) image = image.keepIccProfile();
  image = image.timeout({ seconds: Math.max(1, Math.ceil(settings.timeoutMs / 1000)) });
  const body = await encode(image, format, spec.q).toBuffer();
  return { body, contentType: `image/${format}` };
}

function encode(image: Sharp, format: OutputFormat, quality: number): Sharp {
  switch (format) {
    case 'jpeg':
      return image.jpeg({ quality, mozjpeg: true });
    case 'png':
      return image.png();
    case 'webp':
      return image.webp({ quality });
    case 'avif':
      // effort 2 of 0..9: about four times faster than the default 4 for a few percent in size.
      return image.avif({ quality, effort: 2 });
  }
}

/**
 * The source's format when sharp writes it and a browser shows it; GIF, BMP, TIFF and ICO become
 * PNG (lossless, keeps alpha), HEIC/HEIF (whose encoder is not in the prebuilt libvips) JPEG.
 */
export function writableFormatOf(sourceType: string): OutputFormat {
  switch (sourceType) {
    case 'image/jpeg':
    case 'image/heic':
    case 'image/heif':
      return 'jpeg';
    case 'image/webp':
      return 'webp';
    case 'image/avif':
      return 'avif';
    default:
      return 'png';
  }
}
