import { ServiceUnavailableException } from '@nestjs/common';

/** This process has no room for the work now (a bounded queue is full): 503 with Retry-After. */
export class OverloadedException extends ServiceUnavailableException {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}
