import { DependencyGuard } from '../common/dependency-guard';
import { BlobStore, StoredObject } from './blob-store';

/** Bulk operations go page by page or batch by batch: they get this many deadlines. */
const BULK_DEADLINE_FACTOR = 20;

/**
 * The blob store the app uses: every call to the adapter goes through the storage guard
 * (deadline + circuit breaker, see DependencyGuard), so a stalled or refusing S3 answers
 * DependencyUnavailableError within resilience.storageTimeoutMs instead of hanging.
 */
export class GuardedBlobStore implements BlobStore {
  constructor(
    private readonly inner: BlobStore,
    readonly guard: DependencyGuard,
  ) {}

  put(name: string, body: Buffer, contentType: string): Promise<void> {
    return this.guard.run('put', (signal) => this.inner.put(name, body, contentType, signal));
  }

  get(name: string): Promise<Buffer | null> {
    return this.guard.run('get', (signal) => this.inner.get(name, signal));
  }

  delete(name: string): Promise<void> {
    return this.guard.run('delete', (signal) => this.inner.delete(name, signal));
  }

  async *list(namePrefix?: string): AsyncIterable<StoredObject[]> {
    const pages = this.inner.list(namePrefix)[Symbol.asyncIterator]();
    for (;;) {
      const next = await this.guard.run('list', () => pages.next());
      if (next.done) return;
      yield next.value;
    }
  }

  deleteMany(names: readonly string[]): Promise<void> {
    return this.guard.run('delete many', () => this.inner.deleteMany(names), BULK_DEADLINE_FACTOR);
  }

  ping(): Promise<void> {
    return this.guard.run('ping', () => this.inner.ping());
  }
}
