import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { failure } from './course-response';
import { allowedMethods } from './allowed-methods';
import { DependencyUnavailableError } from './dependency-unavailable.error';
import { ServiceBusyError } from './service-busy.error';
import { isDatabaseOutage } from '../database/database-outage';

/**
 * Every error leaves the app in the course's failure shape with its HTTP status. A dependency
 * outage (DependencyUnavailableError) is 503 with Retry-After. Errors we did not anticipate are
 * logged with their stack and answered 500 without internals.
 */
@Catch()
export class CourseExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  /** @param retryAfterSeconds for outages seen only here (resilience.retryAfterSeconds). */
  constructor(private readonly retryAfterSeconds = 5) {}

  catch(raw: unknown, host: ArgumentsHost): void {
    const exception = asOutage(raw, this.retryAfterSeconds);
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    let { status, message } = describeException(exception);
    const retryAfter = retryAfterOf(exception);
    if (retryAfter !== null && !res.headersSent) res.setHeader('Retry-After', String(retryAfter));
    if (status === HttpStatus.NOT_FOUND && isRouteMiss(exception)) {
      const allow = allowedMethods(req);
      if (allow.length > 0) {
        status = HttpStatus.METHOD_NOT_ALLOWED;
        message = `${req.method} is not allowed on ${req.path}; use ${allow.join(', ')}`;
        res.setHeader('Allow', allow.join(', '));
      }
    }
    if (retryAfter !== null) {
      // An outage is expected and answered; one line, not a stack per request. The line has the
      // detail (addresses, hosts, paths) the client's message leaves out.
      this.logger.warn(`${req.method} ${req.originalUrl}: ${detailOf(exception)}`);
    } else if (status >= 500) {
      this.logger.error(`${req.method} ${req.originalUrl}: ${stackOf(exception)}`);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(status).json(failure(status, message));
  }
}

/**
 * The image and upload paths reach the database through its guard, which types an outage; the
 * manager's settings, statistics and pool-state routes use the DataSource directly. A driver error
 * that says the database is unreachable or overloaded is an outage there too: 503, not 500.
 */
function asOutage(exception: unknown, retryAfterSeconds: number): unknown {
  if (exception instanceof HttpException || exception instanceof DependencyUnavailableError) {
    return exception;
  }
  if (!isDatabaseOutage(exception)) return exception;
  return new DependencyUnavailableError('database', 'no usable connection', retryAfterSeconds, {
    cause: exception,
  });
}

/**
 * The HTTP status and message an error is answered with: 500 hides internals, and a dependency
 * outage names the dependency only ("storage unavailable"); its reason carries addresses, bucket
 * hosts and data paths, which go to the log (detailOf).
 */
export function describeException(exception: unknown): { status: number; message: string } {
  if (exception instanceof DependencyUnavailableError) {
    return {
      status: HttpStatus.SERVICE_UNAVAILABLE,
      message: `${exception.dependency} unavailable`,
    };
  }
  if (exception instanceof HttpException) {
    return { status: exception.getStatus(), message: messageOf(exception.getResponse()) };
  }
  // Errors raised by Express's body parsers carry a status (400 bad JSON, 413 too large, 415 charset).
  const status = (exception as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, message: (exception as Error).message };
  }
  return { status: HttpStatus.INTERNAL_SERVER_ERROR, message: 'internal error' };
}

/** What the log says about an error the client got a short message for. */
export function detailOf(exception: unknown): string {
  return exception instanceof Error ? exception.message : String(exception);
}

/** Seconds a client should wait before retrying (a dependency outage, the app busy), else null. */
export function retryAfterOf(exception: unknown): number | null {
  return exception instanceof DependencyUnavailableError || exception instanceof ServiceBusyError
    ? exception.retryAfterSeconds
    : null;
}

function messageOf(response: string | object): string {
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  if (typeof message === 'string') return message;
  return 'request failed';
}

/** Nest answers an unknown route with "Cannot GET /x"; other 404s (unknown key) are real. */
function isRouteMiss(exception: unknown): boolean {
  return (
    exception instanceof HttpException && /^Cannot [A-Z]+ /.test(messageOf(exception.getResponse()))
  );
}

function stackOf(exception: unknown): string {
  return exception instanceof Error ? (exception.stack ?? exception.message) : String(exception);
}
