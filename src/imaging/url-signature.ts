import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed variant URLs (as imgproxy and the AWS image handler do it): sig = base64url of
 * HMAC-SHA256(key, path + "?" + query before "&sig="). Only the holder of a key can make the
 * server render an arbitrary size. Several keys verify, the first one signs: add the new key
 * first, re-sign, then drop the old one.
 */
export class UrlSigner {
  private readonly keys: Buffer[];

  constructor(keys: readonly string[]) {
    this.keys = keys.map((key) => Buffer.from(key, 'utf8'));
  }

  get enabled(): boolean {
    return this.keys.length > 0;
  }

  /** The signature of `signed` under the first key (tests, pages, the README's example). */
  sign(signed: string): string {
    if (!this.enabled) throw new Error('no signing key configured (imaging.signingKeys)');
    return signWith(this.keys[0], signed);
  }

  verify(signed: string, signature: string): boolean {
    const given = Buffer.from(signature, 'base64url');
    return this.keys.some((key) => {
      const expected = Buffer.from(signWith(key, signed), 'base64url');
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
  }
}

function signWith(key: Buffer, signed: string): string {
  return createHmac('sha256', key).update(signed, 'utf8').digest('base64url');
}
