import { Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describeException, detailOf, retryAfterOf } from '../common/course-exception.filter';
import { failure } from '../common/course-response';
import { HttpMetricsInterceptor } from '../metrics/prometheus/http-metrics.interceptor';
import { ImageService } from './image.service';
import { ImageAnswer, ImageUrlService } from './image-url.service';
import { REVALIDATE, sendImage } from '../image/image-response';
import { NearCacheService } from '../near-cache/near-cache.service';
import { sendNear } from '../near-cache/near-response';
import { ResponseBudget } from '../common/response-budget';

const PREFIX = '/images/';

/**
 * GET /images/:key answered straight from node:http, before Express and Nest: it is the hot path
 * (a cache hit is one hop to a node), and the framework's routing, pipes and interceptors cost
 * more per request than the hit itself. Same answers as the Nest route, which stays for OpenAPI
 * and for what this declines (other methods, odd paths).
 */
@Injectable()
export class ImageFastPath {
  private readonly logger = new Logger('HTTP');

  constructor(
    private readonly images: ImageService,
    private readonly metrics: HttpMetricsInterceptor,
    private readonly near: NearCacheService,
    private readonly budget: ResponseBudget,
    private readonly urls: ImageUrlService,
  ) {}

  /** Takes the request if it is an image read; false leaves it to Express. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const method = req.method;
    const url = req.url ?? '';
    if ((method !== 'GET' && method !== 'HEAD') || !url.startsWith(PREFIX)) return false;
    const query = url.indexOf('?');
    const segment = url.slice(PREFIX.length, query === -1 ? undefined : query);
    if (segment.length === 0 || segment.includes('/')) return false;
    let key: string;
    try {
      key = decodeURIComponent(segment);
    } catch {
      return false; // malformed escape: Express answers it
    }
    this.metrics.time(method, '/images/:key', res);
    if (query !== -1 && query < url.length - 1) {
      const [path, rawQuery] = [url.slice(0, query), url.slice(query + 1)];
      const accept = req.headers.accept;
      const hot = this.urls.nearVariant(key, path, rawQuery, accept);
      if (hot) {
        sendNear(res, hot, req.headers['if-none-match'], method === 'HEAD');
        return true;
      }
      this.answer(req, res, this.urls.read(key, path, rawQuery, accept));
      return true;
    }
    // A near hit needs no Promise: answered from this process's memory (src/near-cache).
    const near = this.near.lookup(key);
    if (near) {
      sendNear(res, near, req.headers['if-none-match'], method === 'HEAD');
      return true;
    }
    // Errors thrown while sending (a header value a node made up, a socket gone) are caught too:
    // a rejection nobody handles would end the process.
    const conditional = method === 'HEAD' || req.headers['if-none-match'] !== undefined;
    const read = Promise.resolve().then(() => {
      // A key known to be large is refused before its bytes are fetched when the budget is full.
      if (!conditional) this.budget.refuseEarly(key);
      return this.images.get(key);
    });
    this.answer(
      req,
      res,
      read.then((image) => ({ image, cacheControl: REVALIDATE })),
    );
    return true;
  }

  private answer(req: IncomingMessage, res: ServerResponse, answer: Promise<ImageAnswer>): void {
    const headOnly = req.method === 'HEAD';
    answer
      .then(({ image, cacheControl }) =>
        sendImage(res, image, req.headers['if-none-match'], headOnly, this.budget, cacheControl),
      )
      .catch((err: unknown) => this.fail(req, res, err))
      .catch((err: unknown) => {
        this.logger.error(`${req.method} ${req.url}: could not answer: ${String(err)}`);
        res.destroy();
      });
  }

  private fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    const { status, message } = describeException(err);
    const retryAfter = retryAfterOf(err);
    if (retryAfter !== null) this.logger.warn(`${req.method} ${req.url}: ${detailOf(err)}`);
    else if (status >= 500)
      this.logger.error(`${req.method} ${req.url}: ${(err as Error).stack ?? err}`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = JSON.stringify(failure(status, message));
    res.statusCode = status;
    if (retryAfter !== null) res.setHeader('Retry-After', String(retryAfter));
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end(body);
  }
}
