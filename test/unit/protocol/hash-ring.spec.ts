import { partition, REGION_COUNT, REGIONS } from '../../../src/protocol/hash-ring';

describe('partition', () => {
  it.each([
    ['test', 0],
    ['test123', 12],
    ['testabc', 12],
    ['k1', 11],
    ['k2', 6],
  ])('puts %p in region %p, as group15 did', (key, region) => {
    expect(partition(key)).toBe(region);
  });

  it('hashes the UTF-8 bytes of the key (md5("é") = 66dd..., md5("日本") = 4dbe...)', () => {
    expect(partition('é')).toBe(6);
    expect(partition('日本')).toBe(4);
  });

  it('maps the empty key like any other (md5("") = d41d...)', () => {
    expect(partition('')).toBe(13);
  });

  it('spreads keys over all 16 regions about evenly', () => {
    const counts = new Array<number>(REGION_COUNT).fill(0);
    for (let i = 0; i < 16000; i += 1) counts[partition(`key-${i}`)] += 1;
    for (const count of counts) {
      expect(count).toBeGreaterThan(800);
      expect(count).toBeLessThan(1200);
    }
  });

  it('lists regions 0..15', () => {
    expect(REGIONS).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
  });
});
