/** Injection token of the BlobStore port. */
export const BLOB_STORE = Symbol('BlobStore');

/**
 * Where image bytes live, by object name. Names come from newObjectName(), never from a client,
 * so an adapter may refuse anything outside that alphabet (see object-name.ts).
 */
export interface BlobStore {
  /** Stores the object whole: a reader sees the old bytes or the new ones, never a part. */
  put(name: string, body: Buffer, contentType: string): Promise<void>;
  /** The object's bytes, or null when there is none. */
  get(name: string): Promise<Buffer | null>;
  /** Removes the object; removing an absent one is not an error. */
  delete(name: string): Promise<void>;
  /** Removes every object of this store; returns how many there were. */
  deleteAll(): Promise<number>;
  /** Health check: resolves when the store is usable, throws a message saying why not. */
  ping(): Promise<void>;
}

// Callers that make objects need the names together with the port.
export { InvalidObjectNameError, newObjectName } from './object-name';
