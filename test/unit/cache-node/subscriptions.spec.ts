import { SubscriptionTable, type LeaseTimers } from '../../../src/cache-node/subscriptions';
import type { NearToFrontEnd } from '../../../src/protocol/near-cache.protocol';

/** Simulated time: timers fire only when the test advances the clock. */
class SimTimers implements LeaseTimers {
  private time = 1000;
  private timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  now = (): number => this.time;
  after = (ms: number, fn: () => void) => {
    const timer = { at: this.time + ms, fn, live: true };
    this.timers.push(timer);
    return { cancel: () => void (timer.live = false) };
  };
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.live && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.time = due.at;
      due.live = false;
      due.fn();
    }
    this.time = end;
  }
}

function link() {
  const sent: NearToFrontEnd[] = [];
  let closed = false;
  return {
    sent,
    closed: () => closed,
    link: { send: (m: NearToFrontEnd) => void sent.push(m), close: () => void (closed = true) },
  };
}

const owns = (regions: number[]) => (r: number) => regions.includes(r);

describe('node subscription table (simulated time)', () => {
  let timers: SimTimers;
  let sut: SubscriptionTable;
  beforeEach(() => {
    timers = new SimTimers();
    sut = new SubscriptionTable(timers);
  });

  it('answers an invalidation at once when nobody subscribed to the region', () => {
    const a = link();
    sut.lease(sut.attach(a.link), [1], owns([1, 2]));
    const done = jest.fn();
    sut.invalidated('k', 2, 5, done);
    expect(done).toHaveBeenCalledTimes(1);
    expect(a.sent).toEqual([]);
  });

  it('grants only the regions the node owns at the moment of the request', () => {
    const sub = sut.attach(link().link);
    expect(sut.lease(sub, [0, 3, 7, 3], owns([3, 7, 9]))).toEqual([3, 7]);
  });

  it('waits for the acknowledgement of every subscriber of the region, and only theirs', () => {
    const a = link();
    const b = link();
    const c = link();
    const subA = sut.attach(a.link);
    const subB = sut.attach(b.link);
    sut.lease(subA, [4], owns([4, 5]));
    sut.lease(subB, [4, 5], owns([4, 5]));
    sut.lease(sut.attach(c.link), [5], owns([4, 5]));
    const done = jest.fn();
    sut.invalidated('key', 4, 9, done);
    expect(a.sent).toEqual([{ t: 'inv', seq: 1, key: 'key', region: 4, version: 9 }]);
    expect(b.sent).toHaveLength(1);
    expect(c.sent).toEqual([]);
    sut.ack(subA, 1);
    expect(done).not.toHaveBeenCalled();
    sut.ack(subA, 1); // a repeated ack counts once
    expect(done).not.toHaveBeenCalled();
    sut.ack(subB, 1);
    expect(done).toHaveBeenCalledTimes(1);
  });

  it("leaves the uploader's own subscriber out of the push; every other one is waited for", () => {
    const own = link();
    const other = link();
    const subOwn = sut.attach(own.link);
    const subOther = sut.attach(other.link);
    subOwn.id = 'a'.repeat(24);
    subOther.id = 'b'.repeat(24);
    sut.lease(subOwn, [4], owns([4]));
    sut.lease(subOther, [4], owns([4]));

    const alone = jest.fn();
    sut.lease(subOther, [], owns([4])); // only the uploader subscribes to 4 now
    sut.invalidated('k', 4, 2, alone, 'a'.repeat(24));
    expect(alone).toHaveBeenCalledTimes(1); // answered at once
    expect(own.sent).toEqual([]);

    sut.lease(subOther, [4], owns([4]));
    const both = jest.fn();
    sut.invalidated('k', 4, 3, both, 'a'.repeat(24));
    expect(own.sent).toEqual([]);
    expect(other.sent).toEqual([{ t: 'inv', seq: 1, key: 'k', region: 4, version: 3 }]);
    expect(both).not.toHaveBeenCalled(); // the other subscriber has not acknowledged yet
    sut.ack(subOther, 1);
    expect(both).toHaveBeenCalledTimes(1);

    const unknown = jest.fn();
    sut.invalidated('k', 4, 4, unknown, 'c'.repeat(24)); // an id no subscriber has
    sut.ack(subOther, 2);
    expect(unknown).not.toHaveBeenCalled();
    sut.ack(subOwn, 2);
    expect(unknown).toHaveBeenCalledTimes(1);
  });

  it("still holds a gained region's invalidations when the uploader alone subscribes", () => {
    const own = link();
    const sub = sut.attach(own.link);
    sub.id = 'a'.repeat(24);
    sut.lease(sub, [8], owns([8]));
    sut.holdGained([8], 500);
    const done = jest.fn();
    sut.invalidated('k', 8, 2, done, 'a'.repeat(24));
    timers.advance(499);
    expect(done).not.toHaveBeenCalled();
    timers.advance(1);
    expect(done).toHaveBeenCalledTimes(1);
  });

  it('waits out the lease of a subscriber that does not answer, to the millisecond, then forgets it', () => {
    const a = link();
    const sub = sut.attach(a.link);
    sut.lease(sub, [2], owns([2]));
    timers.advance(1000);
    const done = jest.fn();
    sut.invalidated('k', 2, 1, done);
    timers.advance(1999);
    expect(done).not.toHaveBeenCalled();
    timers.advance(1);
    expect(done).toHaveBeenCalledTimes(1);
    expect(a.closed()).toBe(true);
    expect(sut.stats()).toMatchObject({ subscribers: 0, expiredWaits: 1 });
    // A renewal arriving after the lease ended never resumes the subscription.
    expect(sut.lease(sub, [2], owns([2]))).toBeUndefined();
    const later = jest.fn();
    sut.invalidated('k', 2, 2, later);
    expect(later).toHaveBeenCalledTimes(1);
  });

  it('a renewal received in time moves the lease end, and the wait with it', () => {
    const sub = sut.attach(link().link);
    sut.lease(sub, [2], owns([2]));
    timers.advance(2000);
    expect(sut.lease(sub, [2], owns([2]))).toEqual([2]); // now ends at +5000
    const done = jest.fn();
    sut.invalidated('k', 2, 1, done);
    timers.advance(2999);
    expect(done).not.toHaveBeenCalled();
    timers.advance(1);
    expect(done).toHaveBeenCalledTimes(1);
  });

  it('a renewal that arrives after the lease ended is refused even before the timer fired', () => {
    const timersLate = new SimTimers();
    const table = new SubscriptionTable(
      { now: timersLate.now, after: () => ({ cancel() {} }) },
      1000,
    );
    const a = link();
    const sub = table.attach(a.link);
    table.lease(sub, [1], owns([1]));
    timersLate.advance(1000);
    expect(table.lease(sub, [1], owns([1]))).toBeUndefined();
    expect(a.closed()).toBe(true);
  });

  it('keeps a subscriber whose connection closed until its lease ends (it may still be serving)', () => {
    const a = link();
    const sub = sut.attach(a.link);
    sut.lease(sub, [6], owns([6]));
    sut.detach(sub);
    const done = jest.fn();
    sut.invalidated('k', 6, 1, done);
    expect(a.sent).toEqual([]); // nothing to send it on
    timers.advance(2999);
    expect(done).not.toHaveBeenCalled();
    timers.advance(1);
    expect(done).toHaveBeenCalledTimes(1);
  });

  it('a subscriber that says bye (it stopped serving) is not waited for', () => {
    const a = link();
    const sub = sut.attach(a.link);
    sut.lease(sub, [6], owns([6]));
    const pending = jest.fn();
    sut.invalidated('k', 6, 1, pending);
    sut.bye(sub);
    expect(pending).toHaveBeenCalledTimes(1);
    const done = jest.fn();
    sut.invalidated('k', 6, 2, done);
    expect(done).toHaveBeenCalledTimes(1);
  });

  it('a subscriber that never had a lease is forgotten when its connection closes', () => {
    const sub = sut.attach(link().link);
    sut.detach(sub);
    expect(sut.size).toBe(0);
  });

  it('giving regions up pushes a drop, waits for it, and stops granting them', () => {
    const a = link();
    const sub = sut.attach(a.link);
    sut.lease(sub, [1, 2], owns([1, 2]));
    const done = jest.fn();
    sut.dropped([2], true, done);
    expect(a.sent).toEqual([{ t: 'drop', seq: 1, regions: [2] }]);
    expect(done).not.toHaveBeenCalled();
    sut.ack(sub, 1);
    expect(done).toHaveBeenCalledTimes(1);
    const after = jest.fn();
    sut.invalidated('k', 2, 1, after);
    expect(after).toHaveBeenCalledTimes(1); // no longer subscribed to 2
    const still = jest.fn();
    sut.invalidated('k', 1, 1, still);
    expect(still).not.toHaveBeenCalled(); // 1 is still granted
  });

  it('a clear pushes a drop but keeps the regions granted', () => {
    const a = link();
    const sub = sut.attach(a.link);
    sut.lease(sub, [3], owns([3]));
    sut.dropped([3], false, jest.fn());
    sut.ack(sub, 1);
    const done = jest.fn();
    sut.invalidated('k', 3, 1, done);
    expect(done).not.toHaveBeenCalled();
  });

  it('holds invalidations of a gained region for holdMs, with or without subscribers', () => {
    sut.holdGained([8], 3000);
    const held = jest.fn();
    const free = jest.fn();
    sut.invalidated('k', 8, 1, held);
    sut.invalidated('k', 9, 1, free);
    expect(free).toHaveBeenCalledTimes(1);
    timers.advance(2999);
    expect(held).not.toHaveBeenCalled();
    timers.advance(1);
    expect(held).toHaveBeenCalledTimes(1);
    const afterHold = jest.fn();
    sut.invalidated('k', 8, 2, afterHold);
    expect(afterHold).toHaveBeenCalledTimes(1);
  });

  it('a hold and an ack both have to be over', () => {
    sut = new SubscriptionTable(timers, 10_000);
    const sub = sut.attach(link().link);
    sut.lease(sub, [8], owns([8]));
    sut.holdGained([8], 500);
    const done = jest.fn();
    sut.invalidated('k', 8, 1, done);
    sut.ack(sub, 1);
    expect(done).not.toHaveBeenCalled();
    timers.advance(500);
    expect(done).toHaveBeenCalledTimes(1);
  });

  it('shows the reports of connected subscribers', () => {
    const sub = sut.attach(link().link);
    const report = { name: 'fe-1', items: 3, bytes: 300, capacityBytes: 1000, hits: 7, reads: 10 };
    sut.report(sub, report);
    expect(sut.stats().reports).toEqual([report]);
  });
  it('a pending mark is pushed like an invalidation (not to the uploader) and waited for; its release is told, not waited for', () => {
    const own = link();
    const other = link();
    const subOwn = sut.attach(own.link);
    const subOther = sut.attach(other.link);
    subOwn.id = 'a'.repeat(24);
    sut.lease(subOwn, [4], owns([4]));
    sut.lease(subOther, [4], owns([4]));
    const done = jest.fn();
    sut.markedPending({ id: 'm1', ms: 5000, key: 'k' }, [4], done, subOwn.id);
    expect(own.sent).toEqual([]);
    expect(other.sent).toEqual([{ t: 'pend', seq: 1, id: 'm1', ms: 5000, key: 'k', region: 4 }]);
    expect(done).not.toHaveBeenCalled();
    sut.ack(subOther, 1);
    expect(done).toHaveBeenCalledTimes(1);
    sut.released({ t: 'rel', id: 'm1', key: 'k', region: 4, version: 9 }, [4], subOwn.id);
    expect(other.sent[1]).toEqual({ t: 'rel', id: 'm1', key: 'k', region: 4, version: 9 });
    expect(own.sent).toEqual([]); // the uploader released its own mark itself
  });
});
