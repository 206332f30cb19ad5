import { ServiceBusyError } from '../../../src/common/service-busy.error';
import type { RefusalReason, TransformObserver } from '../../../src/imaging/transform-metrics';
import { TransformQueue } from '../../../src/imaging/transform-queue';

class RecordingObserver implements TransformObserver {
  refusals: RefusalReason[] = [];
  done = 0;
  state = () => ({ queued: 0, running: 0 });
  transformed(): void {
    this.done++;
  }
  refused(reason: RefusalReason): void {
    this.refusals.push(reason);
  }
  watch(state: () => { queued: number; running: number }): void {
    this.state = state;
  }
}

/** Work that finishes when the test says so. */
function gate<T>(value: T) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  let started = 0;
  return {
    work: async () => {
      started++;
      await opened;
      return value;
    },
    open: () => open(),
    started: () => started,
  };
}

const options = { concurrency: 1, queueLimit: 1, timeoutMs: 1000, retryAfterSeconds: 7 };

describe('TransformQueue', () => {
  it('runs at most `concurrency` at once and queues the next', async () => {
    const observer = new RecordingObserver();
    const sut = new TransformQueue(options, observer);
    const a = gate('a');
    const b = gate('b');
    const first = sut.run('a', a.work);
    const second = sut.run('b', b.work);
    await Promise.resolve();
    expect([a.started(), b.started()]).toEqual([1, 0]);
    expect(observer.state()).toEqual({ queued: 1, running: 1 });
    a.open();
    b.open();
    expect(await Promise.all([first, second])).toEqual(['a', 'b']);
    expect(observer.done).toBe(2);
  });

  it('refuses beyond the queue with 503 and Retry-After, counted as queue_full', async () => {
    const observer = new RecordingObserver();
    const sut = new TransformQueue(options, observer);
    const a = gate('a');
    const running = sut.run('a', a.work);
    const queued = sut.run('b', gate('b').work);
    const refused = sut.run('c', gate('c').work);
    await expect(refused).rejects.toBeInstanceOf(ServiceBusyError);
    await expect(refused).rejects.toMatchObject({ retryAfterSeconds: 7 });
    expect(observer.refusals).toEqual(['queue_full']);
    a.open();
    await running;
    void queued.catch(() => undefined);
  });

  it('renders one identity once for all its concurrent callers', async () => {
    const sut = new TransformQueue(options, new RecordingObserver());
    const a = gate('bytes');
    const callers = [sut.run('v', a.work), sut.run('v', a.work), sut.run('v', a.work)];
    a.open();
    expect(await Promise.all(callers)).toEqual(['bytes', 'bytes', 'bytes']);
    expect(a.started()).toBe(1);
  });

  it('answers 503 at the deadline, and a job still queued then never runs', async () => {
    const observer = new RecordingObserver();
    const sut = new TransformQueue({ ...options, timeoutMs: 50 }, observer);
    const a = gate('a');
    const b = gate('b');
    const slow = sut.run('a', a.work);
    const waiting = sut.run('b', b.work);
    await expect(slow).rejects.toThrow('not rendered within 50 ms');
    await expect(waiting).rejects.toThrow('not rendered within 50 ms');
    a.open();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(b.started()).toBe(0);
    expect(observer.state()).toEqual({ queued: 0, running: 0 });
    expect(observer.refusals).toEqual(['deadline', 'deadline']);
  });
});
