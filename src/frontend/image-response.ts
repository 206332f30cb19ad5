import type { ServerResponse } from 'node:http';
import { IMAGE_TYPES } from './image-formats';
import { StoredImage } from './stored-image';

/**
 * Writes an image answer: bytes with Content-Type and Content-Length, a strong ETag of the upload,
 * 304 when the client already has it. Shared by the fast path and the Nest route.
 */
export function sendImage(
  res: ServerResponse,
  image: StoredImage,
  ifNoneMatch: string | undefined,
  headOnly: boolean,
): void {
  const etag = `"v${image.version}"`;
  // Keys are mutable: caches may keep the bytes but must ask again before using them.
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('ETag', etag);
  // Like a CDN's: lets operators and tests see whether the pool served the read.
  res.setHeader('X-Cache', image.source === 'cache' ? 'HIT' : 'MISS');
  if (ifNoneMatch && matchesEtag(ifNoneMatch, etag)) {
    res.statusCode = 304;
    res.end();
    return;
  }
  res.statusCode = 200;
  // Only the types an upload can have (the read path already refuses others from a node); a row
  // with anything else is served as opaque bytes. With nosniff and a sandbox CSP no stored bytes
  // can run as a page on this origin, which also serves /manager.
  res.setHeader(
    'Content-Type',
    IMAGE_TYPES.has(image.contentType) ? image.contentType : 'application/octet-stream',
  );
  res.setHeader('Content-Length', image.body.length);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Security-Policy', "sandbox; default-src 'none'");
  res.end(headOnly ? undefined : image.body);
}

function matchesEtag(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
