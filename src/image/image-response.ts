import type { ServerResponse } from 'node:http';
import { rawPieces, ResponseBudget } from '../common/response-budget';
import { IMAGE_TYPES } from './image-formats';
import { StoredImage } from './stored-image';

/**
 * Writes an image answer: bytes with Content-Type and Content-Length, a strong ETag of the upload,
 * 304 when the client already has it. Shared by the fast path and the Nest route. The body goes
 * through the response budget (slow readers); throws ServiceBusyError, before any header is set,
 * when it has no room.
 */
export function sendImage(
  res: ServerResponse,
  image: StoredImage,
  ifNoneMatch: string | undefined,
  headOnly: boolean,
  budget: ResponseBudget,
): void {
  const notModified =
    ifNoneMatch !== undefined && matchesEtag(ifNoneMatch, versionEtag(image.version));
  if (notModified || headOnly) {
    writeImageHead(res, image, notModified);
    res.end();
    return;
  }
  budget.send(res, image.key, image.body.length, rawPieces(image.body, budget.pieceBytes), () =>
    writeImageHead(res, image, false),
  );
}

function writeImageHead(res: ServerResponse, image: StoredImage, notModified: boolean): void {
  const etag = versionEtag(image.version);
  // Keys are mutable: caches may keep the bytes but must ask again before using them.
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('ETag', etag);
  // Like a CDN's: lets operators and tests see whether the pool served the read.
  res.setHeader('X-Cache', image.source === 'cache' ? 'HIT' : 'MISS');
  if (notModified) {
    res.statusCode = 304;
    return;
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', servedContentType(image.contentType));
  res.setHeader('Content-Length', image.body.length);
  for (const [name, value] of IMAGE_SAFETY_HEADERS) res.setHeader(name, value);
}

/** The strong ETag of a key's version: what reads answer and the upload that committed it. */
export function versionEtag(version: number): string {
  return `"v${version}"`;
}

/**
 * Only the types an upload can have (the read path already refuses others from a node); a row
 * with anything else is served as opaque bytes.
 */
export function servedContentType(contentType: string): string {
  return IMAGE_TYPES.has(contentType) ? contentType : 'application/octet-stream';
}

/**
 * With nosniff and a sandbox CSP no stored bytes can run as a page on this origin, which also
 * serves /manager. Every image answer carries them (near hits too: src/near-cache/near-entry.ts).
 */
export const IMAGE_SAFETY_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['X-Content-Type-Options', 'nosniff'],
  ['Content-Security-Policy', "sandbox; default-src 'none'"],
];

function matchesEtag(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
