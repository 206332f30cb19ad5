import { UnsupportedMediaTypeException } from '@nestjs/common';
import fc from 'fast-check';
import { IMAGE_TYPES, SNIFF_BYTES } from '../../../src/image/image-formats';
import { detectImageType } from '../../../src/frontend/image-type';
import {
  ACCEPTED_FORMATS,
  asfHang,
  imageHeader,
  knownSignatures,
} from '../../support/image-headers';
import { makePng } from '../../support/images';
import { oracleImageType } from '../../support/image-type-oracle';

/** A verdict, never a throw of anything but the 415, and (by Jest's timeout) never a loop. */
function verdict(file: Uint8Array): string | undefined {
  try {
    return detectImageType(file);
  } catch (err) {
    if (err instanceof UnsupportedMediaTypeException) return undefined;
    throw err;
  }
}

describe('image type detection', () => {
  it.each(Object.entries(ACCEPTED_FORMATS))('knows a %s header as %s', (name, mime) => {
    expect(verdict(imageHeader(name))).toBe(mime);
  });

  it('knows a whole generated PNG', () => {
    expect(verdict(makePng(4000))).toBe('image/png');
  });

  it('refuses the 80-byte ASF file that hung file-type 16, at once', () => {
    const started = process.hrtime.bigint();
    expect(() => detectImageType(asfHang())).toThrow(UnsupportedMediaTypeException);
    expect(() => detectImageType(asfHang())).toThrow(/match none of JPEG, PNG, GIF/);
    // A generous bound, not a benchmark: the point is that it returns at all.
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1000);
  });

  it.each([
    ['SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>')],
    ['HTML', Buffer.from('<!doctype html><html><script>alert(1)</script>')],
    ['PDF', Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj')],
    ['an empty file', Buffer.alloc(0)],
    ['"BM" and text', Buffer.from('BMW is a car, not a bitmap')],
    ['a JPEG SOI alone', Buffer.from([0xff, 0xd8, 0xff])],
    ['a PNG signature without IHDR', imageHeader('PNG').subarray(0, 8)],
    ['a GIF without its screen descriptor', Buffer.from('GIF89a')],
    ['a RIFF WAVE', Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt ', 'latin1')],
    ['an MP4', Buffer.from('000000186674797069736f6d0000020069736f6d', 'hex')],
    ['an HEIF sequence (msf1)', Buffer.from('000000106674797' + '06d736631' + '00000000', 'hex')],
    ['an ICO with no images', Buffer.from('000001000000' + '00'.repeat(16), 'hex')],
  ])('refuses %s', (_name, file) => {
    expect(verdict(file)).toBeUndefined();
  });

  it(`decides from the first ${SNIFF_BYTES} bytes only, whatever follows`, () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(ACCEPTED_FORMATS)),
        fc.uint8Array({ maxLength: 512 }),
        (name, tail) => {
          const head = imageHeader(name, SNIFF_BYTES);
          expect(verdict(Buffer.concat([head, tail]))).toBe(ACCEPTED_FORMATS[name]);
        },
      ),
      { numRuns: 1000 },
    );
  });

  // Random bytes, random bytes behind every signature, and valid headers with random bytes changed:
  // each gets a verdict in the allow-list or a 415, never anything else.
  const signatures = knownSignatures();
  const fuzzInputs = fc.oneof(
    fc.uint8Array({ maxLength: 600 }),
    fc
      .tuple(fc.constantFrom(...signatures), fc.uint8Array({ maxLength: 300 }))
      .map(([sig, tail]) => Buffer.concat([sig, tail])),
    fc
      .tuple(
        fc.constantFrom(...Object.keys(ACCEPTED_FORMATS)),
        fc.array(fc.tuple(fc.nat(SNIFF_BYTES - 1), fc.integer({ min: 0, max: 255 })), {
          maxLength: 6,
        }),
        fc.nat(SNIFF_BYTES + 16),
      )
      .map(([name, flips, length]) => {
        const file = imageHeader(name, SNIFF_BYTES);
        for (const [at, value] of flips) file[at] = value;
        return file.subarray(0, length);
      }),
  );

  it('gives 12,000 generated inputs the verdict an independent oracle gives: a type or a 415', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fuzzInputs, (file) => {
        const mime = verdict(file);
        expect(mime).toBe(oracleImageType(file, SNIFF_BYTES));
        if (mime !== undefined) {
          expect(IMAGE_TYPES.has(mime)).toBe(true);
          accepted++;
        }
      }),
      { numRuns: 12_000 },
    );
    // Both verdicts were exercised: images (valid headers survive some flips) and refusals.
    expect(accepted).toBeGreaterThan(1000);
  });

  it('agrees with the oracle on every accepted format, whole and cut short byte by byte', () => {
    for (const name of Object.keys(ACCEPTED_FORMATS)) {
      const header = imageHeader(name, SNIFF_BYTES);
      for (let length = 0; length <= header.length; length++) {
        const file = header.subarray(0, length);
        expect({ name, length, mime: verdict(file) }).toEqual({
          name,
          length,
          mime: oracleImageType(file, SNIFF_BYTES),
        });
      }
    }
  });

  it('gives every signature file-type knows a verdict: followed by zeros, 0xff, junk, and truncated', () => {
    let cases = 0;
    const junk = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) & 0xff));
    for (const sig of signatures) {
      // 0xff after a signature is the largest size any length field behind it can declare.
      for (const fill of [0x00, 0xff, 0x7f]) {
        for (const size of [sig.length, sig.length + 1, 80, 4096, 1 << 16]) {
          verdict(Buffer.concat([sig, Buffer.alloc(Math.max(0, size - sig.length), fill)]));
          cases++;
        }
      }
      verdict(Buffer.concat([sig, junk]));
      for (let cut = 0; cut < sig.length; cut++) verdict(sig.subarray(0, cut));
      cases += 1 + sig.length;
    }
    expect(cases).toBeGreaterThan(signatures.length * 16);
  });

  it('refuses ASF files with absurd declared sizes and sub-headers of size zero', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 256 }), (tail) => {
        const file = Buffer.concat([asfHang().subarray(0, 16), tail]);
        expect(verdict(file)).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });
});
