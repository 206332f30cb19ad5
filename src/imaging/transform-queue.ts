import { ServiceBusyError } from '../common/service-busy.error';
import type { TransformObserver } from './transform-metrics';

export interface TransformQueueOptions {
  concurrency: number;
  queueLimit: number;
  /** A caller waits at most this long, queue included; a job not started by then never runs. */
  timeoutMs: number;
  retryAfterSeconds: number;
}

/**
 * Bounded transform work: at most `concurrency` render at once, at most `queueLimit` wait, and
 * one render per identity at a time (single flight: the caller names what it renders, e.g. the
 * variant with its original's version, so sharing is safe). Beyond the queue, and past a
 * caller's deadline, the answer is 503 with Retry-After: CPU and memory stay bounded whatever
 * the request rate, and a client is told when to come back instead of waiting on a hopeless line.
 * A render that overran its caller's deadline keeps its slot until it stops (sharp's own timeout
 * ends it), so the limit counts real work.
 */
export class TransformQueue {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(
    private readonly options: TransformQueueOptions,
    private readonly observer: TransformObserver,
  ) {
    observer.watch(() => ({ queued: this.waiting.length, running: this.running }));
  }

  run<T>(identity: string, work: () => Promise<T>): Promise<T> {
    let shared = this.inFlight.get(identity) as Promise<T> | undefined;
    if (!shared) {
      const started = this.schedule(work).finally(() => {
        if (this.inFlight.get(identity) === started) this.inFlight.delete(identity);
      });
      this.inFlight.set(identity, started);
      shared = started;
    }
    return this.withDeadline(shared);
  }

  private async schedule<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.options.concurrency) {
      if (this.waiting.length >= this.options.queueLimit) throw this.refuse('queue_full');
      await new Promise<void>((start, refuse) => {
        this.waiting.push(start);
        // Nobody waits for it any more: it gives up its place instead of rendering for no one.
        setTimeout(() => {
          const at = this.waiting.indexOf(start);
          if (at !== -1) {
            this.waiting.splice(at, 1);
            refuse(this.refuse('deadline'));
          }
        }, this.options.timeoutMs).unref();
      });
    }
    this.running++;
    const began = process.hrtime.bigint();
    try {
      const result = await work();
      this.observer.transformed(Number(process.hrtime.bigint() - began) / 1e9);
      return result;
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  private withDeadline<T>(shared: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.refuse('deadline')), this.options.timeoutMs);
    });
    return Promise.race([shared, deadline]).finally(() => clearTimeout(timer));
  }

  private refuse(reason: 'queue_full' | 'deadline'): ServiceBusyError {
    this.observer.refused(reason);
    return this.overloaded(reason);
  }

  private overloaded(reason: 'queue_full' | 'deadline'): ServiceBusyError {
    const { concurrency, queueLimit, timeoutMs, retryAfterSeconds } = this.options;
    return new ServiceBusyError(
      reason === 'queue_full'
        ? `too many variants being rendered (${concurrency} at once, ${queueLimit} waiting); retry later`
        : `the variant was not rendered within ${timeoutMs} ms; retry later`,
      retryAfterSeconds,
    );
  }
}
