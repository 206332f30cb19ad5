import {
  CallHandler,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { Response } from 'express';
import { Observable } from 'rxjs';
import { AppConfig } from '../config/app-config';

/** Seconds a refused uploader is told to wait: uploads of a few MiB finish within it. */
const RETRY_AFTER_S = 1;

/**
 * At most limits.maxConcurrentUploads uploads are read into memory at once (each can hold up to
 * server.uploadLimitBytes): one more is refused with 503 and Retry-After before a byte of its
 * body is read, so memory stays bounded however many clients upload. A slot is held until the
 * response is done or the connection is gone, whichever comes first. Runs before multer.
 */
@Injectable()
export class UploadSlotsInterceptor implements NestInterceptor {
  private inFlight = 0;

  constructor(private readonly config: AppConfig) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const res = context.switchToHttp().getResponse<Response>();
    const max = this.config.limits.maxConcurrentUploads;
    if (this.inFlight >= max) {
      res.setHeader('Retry-After', String(RETRY_AFTER_S));
      throw new ServiceUnavailableException(
        `too many uploads in progress (${max} at once); retry in ${RETRY_AFTER_S} s`,
      );
    }
    this.inFlight++;
    res.once('close', () => this.inFlight--);
    return next.handle();
  }
}
