import { TokenBuckets } from '../../../src/common/rate-limit/token-buckets';

describe('TokenBuckets', () => {
  let now: number;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000_000;
  });

  it('lets a client spend its burst, then refuses until the next token, naming the wait', () => {
    const sut = new TokenBuckets(60, 3, 100, clock); // one token a second
    expect([sut.take('a'), sut.take('a'), sut.take('a')]).toEqual([
      { ok: true },
      { ok: true },
      { ok: true },
    ]);
    expect(sut.take('a')).toEqual({ ok: false, retryAfterMs: 1000 });
    now += 400;
    expect(sut.take('a')).toEqual({ ok: false, retryAfterMs: 600 });
    now += 600;
    expect(sut.take('a')).toEqual({ ok: true });
    expect(sut.take('a').ok).toBe(false);
  });

  it('keeps clients apart and refills no further than the burst', () => {
    const sut = new TokenBuckets(60, 2, 100, clock);
    sut.take('a');
    sut.take('a');
    expect(sut.take('a').ok).toBe(false);
    expect(sut.take('b').ok).toBe(true);
    now += 3_600_000;
    expect([sut.take('a').ok, sut.take('a').ok, sut.take('a').ok]).toEqual([true, true, false]);
  });

  it('remembers at most maxClients, forgetting the least recently seen', () => {
    const sut = new TokenBuckets(1, 1, 100, clock);
    for (let i = 0; i < 1000; i++) sut.take(`client-${i}`);
    expect(sut.size).toBe(100);
    expect(sut.take('client-999').ok).toBe(false); // recent: still remembered, still empty
    expect(sut.take('client-0').ok).toBe(true); // forgotten: starts full again
  });
});
