import { eventually as waitFor } from '../../../support/eventually';

/** A promise settled from outside, to hold work open while a test acts. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: Error): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Polls `check` until it holds (or fails after `timeoutMs`): for work the subject runs in the background. */
export function eventually(check: () => boolean, timeoutMs = 3000): Promise<void> {
  return waitFor('a condition', check, timeoutMs);
}
