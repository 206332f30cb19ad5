import { HttpException } from '@nestjs/common';
import { parseImageQuery } from '../../../src/imaging/image-query';
import { parsePresets } from '../../../src/imaging/presets';
import { UrlSigner } from '../../../src/imaging/url-signature';
import { negotiate, resolveVariant } from '../../../src/imaging/variant-spec';

const presets = parsePresets('thumb:w=320&h=320&fit=cover; card:w=640&fmt=webp', 4096);
const signer = new UrlSigner([
  'new-key-new-key-new-key-new-key-0',
  'old-key-old-key-old-key-old-key-0',
]);
const oldSigner = new UrlSigner(['old-key-old-key-old-key-old-key-0']);
const ctx = { presets, signer, defaultQuality: 80, accept: undefined };

function resolve(query: string, accept?: string) {
  return resolveVariant(parseImageQuery('/images/cat', query, { maxDimension: 4096 }), {
    ...ctx,
    accept,
  });
}

function statusOf(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    return (err as HttpException).getStatus();
  }
  return 200;
}

describe('resolveVariant', () => {
  it('serves the original for no parameters, a preset unsigned, and a preset with fmt', () => {
    expect(resolve('v=2')).toBeNull();
    expect(resolve('preset=thumb')).toMatchObject({
      w: 320,
      h: 320,
      fit: 'cover',
      fmt: 'original',
    });
    expect(resolve('preset=thumb&fmt=avif')?.id).toBe('320x320-cover-avif-q80');
    expect(resolve('preset=card')?.id).toBe('640x-inside-webp-q80');
  });

  it('refuses unknown presets (400) and presets with sizes of their own (400)', () => {
    expect(statusOf(() => resolve('preset=huge'))).toBe(400);
    expect(statusOf(() => resolve('preset=thumb&w=10'))).toBe(400);
  });

  it('needs a signature for any other size, by any of the keys (rotation)', () => {
    expect(statusOf(() => resolve('w=100'))).toBe(403);
    const signed = (s: UrlSigner, q: string) => `${q}&sig=${s.sign(`/images/cat?${q}`)}`;
    expect(resolve(signed(signer, 'w=100&fmt=png'))?.id).toBe('100x-inside-png-q80');
    expect(resolve(signed(oldSigner, 'w=100'))?.id).toBe('100x-inside-original-q80');
    expect(statusOf(() => resolve(signed(oldSigner, 'w=100').replace('w=100', 'w=101')))).toBe(403);
    const unsigned = new UrlSigner([]);
    expect(() =>
      resolveVariant(parseImageQuery('/images/cat', 'w=1', { maxDimension: 9 }), {
        ...ctx,
        signer: unsigned,
      }),
    ).toThrow('signing is off');
  });

  it('negotiates fmt=auto: AVIF, then WebP, then the original, into the identity', () => {
    expect(resolve('preset=thumb&fmt=auto', 'image/avif,image/webp,*/*')?.fmt).toBe('avif');
    expect(resolve('preset=thumb&fmt=auto', 'image/webp,*/*')?.id).toBe('320x320-cover-webp-q80');
    expect(negotiate('image/avif;q=0, image/webp')).toBe('webp');
    expect(negotiate(undefined)).toBe('original');
  });
});

describe('parsePresets', () => {
  it.each([
    ['thumb:w=0', 'preset "thumb": w must be an integer'],
    ['thumb:fit=cover', 'must set w or h'],
    ['a:w=1;a:w=2', 'defined twice'],
    ['Big:w=1', 'name must be'],
    ['p:w=1&v=2', 'may only set'],
  ])('refuses %s at start', (text, message) => {
    expect(() => parsePresets(text, 4096)).toThrow(message);
  });
});
