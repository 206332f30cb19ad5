import { Admission } from '../../../src/near-cache/admission';
import { prepareEntry } from '../../../src/near-cache/near-entry';
import { NEAR_ENTRY_OVERHEAD_BYTES, NearStore } from '../../../src/near-cache/near-store';

const entry = (key: string, bytes = 1000, version = 1) =>
  prepareEntry({ key, body: Buffer.alloc(bytes), contentType: 'image/png', version }, 0, 0);

describe('near store (SIEVE, bounded by bytes)', () => {
  it('never holds more bytes than its capacity, counting the overhead', () => {
    const one = entry('k000').bytes;
    const sut = new NearStore(one * 10);
    for (let i = 0; i < 100; i++) {
      expect(sut.set(entry(`k${String(i).padStart(3, '0')}`))).toBe(true);
      expect(sut.bytesUsed).toBeLessThanOrEqual(sut.capacityBytes);
    }
    expect(sut.size).toBe(10);
    expect(one).toBeGreaterThan(1000 + NEAR_ENTRY_OVERHEAD_BYTES);
  });

  it('evicts what was not read since the hand last passed, and keeps what was', () => {
    const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const sut = new NearStore(entry('x').bytes * keys.length);
    for (const key of keys) sut.set(entry(key));
    for (const key of ['a', 'c', 'd']) sut.peek(key)!.visited = true;
    sut.set(entry('i'));
    sut.set(entry('j'));
    // The hand starts at the oldest: a, c and d were read (spared, bits cleared), b and e were not.
    expect([...keys, 'i', 'j'].filter((k) => sut.peek(k))).toEqual([
      'a',
      'c',
      'd',
      'f',
      'g',
      'h',
      'i',
      'j',
    ]);
  });

  it('refuses an entry larger than an eighth of the capacity', () => {
    const sut = new NearStore(8 * entry('x', 1000).bytes);
    expect(sut.set(entry('b', 2000))).toBe(false);
    expect(sut.set(entry('o', 1000))).toBe(true);
  });

  it('replacing a key charges only the new copy; delete and sweep give the bytes back', () => {
    const sut = new NearStore(1024 * 1024);
    sut.set(entry('k', 1000, 1));
    sut.set(entry('k', 3000, 2));
    expect(sut.size).toBe(1);
    expect(sut.bytesUsed).toBe(entry('k', 3000).bytes);
    sut.set(entry('j', 10));
    expect(sut.sweep((e) => e.key === 'k')).toBe(1);
    sut.delete('j');
    expect(sut.bytesUsed).toBe(0);
    expect(sut.size).toBe(0);
  });

  it('prepares the answer once: the same bytes, strong ETag, length and type', () => {
    const body = Buffer.from('png bytes');
    const e = prepareEntry({ key: 'k', body, contentType: 'image/png', version: 42 }, 3, 7);
    expect(e.body).toBe(body);
    expect(e.etag).toBe('"v42"');
    expect(e.headers).toEqual(
      expect.arrayContaining(['Content-Length', String(body.length), 'Content-Type', 'image/png']),
    );
    expect(e.notModifiedHeaders).not.toContain('Content-Length');
  });
});

describe('admission (second read within the window)', () => {
  let time = 0;
  const now = () => time;

  it('admits a key on its second read, not a one-off', () => {
    const sut = new Admission(10_000, 1000, now);
    expect(sut.admit('a')).toBe(false);
    expect(sut.admit('b')).toBe(false);
    expect(sut.admit('a')).toBe(true);
  });

  it('forgets a read after the window', () => {
    const sut = new Admission(10_000, 1000, now);
    expect(sut.admit('a')).toBe(false);
    time += 10_001;
    expect(sut.admit('x')).toBe(false); // a swap
    time += 5_001;
    expect(sut.admit('a')).toBe(false);
  });

  it('remembers at most maxKeys per generation (a scan cannot grow it)', () => {
    const sut = new Admission(1_000_000, 10, now);
    expect(sut.admit('first')).toBe(false);
    for (let i = 0; i < 25; i++) sut.admit(`scan-${i}`);
    expect(sut.admit('first')).toBe(false);
  });
});
