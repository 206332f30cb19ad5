import { HttpException } from '@nestjs/common';
import fc from 'fast-check';
import { parseImageQuery } from '../../../src/imaging/image-query';

const limits = { maxDimension: 4096 };
const parse = (query: string) => parseImageQuery('/images/cat', query, limits);

describe('parseImageQuery', () => {
  it('reads every parameter', () => {
    expect(parse('w=320&h=200&fit=cover&fmt=webp&q=70&v=3')).toEqual({
      params: { w: 320, h: 200, fit: 'cover', fmt: 'webp', q: 70 },
      version: 3,
      signed: '/images/cat?w=320&h=200&fit=cover&fmt=webp&q=70&v=3',
    });
    expect(parse('preset=thumb&fmt=auto')).toMatchObject({
      preset: 'thumb',
      params: { fmt: 'auto' },
    });
  });

  it('leaves a query with none of its parameters (a cache buster) to the original', () => {
    expect(parse('t=1796293902296')).toEqual({ params: {}, signed: '/images/cat' });
    expect(() => parse('t=1&v=2')).toThrow('unknown image parameter "t"');
  });

  it('signs the path and the query before sig, which must come last', () => {
    const sig = 'a'.repeat(43);
    expect(parse(`w=10&sig=${sig}`)).toMatchObject({ signature: sig, signed: '/images/cat?w=10' });
    expect(() => parse(`sig=${sig}&w=10`)).toThrow('sig must be the last parameter');
    expect(() => parse('w=10&sig=short')).toThrow('base64url');
  });

  it.each([
    ['w=0', 'w must be an integer 1..4096'],
    ['w=4097', 'w must be an integer 1..4096'],
    ['w=1e3', 'w must be an integer'],
    ['w=-1', 'w must be an integer'],
    ['w=', 'w must be an integer'],
    ['q=101', 'q must be an integer 1..100'],
    ['fit=fill', 'fit must be one of cover, contain, inside'],
    ['fmt=gif', 'fmt must be one of auto, webp, avif, jpeg, png'],
    ['w=3&width=3', 'unknown image parameter "width"'],
    ['w=3&w=4', 'parameter w is given twice'],
    ['preset=%zz', 'malformed %-escape'],
    ['preset=Thumb', 'preset must be a name'],
    ['v=1.5', 'v must be an integer'],
  ])('refuses %s with a 400 that says why', (query, message) => {
    let thrown: unknown;
    try {
      parse(query);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(HttpException);
    expect((thrown as HttpException).getStatus()).toBe(400);
    expect((thrown as Error).message).toContain(message);
  });

  it('answers any query string with a parse or a 400, never another error (fuzz)', () => {
    const part = fc.oneof(
      fc.string(),
      fc.constantFrom('w', 'h', 'q', 'v', 'fit', 'fmt', 'preset', 'sig', '%', '&', '=', '%00'),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(part, part)), fc.string(), (pairs, tail) => {
        const query = pairs.map(([n, v]) => `${n}=${v}`).join('&') + tail;
        try {
          const parsed = parse(query);
          for (const n of ['w', 'h'] as const) {
            const value = parsed.params[n];
            if (value !== undefined) expect(value >= 1 && value <= 4096).toBe(true);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(HttpException);
          expect((err as HttpException).getStatus()).toBe(400);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
