import { randomUUID } from 'node:crypto';

/**
 * Object names: lower-case letters, digits, "-" and "_", 2 to 128 characters. No "/" or "."
 * means a name can never climb out of the store's folder or collide with the store's hidden
 * temp files; no upper case means two names never fold into one file on a case-insensitive disk.
 */
export const OBJECT_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{1,127}$/;

export class InvalidObjectNameError extends Error {
  constructor(name: string) {
    super(
      `invalid object name ${JSON.stringify(name.slice(0, 140))}: expected ${OBJECT_NAME_PATTERN}`,
    );
  }
}

/**
 * A fresh random name (32 hex digits). Random, not a content hash: two keys may hold the same
 * bytes, and the object of an overwritten key is deleted, which must not take the other key's
 * image with it.
 */
export function newObjectName(): string {
  return randomUUID().replace(/-/g, '');
}

export function isValidObjectName(name: string): boolean {
  return OBJECT_NAME_PATTERN.test(name);
}

export function assertValidObjectName(name: string): void {
  if (typeof name !== 'string' || !OBJECT_NAME_PATTERN.test(name)) {
    throw new InvalidObjectNameError(String(name));
  }
}
