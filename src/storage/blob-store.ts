/** Injection token of the BlobStore port. */
export const BLOB_STORE = Symbol('BlobStore');

/** An object as a listing shows it. */
export interface StoredObject {
  name: string;
  modifiedAt: Date;
}

/**
 * Where image bytes live, by object name. Names come from newObjectName(), never from a client,
 * so an adapter may refuse anything outside that alphabet (see object-name.ts).
 *
 * Failure: the store the app injects is a GuardedBlobStore, so every call ends within
 * resilience.storageTimeoutMs, and an outage (timeout, refused or dropped connection, S3 5xx,
 * breaker open) surfaces as DependencyUnavailableError, answered 503 + Retry-After. `signal`
 * fires at that deadline; adapters that can cancel their I/O pass it on.
 */
export interface BlobStore {
  /** Stores the object whole: a reader sees the old bytes or the new ones, never a part. */
  put(name: string, body: Buffer, contentType: string, signal?: AbortSignal): Promise<void>;
  /** The object's bytes, or null when there is none. */
  get(name: string, signal?: AbortSignal): Promise<Buffer | null>;
  /** Removes the object; removing an absent one is not an error. */
  delete(name: string, signal?: AbortSignal): Promise<void>;
  /** Every object of this store (only valid object names) whose name starts with `namePrefix`, page by page. */
  list(namePrefix?: string): AsyncIterable<StoredObject[]>;
  /**
   * Removes exactly these objects (absent ones are no error), in as few calls as the store
   * allows. There is deliberately no "delete everything": an object is deleted only by whoever
   * took the row that named it (clear-data.service.ts), or by the orphan sweeper after its grace.
   */
  deleteMany(names: readonly string[]): Promise<void>;
  /** Health check: resolves when the store is usable, throws a message saying why not. */
  ping(): Promise<void>;
}

// Callers that make objects need the names together with the port.
export { InvalidObjectNameError, newObjectName } from './object-name';
