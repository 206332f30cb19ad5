import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Observable } from 'rxjs';
import { AppConfig } from '../config/app-config';
import { failure } from '../common/course-response';
import { ServiceBusyError } from '../common/service-busy.error';

/** Seconds a refused uploader is told to wait: uploads of a few MiB finish within it. */
const RETRY_AFTER_S = 1;
/** How often an upload's body rate is checked once its grace is over. */
const RATE_CHECK_MS = 1000;

/**
 * At most limits.maxConcurrentUploads uploads are read into memory at once (each can hold up to
 * server.uploadLimitBytes), and at most limits.maxUploadsPerClient of them for one client
 * address: one more is refused with 503 and Retry-After before a byte of its body is read, so
 * memory stays bounded however many clients upload, and one client cannot take every slot.
 * A slot is held until the response is done or the connection is gone, whichever comes first.
 * An upload whose body arrives slower than limits.minUploadBytesPerSecond on average, once
 * limits.uploadRateGraceMs have passed, is answered 408 and its connection closed: trickling
 * a byte a second cannot keep a slot for the whole request timeout. Runs before multer.
 */
@Injectable()
export class UploadSlotsInterceptor implements NestInterceptor {
  private inFlight = 0;
  private readonly perClient = new Map<string, number>();

  constructor(private readonly config: AppConfig) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request>();
    const res = context.switchToHttp().getResponse<Response>();
    const { maxConcurrentUploads, maxUploadsPerClient } = this.config.limits;
    // req.ip: the client a proxy trusted by server.trustProxy names, else the connection's address
    // (as the rate limits count clients).
    const client = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const mine = this.perClient.get(client) ?? 0;
    if (this.inFlight >= maxConcurrentUploads) {
      this.refuse(`too many uploads in progress (${maxConcurrentUploads} at once)`);
    }
    if (mine >= maxUploadsPerClient) {
      this.refuse(`too many uploads in progress from this client (${maxUploadsPerClient})`);
    }
    this.inFlight++;
    this.perClient.set(client, mine + 1);
    const stopRateCheck = this.cutIfTooSlow(req, res);
    res.once('close', () => {
      this.inFlight--;
      const left = (this.perClient.get(client) ?? 1) - 1;
      if (left > 0) this.perClient.set(client, left);
      else this.perClient.delete(client);
      stopRateCheck();
    });
    return next.handle();
  }

  /** The exception filter answers it 503 with Retry-After. */
  private refuse(why: string): never {
    throw new ServiceBusyError(`${why}; retry in ${RETRY_AFTER_S} s`, RETRY_AFTER_S);
  }

  /** Checks the average body rate since the upload began; returns what stops the checks. */
  private cutIfTooSlow(req: Request, res: Response): () => void {
    const { minUploadBytesPerSecond, uploadRateGraceMs } = this.config.limits;
    const startedAt = Date.now();
    const bytesAtStart = req.socket.bytesRead;
    const timer = setInterval(() => {
      const elapsedMs = Date.now() - startedAt;
      if (req.complete || elapsedMs < uploadRateGraceMs) return;
      const rate = ((req.socket.bytesRead - bytesAtStart) * 1000) / elapsedMs;
      if (rate >= minUploadBytesPerSecond) return;
      clearInterval(timer);
      answerTooSlow(res, minUploadBytesPerSecond);
    }, RATE_CHECK_MS);
    timer.unref();
    return () => clearInterval(timer);
  }
}

/**
 * 408 in the failure shape, then the connection closes: the rest of the body is never read, and
 * multer's parse ends in an error nobody answers again (the filter sees the headers sent).
 */
function answerTooSlow(res: Response, minBytesPerSecond: number): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(
    failure(
      408,
      `upload body arriving slower than ${minBytesPerSecond} bytes/s ` +
        '(limits.minUploadBytesPerSecond); nothing was stored',
    ),
  );
  res.writeHead(408, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    Connection: 'close',
  });
  res.end(body, () => res.destroy());
}
