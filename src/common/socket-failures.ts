/**
 * Error codes of a socket that could not reach its server or lost it: down, unreachable, refused
 * or dropped. Shared by the outage classifiers of the stores (storage-outage.ts,
 * database-outage.ts), which add codes of their own.
 */
export const SOCKET_FAILURE_CODES: readonly string[] = [
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
];
