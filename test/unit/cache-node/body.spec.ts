import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { readBody, type BodyResult } from '../../../src/cache-node/body';

/** A request whose bytes the test hands over one chunk at a time. */
function request(): IncomingMessage & EventEmitter {
  return new EventEmitter() as IncomingMessage & EventEmitter;
}

describe('readBody: memory follows the bytes received, not the length a client declared', () => {
  const MIB = 1 << 20;

  it('a PUT that declares 8 MiB and sends one byte holds about one byte, not 8 MiB', () => {
    const req = request();
    const allocated: number[] = [];
    const results: BodyResult[] = [];
    readBody(
      req,
      8 * MIB,
      16 * MIB,
      (r) => results.push(r),
      (n) => {
        allocated.push(n);
        return Buffer.alloc(n);
      },
    );
    req.emit('data', Buffer.from('x'));
    expect(allocated.reduce((a, b) => a + b, 0)).toBeLessThan(64 * 1024);
    req.emit('close');
    expect(results).toEqual(['aborted']);
  });

  it('a whole body arrives in one exactly-sized buffer from the allocator', () => {
    const req = request();
    const allocated: number[] = [];
    let result: BodyResult | undefined;
    readBody(
      req,
      3 * MIB,
      16 * MIB,
      (r) => (result = r),
      (n) => {
        allocated.push(n);
        return Buffer.alloc(n);
      },
    );
    const parts = [Buffer.alloc(MIB, 1), Buffer.alloc(MIB, 2), Buffer.alloc(MIB, 3)];
    for (const part of parts) req.emit('data', part);
    req.emit('end');
    req.emit('close');
    expect(allocated).toEqual([3 * MIB]);
    expect(Buffer.isBuffer(result) && result.equals(Buffer.concat(parts))).toBe(true);
  });

  it('a body shorter than declared is aborted; one longer than the limit is too large', () => {
    const short = request();
    const shortResults: BodyResult[] = [];
    readBody(short, 10, 100, (r) => shortResults.push(r));
    short.emit('data', Buffer.from('abc'));
    short.emit('end');
    expect(shortResults).toEqual(['aborted']);

    const long = request();
    const longResults: BodyResult[] = [];
    readBody(long, -1, 4, (r) => longResults.push(r));
    long.emit('data', Buffer.from('abcdef'));
    expect(longResults).toEqual(['too_large']);
  });
});
