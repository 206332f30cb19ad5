import { BadRequestException } from '@nestjs/common';

// Control characters (C0, DEL, C1) and the Unicode line/paragraph separators: they break logs,
// headers and terminals, and no client means them as part of a key.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;
// Format characters (Unicode category Cf: bidirectional overrides and isolates, zero-width space
// and joiners, the BOM, soft hyphen...) make two keys look alike or a key read backwards in a
// listing; lone surrogates are not text at all.
const INVISIBLE = /[\p{Cf}\p{Cs}]/u;

/**
 * Characters of the key column (varchar(255), migrations/): server.maxKeyLength counts UTF-8 bytes,
 * so any limit up to this fits, and a larger one is refused at start.
 */
export const KEY_COLUMN_LENGTH = 255;

/**
 * Checks a client-supplied key and returns it in Unicode NFC, so "é" typed precomposed or as
 * e + combining accent is one key. Keys are opaque strings (any printable Unicode, including "/"
 * when URL-encoded), 1..maxLength UTF-8 bytes; they are never used as object names or paths.
 */
export function validateKey(rawKey: unknown, maxLength: number): string {
  if (typeof rawKey !== 'string' || rawKey.length === 0) {
    throw new BadRequestException('key is required');
  }
  if (INVISIBLE.test(rawKey)) {
    throw new BadRequestException(
      'key must not contain invisible format characters (bidirectional controls, zero-width ' +
        'characters, BOM) or unpaired surrogates',
    );
  }
  const key = rawKey.normalize('NFC');
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
