import type { NodeErrorCode } from '../../protocol/cache-node.protocol';

/**
 * The node could not be reached, or did not answer in time. The app treats this as "node down":
 * serve from storage and report the node unhealthy.
 */
export class CacheNodeUnavailableError extends Error {
  override readonly name = 'CacheNodeUnavailableError';
  constructor(
    readonly url: string,
    override readonly cause: Error,
  ) {
    super(`cache node ${url} is unavailable: ${cause.message}`);
  }
}

/** The node answered, but not as the protocol allows for this call (bad input, auth, a bug). */
export class CacheNodeRequestError extends Error {
  override readonly name = 'CacheNodeRequestError';
  constructor(
    readonly url: string,
    readonly status: number,
    /** The node's `error` code, when its body had one. */
    readonly code: NodeErrorCode | undefined,
    detail: string,
  ) {
    super(`cache node ${url} answered ${status}${code ? ` ${code}` : ''}: ${detail}`);
  }
}
