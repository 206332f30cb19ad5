import { UnsupportedMediaTypeException } from '@nestjs/common';
import { IMAGE_FORMATS, sniffImageFormat } from '../image/image-formats';

// Raster formats browsers display. SVG is left out on purpose: it is text that can carry script,
// and serving it back from our origin would be a stored-XSS hole.
const ACCEPTED = IMAGE_FORMATS.map((format) => format.name).join(', ');

/**
 * The MIME type of an image by its magic bytes (the client's Content-Type is not trusted). Its work
 * is bounded by the few hundred bytes it reads, whatever the file claims.
 */
export function detectImageType(body: Uint8Array): string {
  const format = sniffImageFormat(body);
  if (!format) {
    throw new UnsupportedMediaTypeException(
      `file is not a supported image (its first bytes match none of ${ACCEPTED})`,
    );
  }
  return format.mime;
}
