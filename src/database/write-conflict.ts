import { QueryFailedError } from 'typeorm';

interface DriverError {
  code?: string;
  errno?: number;
  message?: string;
}

/**
 * Errors a transaction may hit only because another one raced it, and that succeed when the
 * transaction runs again: a duplicate primary key (two inserts of one new key), a deadlock
 * victim, a SQLite lock still held by another process after the busy timeout.
 */
export function isWriteConflict(err: unknown): boolean {
  const driverError = (
    err instanceof QueryFailedError ? err.driverError : err
  ) as DriverError | null;
  if (!driverError || typeof driverError !== 'object') return false;
  const { code = '', errno } = driverError;
  if (errno === 1213 || code === 'ER_LOCK_DEADLOCK') return true;
  // Only the primary key: a duplicate objectName would be a bug, and retrying would hide it.
  if (errno === 1062 || code === 'ER_DUP_ENTRY')
    return /for key '(\w+\.)?PRIMARY'/.test(driverError.message ?? '');
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code.startsWith('SQLITE_BUSY');
}
