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
 * A fresh name: the upload's hour (UTC, `yyyymmddhh-`) and 32 random hex digits. Random, not a
 * content hash: two keys may hold the same bytes, and the object of an overwritten key is
 * deleted, which must not take the other key's image with it. The hour first lets the orphan
 * sweeper list only recent objects (a prefix per hour), whatever the store holds in all.
 */
export function newObjectName(now: Date = new Date()): string {
  return hourPrefix(now) + randomUUID().replace(/-/g, '');
}

/** The name prefix of objects uploaded in `at`'s hour (UTC). */
export function hourPrefix(at: Date): string {
  return `${at.toISOString().slice(0, 13).replace(/[-T]/g, '')}-`;
}

/** `yyyymmddhh-…`: names made since names carry their hour (older ones are 32 hex digits). */
export const HOURLY_NAME_PATTERN = /^([0-9]{10})-/;

export function isValidObjectName(name: string): boolean {
  return OBJECT_NAME_PATTERN.test(name);
}

export function assertValidObjectName(name: string): void {
  if (typeof name !== 'string' || !OBJECT_NAME_PATTERN.test(name)) {
    throw new InvalidObjectNameError(String(name));
  }
}
