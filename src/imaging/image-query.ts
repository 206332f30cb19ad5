import { BadRequestException } from '@nestjs/common';
import {
  FITS,
  FORMATS,
  type Fit,
  type RequestedFormat,
  type VariantParams,
} from './variant-params';

/**
 * The query of `/images/:key`, parsed strictly once it names any parameter of ours: every
 * parameter known, none twice, every value in range. A typo next to a variant parameter must not
 * silently serve the original (or, worse, another size), and nothing here may throw anything but
 * a 400. A query with none of ours (a cache buster such as `?t=123`) asks for the original, as it
 * did before variants existed.
 */
export interface ImageQuery {
  params: VariantParams;
  preset?: string;
  /** `v`: the version the client built the URL for (CDN URLs, README "Variants"). */
  version?: number;
  /** `sig`, and what it signs: the path and the query before `&sig=`. */
  signature?: string;
  signed: string;
}

export interface QueryLimits {
  maxDimension: number;
}

const NAMES = new Set(['w', 'h', 'fit', 'fmt', 'q', 'preset', 'v', 'sig']);
const DIGITS = /^[0-9]{1,16}$/;
const PRESET_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;

export class ImageQueryError extends BadRequestException {}

/** `path` as received (still URL-encoded); `query` without its `?`. */
export function parseImageQuery(path: string, query: string, limits: QueryLimits): ImageQuery {
  const out: ImageQuery = { params: {}, signed: path };
  const seen = new Set<string>();
  const parts = query === '' ? [] : query.split('&');
  if (!parts.some((part) => NAMES.has(nameOf(part)))) return out;
  parts.forEach((part, index) => {
    const eq = part.indexOf('=');
    const name = nameOf(part);
    if (!NAMES.has(name)) {
      throw new ImageQueryError(
        `unknown image parameter ${JSON.stringify(name.slice(0, 32))}; known: ${[...NAMES].join(', ')}`,
      );
    }
    if (seen.has(name)) throw new ImageQueryError(`parameter ${name} is given twice`);
    seen.add(name);
    const value = decode(name, eq === -1 ? '' : part.slice(eq + 1));
    if (name === 'sig') {
      if (index !== parts.length - 1) throw new ImageQueryError('sig must be the last parameter');
      if (!SIGNATURE.test(value)) {
        throw new ImageQueryError('sig must be base64url of an HMAC-SHA256 (43 characters)');
      }
      out.signature = value;
      out.signed = index === 0 ? path : `${path}?${parts.slice(0, index).join('&')}`;
      return;
    }
    assign(out, name, value, limits);
  });
  if (out.signature === undefined && parts.length > 0) out.signed = `${path}?${query}`;
  return out;
}

function assign(out: ImageQuery, name: string, value: string, limits: QueryLimits): void {
  switch (name) {
    case 'w':
    case 'h':
      out.params[name] = integer(name, value, 1, limits.maxDimension);
      return;
    case 'q':
      out.params.q = integer(name, value, 1, 100);
      return;
    case 'v':
      out.version = integer(name, value, 0, Number.MAX_SAFE_INTEGER);
      return;
    case 'fit':
      out.params.fit = oneOf<Fit>(name, value, FITS);
      return;
    case 'fmt':
      out.params.fmt = oneOf<RequestedFormat>(name, value, FORMATS);
      return;
    case 'preset':
      if (!PRESET_NAME.test(value)) {
        throw new ImageQueryError('preset must be a name of lower-case letters, digits, - and _');
      }
      out.preset = value;
  }
}

function nameOf(part: string): string {
  const eq = part.indexOf('=');
  return eq === -1 ? part : part.slice(0, eq);
}

function decode(name: string, raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new ImageQueryError(`parameter ${name} has a malformed %-escape`);
  }
}

function integer(name: string, value: string, min: number, max: number): number {
  const n = DIGITS.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ImageQueryError(`${name} must be an integer ${min}..${max}`);
  }
  return n;
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ImageQueryError(`${name} must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}
