import {
  applyDecorators,
  CanActivate,
  ExecutionContext,
  HttpException,
  HttpStatus,
  Injectable,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { AppConfig } from '../../config/app-config';
import { TokenBuckets } from './token-buckets';

export type RateLimitedAction = 'uploads' | 'listings';
const RATE_LIMITED = 'pixpool:rate-limited';

/** This route takes a token from the caller's bucket for `action` (rateLimits.* in the config). */
export const RateLimited = (action: RateLimitedAction) =>
  applyDecorators(SetMetadata(RATE_LIMITED, action), UseGuards(RateLimitGuard));

/**
 * Per-client rate limits on uploads and listings: 429 with Retry-After once a client's burst is
 * spent. Runs as a guard, so a refused upload's body is never read. The client is the request's
 * address (req.ip: the X-Forwarded-For entry of a proxy trusted by server.trustProxy, else the
 * peer). One instance for the app (provided by the module that owns the routes), so the buckets
 * are the app's; each app instance counts its own.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly buckets: Record<RateLimitedAction, TokenBuckets | null>;

  constructor(
    config: AppConfig,
    private readonly reflector: Reflector,
  ) {
    const r = config.rateLimits;
    const buckets = (perMinute: number, burst: number) =>
      perMinute > 0 ? new TokenBuckets(perMinute, burst, r.maxClients) : null;
    this.buckets = {
      uploads: buckets(r.uploadsPerMinute, r.uploadBurst),
      listings: buckets(r.listingsPerMinute, r.listingBurst),
    };
  }

  canActivate(context: ExecutionContext): boolean {
    const action = this.reflector.get<RateLimitedAction>(RATE_LIMITED, context.getHandler());
    const buckets = this.buckets[action];
    if (!buckets) return true;
    const req = context.switchToHttp().getRequest<Request>();
    const taken = buckets.take(req.ip ?? req.socket.remoteAddress ?? 'unknown');
    if (taken.ok) return true;
    const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
    context.switchToHttp().getResponse<Response>().setHeader('Retry-After', String(seconds));
    throw new HttpException(
      `too many ${action} from this client (rateLimits.${action}PerMinute); retry in ${seconds} s`,
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
