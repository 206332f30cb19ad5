import { DependencyGuard } from '../common/dependency-guard';
import {
  DeletedRows,
  ImageRecord,
  ImageTable,
  KeyPage,
  UpsertImageInput,
  UpsertImageResult,
} from './image-table';

/** Deleting every row may take a while on a big table: it gets this many deadlines. */
const BULK_DEADLINE_FACTOR = 20;

/**
 * The key table the app uses: every call goes through the database guard (deadline + circuit
 * breaker, see DependencyGuard), so a stalled or refusing database answers
 * DependencyUnavailableError within resilience.databaseTimeoutMs instead of hanging.
 */
export class GuardedImageTable implements ImageTable {
  constructor(
    private readonly inner: ImageTable,
    readonly guard: DependencyGuard,
  ) {}

  find(key: string): Promise<ImageRecord | null> {
    return this.guard.run('find', () => this.inner.find(key));
  }

  upsert(input: UpsertImageInput): Promise<UpsertImageResult> {
    return this.guard.run('upsert', () => this.inner.upsert(input));
  }

  referencedObjectNames(objectNames: string[]): Promise<Set<string>> {
    return this.guard.run('find objects', () => this.inner.referencedObjectNames(objectNames));
  }

  listKeys(page?: KeyPage): Promise<string[]> {
    return this.guard.run('list keys', () => this.inner.listKeys(page));
  }

  totalBytes(): Promise<number> {
    return this.guard.run('total bytes', () => this.inner.totalBytes());
  }

  deleteAll(): Promise<DeletedRows> {
    return this.guard.run('delete all', () => this.inner.deleteAll(), BULK_DEADLINE_FACTOR);
  }

  count(): Promise<number> {
    return this.guard.run('count', () => this.inner.count());
  }

  ping(): Promise<void> {
    return this.guard.run('ping', () => this.inner.ping());
  }
}
