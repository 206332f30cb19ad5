import { ConsistencyChecker } from '../../support/consistency-checker';

const bytes = (s: string) => Buffer.from(s);

describe('ConsistencyChecker', () => {
  it('calls a read stale when it returns an upload that ended before an acknowledged one began', () => {
    const checker = new ConsistencyChecker();
    checker.sending('k', bytes('a'), 1);
    checker.acknowledged('k', bytes('a'), 2);
    checker.sending('k', bytes('b'), 3);
    checker.acknowledged('k', bytes('b'), 4);
    checker.read('k', 5, bytes('a'));
    expect(checker.staleReads).toEqual([
      'k: got upload #0, #1 was sent after it had ended and acknowledged before the read',
    ]);
  });

  it('without versions, accepts either of two overlapping uploads after both are acknowledged', () => {
    const checker = new ConsistencyChecker();
    checker.sending('k', bytes('a'), 1);
    checker.sending('k', bytes('b'), 2);
    checker.acknowledged('k', bytes('a'), 3); // a may have committed after b
    checker.acknowledged('k', bytes('b'), 4);
    checker.read('k', 5, bytes('a'));
    checker.read('k', 6, bytes('b'));
    expect(checker.staleReads).toEqual([]);
  });

  it('accepts the newest acknowledged upload, an in-flight one, and reads begun before an acknowledgement', () => {
    const checker = new ConsistencyChecker();
    checker.sending('k', bytes('a'), 1);
    checker.acknowledged('k', bytes('a'), 2);
    checker.sending('k', bytes('b'), 3);
    checker.read('k', 4, bytes('a')); // b not acknowledged yet
    checker.read('k', 4, bytes('b')); // b may already be committed
    checker.acknowledged('k', bytes('b'), 10);
    checker.read('k', 9, bytes('a')); // began before b's acknowledgement
    checker.read('k', 11, bytes('b'));
    expect(checker.staleReads).toEqual([]);
    expect(checker.reads).toBe(4);
  });

  it('with versions, the overlapping upload that committed first is stale once the other was acknowledged', () => {
    const checker = new ConsistencyChecker();
    checker.sending('k', bytes('a'), 1);
    checker.sending('k', bytes('b'), 2);
    checker.acknowledged('k', bytes('a'), 3);
    checker.acknowledged('k', bytes('b'), 4);
    checker.read('k', 5, bytes('a'), 7);
    expect(checker.staleReads).toEqual([]); // b's version not known yet
    checker.read('k', 6, bytes('b'), 8);
    expect(checker.staleReads).toEqual([
      'k: got v7, upload #1 (v8) was acknowledged before the read',
    ]);
  });

  it('with versions from the acknowledgements: send a, send b, ack a, ack b, read a, never read b is stale', () => {
    const checker = new ConsistencyChecker();
    checker.sending('k', bytes('a'), 1);
    checker.sending('k', bytes('b'), 2);
    checker.acknowledged('k', bytes('a'), 3, 7);
    checker.acknowledged('k', bytes('b'), 4, 8);
    checker.read('k', 5, bytes('a'), 7);
    expect(checker.staleReads).toEqual([
      'k: got v7, upload #1 (v8) was acknowledged before the read',
    ]);
  });

  it('with versions, an upload acknowledged first may have committed last: reading it is right, the other is stale', () => {
    const checker = new ConsistencyChecker();
    checker.sending('k', bytes('a'), 1);
    checker.sending('k', bytes('b'), 2);
    checker.acknowledged('k', bytes('a'), 3); // committed last (v8), answered first
    checker.acknowledged('k', bytes('b'), 4);
    checker.read('k', 5, bytes('a'), 8);
    expect(checker.staleReads).toEqual([]);
    checker.read('k', 6, bytes('b'), 7);
    expect(checker.staleReads).toEqual([
      'k: got v7, upload #0 (v8) was acknowledged before the read',
    ]);
  });

  it('with versions, an upload still waiting for its answer is stale once a newer one was acknowledged', () => {
    const checker = new ConsistencyChecker();
    checker.sending('k', bytes('a'), 1); // v5, answered late (e.g. waiting for a quarantine)
    checker.sending('k', bytes('b'), 2);
    checker.acknowledged('k', bytes('b'), 3);
    checker.read('k', 4, bytes('b'), 6);
    checker.read('k', 5, bytes('a'), 5);
    expect(checker.staleReads).toEqual([
      'k: got v5, upload #1 (v6) was acknowledged before the read',
    ]);
  });

  it('a failed upload ended when it failed: returned after a later acknowledged one, it is stale', () => {
    const checker = new ConsistencyChecker();
    checker.sending('k', bytes('a'), 1);
    checker.failed('k', bytes('a'), 2); // it may have committed anyway
    checker.read('k', 3, bytes('a')); // fine: it may be the newest
    checker.sending('k', bytes('b'), 4);
    checker.acknowledged('k', bytes('b'), 5);
    checker.read('k', 6, bytes('a'));
    expect(checker.staleReads).toEqual([
      'k: got upload #0, #1 was sent after it had ended and acknowledged before the read',
    ]);
  });

  it('reports bytes nobody uploaded', () => {
    const checker = new ConsistencyChecker();
    checker.read('k', 1, bytes('x'));
    expect(checker.staleReads).toEqual(['k: bytes of no upload']);
  });

  it('judges the same bytes uploaded twice by their latest upload', () => {
    const checker = new ConsistencyChecker();
    checker.sending('k', bytes('a'), 1);
    checker.acknowledged('k', bytes('a'), 2);
    checker.sending('k', bytes('b'), 3);
    checker.acknowledged('k', bytes('b'), 4);
    checker.sending('k', bytes('a'), 5);
    checker.acknowledged('k', bytes('a'), 6);
    checker.read('k', 7, bytes('a'));
    expect(checker.staleReads).toEqual([]);
  });
});
