import { CircuitBreaker } from '../../../src/common/circuit-breaker';
import { DependencyGuard } from '../../../src/common/dependency-guard';
import { DependencyUnavailableError } from '../../../src/common/dependency-unavailable.error';
import { describeException, retryAfterOf } from '../../../src/common/course-exception.filter';

class Outage extends Error {}

function guard(overrides: Partial<ConstructorParameters<typeof DependencyGuard>[0]> = {}) {
  return new DependencyGuard({
    dependency: 'storage',
    timeoutMs: 60,
    retryAfterSeconds: 7,
    breakerThreshold: 2,
    breakerOpenMs: 100,
    isOutage: (err) => err instanceof Outage,
    ...overrides,
  });
}

const never = () => new Promise<never>(() => undefined);

describe('DependencyGuard', () => {
  it('ends a call that never answers at its deadline, aborting its signal', async () => {
    const sut = guard();
    let signal: AbortSignal | undefined;
    const started = Date.now();
    const call = sut.run('get', (s) => ((signal = s), never()));
    await expect(call).rejects.toThrow(DependencyUnavailableError);
    await expect(call).rejects.toThrow('storage unavailable: get: no answer within 60 ms');
    expect(Date.now() - started).toBeLessThan(500);
    expect(signal?.aborted).toBe(true);
  });

  it('turns an outage into DependencyUnavailableError and lets other errors through as they are', async () => {
    const sut = guard({ breakerThreshold: 10 });
    const outage = sut.run('put', () => Promise.reject(new Outage('ECONNREFUSED')));
    await expect(outage).rejects.toMatchObject({
      dependency: 'storage',
      retryAfterSeconds: 7,
      message: 'storage unavailable: put: ECONNREFUSED',
    });
    const bug = new TypeError('bug');
    await expect(sut.run('put', () => Promise.reject(bug))).rejects.toBe(bug);
    expect(await sut.run('put', async () => 'ok')).toBe('ok');
  });

  it('opens after consecutive outages: refuses at once without calling, then a trial closes it', async () => {
    const sut = guard();
    for (let i = 0; i < 2; i++) {
      await expect(sut.run('get', () => Promise.reject(new Outage('down')))).rejects.toThrow();
    }
    expect(sut.state).toBe('open');
    let called = false;
    await expect(sut.run('get', async () => (called = true))).rejects.toThrow(/circuit open/);
    expect(called).toBe(false);

    await new Promise((r) => setTimeout(r, 120));
    expect(await sut.run('get', async () => 'back')).toBe('back');
    expect(sut.state).toBe('closed');
  });

  it('reopens when the trial call fails too', async () => {
    const sut = guard({ breakerThreshold: 1 });
    await expect(sut.run('get', () => Promise.reject(new Outage('down')))).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 120));
    await expect(sut.run('get', () => Promise.reject(new Outage('still')))).rejects.toThrow(
      'still',
    );
    expect(sut.state).toBe('open');
  });

  it('does not count errors that say nothing about the dependency', async () => {
    const sut = guard({ breakerThreshold: 1 });
    await expect(sut.run('get', () => Promise.reject(new RangeError('x')))).rejects.toThrow();
    expect(sut.state).toBe('closed');
  });
});

describe('CircuitBreaker', () => {
  it('lets exactly one trial through when half-open', () => {
    let now = 0;
    const sut = new CircuitBreaker({ threshold: 1, openMs: 10, now: () => now });
    sut.failed();
    expect(sut.tryAcquire()).toBe(false);
    now = 10;
    expect(sut.tryAcquire()).toBe(true);
    expect(sut.state).toBe('half-open');
    expect(sut.tryAcquire()).toBe(false);
    sut.succeeded();
    expect(sut.tryAcquire()).toBe(true);
  });
});

describe('outage answers', () => {
  it('are 503 with Retry-After, naming the dependency only (the reason is for the log)', () => {
    const err = new DependencyUnavailableError('database', 'no answer within 3000 ms', 5);
    expect(describeException(err)).toEqual({
      status: 503,
      message: 'database unavailable',
    });
    expect(retryAfterOf(err)).toBe(5);
    expect(retryAfterOf(new Error('other'))).toBeNull();
  });
});
