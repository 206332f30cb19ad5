import { ServiceUnavailableException } from '@nestjs/common';

/**
 * The app itself has no room for this request right now (upload slots, bytes queued for slow
 * readers, a full transform queue): 503 with Retry-After in the course failure shape, before anything is read or written.
 */
export class ServiceBusyError extends ServiceUnavailableException {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}
