import { BadRequestException } from '@nestjs/common';

// Control characters (C0, DEL, C1) and the Unicode line/paragraph separators: they break logs,
// headers and terminals, and no client means them as part of a key.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

/**
 * Checks a client-supplied key and returns it unchanged. Keys are opaque strings (any printable
 * Unicode, including "/" when URL-encoded), 1..maxLength UTF-8 bytes; they are never used as
 * object names or paths.
 */
export function validateKey(key: unknown, maxLength: number): string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new BadRequestException('key is required');
  }
  if (Buffer.byteLength(key, 'utf8') > maxLength) {
    throw new BadRequestException(`key is longer than ${maxLength} bytes`);
  }
  if (FORBIDDEN.test(key)) {
    throw new BadRequestException('key must not contain control characters');
  }
  if (key.trim() !== key) {
    throw new BadRequestException('key must not start or end with white space');
  }
  return key;
}
