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
 * `Authorization: Bearer <token>`; with none set they answer loopback callers only, so a
 * fresh install is not an open control panel. Course tester routes may be opened to everyone by
 * security.openCourseEndpoints, since course test clients send no token.
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
    throw new ForbiddenException(
      'this endpoint answers loopback callers only until security.adminToken is set',
    );
  }
}

/** The caller sent the admin token, or none is configured and the caller is on loopback. */
export function isAdminCaller(req: Request, config: AppConfig): boolean {
  const token = config.security.adminToken;
  if (token) {
    const sent = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    return sent !== undefined && safeEqual(sent, token);
  }
  return isLoopback(req.socket.remoteAddress);
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
