import {
  CanActivate,
  ExecutionContext,
  Injectable,
  UnauthorizedException,
  ForbiddenException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { timingSafeEqual } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { COURSE_TESTER_ROUTE } from './admin-only.decorator';

/**
 * Manager, notify and pool endpoints are not public. With security.adminToken set they need
 * `Authorization: Bearer <token>`; with none set they answer loopback callers only (while
 * security.trustLoopback allows it), so a fresh install is not an open control panel. Course
 * tester routes may be opened to everyone by security.openCourseEndpoints, since course test
 * clients send no token.
 *
 * Loopback is not a credential behind a proxy: nginx or Caddy terminating TLS on this host
 * connects from 127.0.0.1 for every client on the internet. A request that carries a forwarding
 * header was relayed for someone else, so it never counts as a loopback caller.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(
    private readonly config: AppConfig,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const isCourseRoute = this.reflector.getAllAndOverride<boolean>(COURSE_TESTER_ROUTE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isCourseRoute && this.config.security.openCourseEndpoints) return true;
    if (isAdminCaller(req, this.config)) return true;
    if (this.config.security.adminToken) {
      throw new UnauthorizedException(
        'admin token required: Authorization: Bearer <security.adminToken>',
      );
    }
    throw new ForbiddenException(refusalWithoutToken(req, this.config));
  }
}

/** Headers a reverse proxy adds when it relays a request for another client. */
export const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'] as const;

/**
 * The caller sent the admin token; or none is configured, security.trustLoopback is on, and the
 * caller is on loopback and not relaying for anyone else.
 */
export function isAdminCaller(req: Request, config: AppConfig): boolean {
  const token = config.security.adminToken;
  if (token) return sentBearer(req, token);
  return (
    config.security.trustLoopback &&
    isLoopback(req.socket.remoteAddress) &&
    forwardingHeader(req) === undefined
  );
}

/** `Authorization: Bearer <token>` with exactly this token (compared in constant time). */
export function sentBearer(req: Request, token: string): boolean {
  const sent = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  return sent !== undefined && safeEqual(sent, token);
}

/** The first forwarding header the request carries, if any. */
export function forwardingHeader(req: Request): string | undefined {
  return FORWARDING_HEADERS.find((name) => req.headers[name] !== undefined);
}

/** Who counts as admin under this config, for the start-up log. */
export function describeAdminAccess(config: AppConfig): string {
  if (config.security.adminToken) {
    return 'admin routes need the admin token (Authorization: Bearer <security.adminToken>)';
  }
  if (!config.security.trustLoopback) {
    return 'no security.adminToken and security.trustLoopback is off: admin routes answer nobody';
  }
  return (
    'no security.adminToken: admin routes answer loopback callers whose request carries no ' +
    'forwarding header (Forwarded, X-Forwarded-For, X-Real-IP), as security.trustLoopback allows; ' +
    'a reverse proxy on this host must send X-Forwarded-For, or set a token'
  );
}

function refusalWithoutToken(req: Request, config: AppConfig): string {
  if (!config.security.trustLoopback) {
    return 'no admin credential is configured (security.adminToken) and security.trustLoopback is off';
  }
  const forwarded = forwardingHeader(req);
  if (forwarded && isLoopback(req.socket.remoteAddress)) {
    return (
      `this request was forwarded by a proxy (${forwarded}): loopback counts as admin only for ` +
      'requests no proxy relayed; set security.adminToken'
    );
  }
  return 'this endpoint answers loopback callers only until security.adminToken is set';
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
