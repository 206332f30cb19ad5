import { UnsupportedMediaTypeException } from '@nestjs/common';
import { fromBuffer } from 'file-type';

// Raster formats browsers display. SVG is left out on purpose: it is text that can carry script,
// and serving it back from our origin would be a stored-XSS hole.
const IMAGE_TYPES = new Set([
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/bmp',
  'image/tiff',
  'image/x-icon',
  'image/vnd.microsoft.icon',
  'image/heic',
  'image/heif',
]);

/** The MIME type of an image by its magic bytes (the client's Content-Type is not trusted). */
export async function detectImageType(body: Buffer): Promise<string> {
  const detected = await fromBuffer(body);
  if (!detected || !IMAGE_TYPES.has(detected.mime)) {
    throw new UnsupportedMediaTypeException(
      `file is not a supported image (${detected ? detected.mime : 'unknown type'}); ` +
        'send JPEG, PNG, GIF, WebP, AVIF, BMP, TIFF, ICO or HEIC',
    );
  }
  return detected.mime;
}
