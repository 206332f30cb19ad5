import {
  CallHandler,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { Request } from 'express';
import { Observable } from 'rxjs';

/** Uploads are multipart only: a JSON or form body would otherwise reach the handler without a file. */
@Injectable()
export class RequireMultipartInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request>();
    if (!req.is('multipart/form-data')) {
      throw new UnsupportedMediaTypeException(
        `upload must be multipart/form-data with fields "key" and "file" (got ${req.headers['content-type'] ?? 'no content type'})`,
      );
    }
    return next.handle();
  }
}
