import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { AppConfig } from '../config/app-config';
import { sentBearer } from './admin.guard';

/**
 * Uploads are open to anyone, as in the course, until security.writeToken is set; then they need
 * `Authorization: Bearer <writeToken>` (or the admin token). A guard, so a refused upload's body
 * is never read.
 */
@Injectable()
export class WriteGuard implements CanActivate {
  constructor(private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const { writeToken, adminToken } = this.config.security;
    if (!writeToken) return true;
    const req = context.switchToHttp().getRequest<Request>();
    if (sentBearer(req, writeToken) || (adminToken && sentBearer(req, adminToken))) return true;
    throw new UnauthorizedException(
      'write token required: Authorization: Bearer <security.writeToken>',
    );
  }
}
