import { NearPending } from '../../../src/near-cache/near-pending';
import { variantKey } from '../../../src/protocol/variant-key';

describe('near pending marks (simulated time)', () => {
  let time: number;
  let sut: NearPending;
  beforeEach(() => {
    time = 1000;
    sut = new NearPending(() => time);
  });

  it('a mark blocks its key until released or run out, and no other key', () => {
    sut.add('k', 'm', 500);
    expect(sut.blocks('k')).toBe(true);
    expect(sut.blocks('other')).toBe(false);
    sut.release('k', 'm');
    expect(sut.blocks('k')).toBe(false);
    sut.add('k', 'n', 500);
    time += 501;
    expect(sut.blocks('k')).toBe(false);
  });

  it("blocks an original's variants with it: a variant read before the upload is not admitted", () => {
    sut.add('k', 'm', 500);
    expect(sut.blocks(variantKey('k', '320x320-cover-webp-q80'))).toBe(true);
    expect(sut.blocks(variantKey('other', '320x320-cover-webp-q80'))).toBe(false);
  });

  it('a delete_all mark blocks every key', () => {
    sut.add(undefined, 'all', 500);
    expect(sut.blocks('anything')).toBe(true);
    sut.release(undefined, 'all');
    expect(sut.blocks('anything')).toBe(false);
  });
});
