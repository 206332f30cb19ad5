import {
  IMAGE_SAFETY_HEADERS,
  imageEtag,
  servedContentType,
  variantHeaders,
} from '../image/image-response';
import type { StoredImage } from '../image/stored-image';
import { NEAR_ENTRY_OVERHEAD_BYTES, type NearEntry } from './near-store';

/**
 * A near copy with its answers prepared once: the same headers as sendImage
 * (src/image/image-response.ts) plus X-Near-Cache, so a near hit looks like a pool hit to the
 * client and costs no formatting per request. Keep the two in step.
 */
export function prepareEntry(image: StoredImage, region: number, generation: number): NearEntry {
  const etag = imageEtag(image);
  const common = [
    ...variantHeaders(image).flat(),
    'Cache-Control',
    'no-cache',
    'ETag',
    etag,
    'X-Cache',
    'HIT',
    'X-Near-Cache',
    'HIT',
  ];
  return {
    key: image.key,
    region,
    version: image.version,
    body: image.body,
    contentType: image.contentType,
    etag,
    headers: [
      ...common,
      'Content-Type',
      servedContentType(image.contentType),
      'Content-Length',
      String(image.body.length),
      ...IMAGE_SAFETY_HEADERS.flat(),
    ],
    notModifiedHeaders: common,
    generation,
    bytes:
      image.body.length +
      image.key.length * 2 +
      image.contentType.length +
      NEAR_ENTRY_OVERHEAD_BYTES,
    visited: false,
    newer: null,
    older: null,
  };
}
