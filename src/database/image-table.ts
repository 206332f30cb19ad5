/** Injection token of the ImageTable port. */
export const IMAGE_TABLE = Symbol('ImageTable');

/** One key of the cache and the stored object that holds its image. */
export interface ImageRecord {
  key: string;
  objectName: string;
  contentType: string;
  byteSize: number;
  /** sha256 of the bytes, hex. */
  checksum: string;
  /**
   * Orders commits: a write that commits after another has a higher version, whatever key, across
   * deletes and instances (from the database's version counter, never a clock).
   */
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export type UpsertImageInput = Pick<
  ImageRecord,
  'key' | 'objectName' | 'contentType' | 'byteSize' | 'checksum'
>;

export interface UpsertImageResult {
  record: ImageRecord;
  /** The object the key pointed at before, now orphaned: the caller deletes it. */
  replacedObjectName: string | null;
  /**
   * The outbox record committed with the row (src/coordination/outbox.ts): the caller acks it
   * once the cache has been told of `record.version`.
   */
  pendingInvalidationId: number;
}

export interface DeletedRows {
  /** The objects of exactly the rows deleted: the caller deletes them. */
  objectNames: string[];
  /** Above every deleted row's version, below every later write's (the clear's version). */
  version: number;
}

/**
 * The key → object mapping: the truth the cache nodes copy.
 *
 * Failure: the table the app injects is a GuardedImageTable, so every call ends within
 * resilience.databaseTimeoutMs, and an outage (timeout, refused or lost connection, full pool
 * queue, breaker open) surfaces as DependencyUnavailableError, answered 503 + Retry-After. A
 * write that times out has an unknown outcome: it may still commit (see outbox.ts).
 */
export interface KeyPage {
  after?: string;
  limit?: number;
}

export interface ImageTable {
  find(key: string): Promise<ImageRecord | null>;
  /**
   * Insert or replace in one transaction, which takes the next version from the database's
   * counter (src/database/version-counter.ts), so a key re-created after a delete still gets a
   * higher version than any cached copy or tombstone of its former life (the cache nodes refuse
   * writes older than what they saw). Concurrent upserts serialise: each sees the one before it
   * as replaced.
   * The same transaction records the pending invalidation of (key, version) in the outbox.
   */
  upsert(input: UpsertImageInput): Promise<UpsertImageResult>;
  /** Of `objectNames`, those a row names (the orphan sweeper keeps them). */
  referencedObjectNames(objectNames: string[]): Promise<Set<string>>;
  /**
   * Keys in code point order (byte order of UTF-8) on every driver: all of them, or at most
   * `page.limit` of those after `page.after` (a cursor: the last key of the previous page).
   */
  listKeys(page?: KeyPage): Promise<string[]>;
  /** Sum of the stored images' sizes, in bytes (the storage quota counts against it). */
  totalBytes(): Promise<number>;
  /**
   * Deletes every row in one transaction that takes a version of its own: every row it deleted
   * had a lower one, every write committed after it gets a higher one.
   */
  deleteAll(): Promise<DeletedRows>;
  count(): Promise<number>;
  /** Health check: resolves when the database answers, throws a message saying why not. */
  ping(): Promise<void>;
}
