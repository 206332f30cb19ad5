import { S3ServiceException } from '@aws-sdk/client-s3';
import { SOCKET_FAILURE_CODES } from '../common/socket-failures';

/** The store is down, unreachable or dropped us; or the disk of the fs store failed. */
const NETWORK_CODES = new Set([...SOCKET_FAILURE_CODES, 'ECONNABORTED', 'EIO', 'ENOSPC']);
const TIMEOUT_NAMES = new Set([
  'TimeoutError',
  'AbortError',
  'RequestTimeout',
  'RequestAbortedError',
]);

/**
 * Whether a blob store error means "storage is unavailable, try later" (503) rather than a bug
 * or a setup error (a missing bucket, denied access: 500, loud in the log). Looks through the
 * adapters' wrapping errors (`cause`).
 */
export function isStorageOutage(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof S3ServiceException) {
      const status = e.$metadata?.httpStatusCode;
      return status === undefined || status >= 500 || e.name === 'SlowDown';
    }
    const { code, name } = e as { code?: unknown; name?: unknown };
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    if (typeof name === 'string' && TIMEOUT_NAMES.has(name)) return true;
  }
  return false;
}
