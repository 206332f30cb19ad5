import type { ServerResponse } from 'node:http';
import { rawPieces, ResponseBudget } from '../common/response-budget';
import { variantIdOf } from '../protocol/variant-key';
import { IMAGE_TYPES } from './image-formats';
import { StoredImage } from './stored-image';

/** Keys are mutable: caches may keep the bytes but must ask again before using them. */
export const REVALIDATE = 'no-cache';
/** A URL with `?v=` of the current version names bytes that never change: keep them a year. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';

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
  cacheControl: string = REVALIDATE,
): void {
  const etag = imageEtag(image);
  const notModified = ifNoneMatch !== undefined && matchesEtag(ifNoneMatch, etag);
  if (notModified || headOnly) {
    writeImageHead(res, image, etag, cacheControl, notModified);
    res.end();
    return;
  }
  budget.send(res, image.key, image.body.length, rawPieces(image.body, budget.pieceBytes), () =>
    writeImageHead(res, image, etag, cacheControl, false),
  );
}

function writeImageHead(
  res: ServerResponse,
  image: StoredImage,
  etag: string,
  cacheControl: string,
  notModified: boolean,
): void {
  res.setHeader('Cache-Control', cacheControl);
  res.setHeader('ETag', etag);
  for (const [name, value] of variantHeaders(image)) res.setHeader(name, value);
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
 * The upload's version, and for a variant its identity too (`"v3-320x320-cover-webp-q80"`): a
 * variant's bytes change with either.
 */
export function imageEtag(image: Pick<StoredImage, 'key' | 'version'>): string {
  const variant = variantIdOf(image.key);
  return variant === undefined ? versionEtag(image.version) : `"v${image.version}-${variant}"`;
}

/**
 * A variant may be negotiated from Accept (fmt=auto): shared caches must key it by Accept too.
 * Sent on every variant, since one cached entry answers both fmt=auto and an explicit fmt.
 */
export function variantHeaders(image: Pick<StoredImage, 'key'>): ReadonlyArray<[string, string]> {
  return variantIdOf(image.key) === undefined ? [] : [['Vary', 'Accept']];
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
