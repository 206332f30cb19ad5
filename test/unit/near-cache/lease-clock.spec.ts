import { leaseEnd } from '../../../src/near-cache/lease-clock';

describe('front-end lease clock', () => {
  it("ends before the node's lease for any delivery delay and a clock up to 1 % fast", () => {
    for (const ms of [300, 1000, 3000, 30_000]) {
      for (const delay of [0, 1, 50, 1000]) {
        const sentAt = 10_000;
        // The node's clock runs 1 % slower than ours: its lease lasts 0.99 × ms of our time.
        const nodeEnd = sentAt + delay + ms * 0.99;
        expect(leaseEnd(sentAt, ms)).toBeLessThan(nodeEnd);
      }
    }
  });

  it('keeps most of the lease usable', () => {
    expect(leaseEnd(0, 3000)).toBeGreaterThan(2800);
  });
});
