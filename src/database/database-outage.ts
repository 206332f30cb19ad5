import { SOCKET_FAILURE_CODES } from '../common/socket-failures';

/** Driver codes that say the server is down, unreachable, overloaded or dropped us. */
const OUTAGE_CODES = new Set([
  ...SOCKET_FAILURE_CODES,
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_LOCK_WAIT_TIMEOUT',
  'SQLITE_BUSY',
  'SQLITE_IOERR',
]);
/** mysql2 says these in messages only. */
const OUTAGE_MESSAGES = /Queue limit reached|Pool is closed|connect ETIMEDOUT|Connection lost/i;

/**
 * Whether a database error means "the database is unavailable, try later" (503) rather than a
 * bug or a bad statement (500). Looks through TypeORM's QueryFailedError (driverError) and
 * wrapping errors (cause).
 */
export function isDatabaseOutage(err: unknown): boolean {
  const seen: unknown[] = [err];
  for (let i = 0; i < seen.length && i < 8; i++) {
    const e = seen[i] as { code?: unknown; fatal?: unknown; message?: unknown } | null;
    if (!e || typeof e !== 'object') continue;
    if (typeof e.code === 'string' && OUTAGE_CODES.has(e.code)) return true;
    if (e.fatal === true) return true; // mysql2: the connection is unusable
    if (typeof e.message === 'string' && OUTAGE_MESSAGES.test(e.message)) return true;
    seen.push((e as { driverError?: unknown }).driverError, (e as { cause?: unknown }).cause);
  }
  return false;
}
