import { ConflictException } from '@nestjs/common';
import { ResizeInProgressError, ResizeLock } from '../../../../src/pool/membership/resize-lock';
import { deferred } from '../fakes/deferred';

describe('ResizeLock', () => {
  let sut: ResizeLock;
  beforeEach(() => (sut = new ResizeLock()));

  it('refuses a second caller at once with a 409 naming the running change', async () => {
    const first = deferred();
    const running = sut.run('grow to 3', () => first.promise);

    const second = sut.run('shrink to 1', async () => 'must not run');

    await expect(second).rejects.toBeInstanceOf(ResizeInProgressError);
    await expect(second).rejects.toBeInstanceOf(ConflictException);
    await expect(second).rejects.toThrow(/grow to 3/);
    const err = await second.catch((e: ConflictException) => e);
    expect((err as ConflictException).getStatus()).toBe(409);
    expect(sut.busy).toBe(true);
    expect(sut.description).toBe('grow to 3');
    first.resolve();
    await running;
  });

  it('is free again once the change finished, and returns its result', async () => {
    await expect(sut.run('grow', async () => 42)).resolves.toBe(42);
    expect(sut.busy).toBe(false);
    await expect(sut.run('shrink', async () => 'next')).resolves.toBe('next');
  });

  it('is released after a change that failed, and passes its error on', async () => {
    await expect(
      sut.run('grow', async () => Promise.reject(new Error('node did not start'))),
    ).rejects.toThrow('node did not start');
    expect(sut.busy).toBe(false);
    expect(sut.description).toBeNull();
    await expect(sut.run('retry', async () => 'ok')).resolves.toBe('ok');
  });
});
