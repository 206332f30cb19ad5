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
  /** Rises with every write of the key, also across a delete and re-create (see upsert). */
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
}

/** The key → object mapping: the truth the cache nodes copy. */
export interface ImageTable {
  find(key: string): Promise<ImageRecord | null>;
  /**
   * Insert or replace in one transaction; assigns version = max(previous.version + 1, now in µs)
   * so versions rise per key and a key re-created after a delete still gets a higher version than
   * any cached tombstone of its former life (the cache nodes refuse writes older than what they
   * saw). Concurrent upserts of one key serialise: each sees the one before it as replaced.
   */
  upsert(input: UpsertImageInput): Promise<UpsertImageResult>;
  /** Every key, in code point order (byte order of UTF-8) on every driver. */
  listKeys(): Promise<string[]>;
  /** Deletes every row; returns the object names they referenced. */
  deleteAll(): Promise<string[]>;
  count(): Promise<number>;
  /** Health check: resolves when the database answers, throws a message saying why not. */
  ping(): Promise<void>;
}
