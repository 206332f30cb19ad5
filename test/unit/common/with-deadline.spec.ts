import { withDeadline } from '../../../src/common/with-deadline';

describe('withDeadline', () => {
  it('passes on a result that arrives in time', async () => {
    await expect(withDeadline(Promise.resolve(7), 50)).resolves.toBe(7);
  });

  it('rejects once the deadline passed without an outcome', async () => {
    const started = Date.now();
    await expect(withDeadline(new Promise(() => undefined), 40)).rejects.toThrow(
      'no answer within 40 ms',
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
  });

  it('passes on a failure as an Error', async () => {
    await expect(withDeadline(Promise.reject(new Error('refused')), 50)).rejects.toThrow('refused');
    await expect(withDeadline(Promise.reject('plain'), 50)).rejects.toThrow('plain');
  });
});
