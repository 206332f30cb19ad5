/**
 * How a variant is named in the pool and the near cache: its original's key, a NUL, its identity
 * (e.g. `cat\u0000320x320-cover-webp-q80`). Keys never contain NUL (src/common/image-key.ts refuses
 * control characters), so no key is mistaken for a variant. The region of a variant is its
 * original's (hash-ring.ts hashes only the part before the NUL): a variant lives on its original's
 * node, moves with it on a resize, and is invalidated with it in the same step.
 */
export const VARIANT_SEPARATOR = '\u0000';

export function variantKey(key: string, variantId: string): string {
  return `${key}${VARIANT_SEPARATOR}${variantId}`;
}

/** The original's key of a pool key (itself for an original). */
export function originalKeyOf(poolKey: string): string {
  const at = poolKey.indexOf(VARIANT_SEPARATOR);
  return at === -1 ? poolKey : poolKey.slice(0, at);
}

/** The variant's identity, or undefined for an original. */
export function variantIdOf(poolKey: string): string | undefined {
  const at = poolKey.indexOf(VARIANT_SEPARATOR);
  return at === -1 ? undefined : poolKey.slice(at + 1);
}
