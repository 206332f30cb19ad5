import { createHash } from 'node:crypto';
import { originalKeyOf } from './variant-key';

/**
 * The key space is cut into 16 fixed regions (the course's rule, kept from group15) so that a
 * pool resize moves whole regions between nodes instead of rehashing every key.
 */
export const REGION_COUNT = 16;

/** Region numbers 0..15, for code that walks every region. */
export const REGIONS: readonly number[] = Array.from({ length: REGION_COUNT }, (_, i) => i);

/**
 * Region of a key: the first hex digit of md5 over the key's UTF-8 bytes ("test" → 0,
 * "test123" → 12, "k1" → 11, "k2" → 6). The high nibble of the first digest byte is that
 * digit, which spares building the hex string on every request. A variant's region is its
 * original's (variant-key.ts).
 */
export function partition(key: string): number {
  return createHash('md5').update(originalKeyOf(key), 'utf8').digest()[0] >> 4;
}
