import { PayloadTooLargeException, UnsupportedMediaTypeException } from '@nestjs/common';
import { readSourceHeader, SourceRefused, type SourceLimits } from './source-limits';

/**
 * The sharp (libvips) format each sniffed type must decode as. BMP, ICO and HEIC are not here:
 * the prebuilt libvips reads none of them, so they keep the magic-byte check alone (and a
 * variant of one is answered 422).
 */
const DECODED_AS: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/avif': 'heif',
  'image/tiff': 'tiff',
};

/**
 * The second gate of an upload, after the cheap magic-byte table: the header must parse as the
 * format the magic named (415), and the image must stay within the pixel and frame limits (413),
 * so a decompression bomb is refused before it is stored. Reads the header only.
 */
export async function checkUploadHeader(
  body: Buffer,
  sniffedType: string,
  limits: SourceLimits,
): Promise<void> {
  const expected = DECODED_AS[sniffedType];
  if (expected === undefined) return;
  try {
    const header = await readSourceHeader(body, limits);
    if (header.format !== expected) {
      throw new UnsupportedMediaTypeException(
        `file starts like ${sniffedType} but its header decodes as ${header.format}`,
      );
    }
  } catch (err) {
    if (!(err instanceof SourceRefused)) throw err;
    if (err.problem === 'undecodable') {
      throw new UnsupportedMediaTypeException(
        `file starts like ${sniffedType} but is not a valid image: ${err.message}`,
      );
    }
    throw new PayloadTooLargeException(`image is too large to accept: ${err.message}`);
  }
}
