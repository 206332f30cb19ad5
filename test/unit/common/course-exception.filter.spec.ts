import { ArgumentsHost, ConflictException } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { CourseExceptionFilter } from '../../../src/common/course-exception.filter';

interface Answer {
  status?: number;
  body?: unknown;
  headers: Record<string, string>;
}

/** Runs the filter on `error` as if a GET /api/manager/settings had thrown it. */
function answer(error: unknown): Answer {
  const out: Answer = { headers: {} };
  const res = {
    headersSent: false,
    setHeader: (name: string, value: string) => (out.headers[name.toLowerCase()] = value),
    status(code: number) {
      out.status = code;
      return this;
    },
    json: (body: unknown) => (out.body = body),
  };
  const req = {
    method: 'GET',
    path: '/api/manager/settings',
    originalUrl: '/api/manager/settings',
  };
  const host = {
    switchToHttp: () => ({ getResponse: () => res, getRequest: () => req }),
  } as unknown as ArgumentsHost;
  new CourseExceptionFilter(7).catch(error, host);
  return out;
}

/** What TypeORM throws when mysql2 could not reach the server. */
function driverError(code: string): QueryFailedError {
  const cause = Object.assign(new Error(`connect ${code}`), { code });
  return new QueryFailedError('SELECT 1', [], cause);
}

describe('exception filter: database errors outside the guarded paths', () => {
  it.each(['ECONNREFUSED', 'PROTOCOL_CONNECTION_LOST', 'ER_CON_COUNT_ERROR'])(
    '%s is an outage: 503 with Retry-After, in the failure shape',
    (code) => {
      const got = answer(driverError(code));
      expect(got.status).toBe(503);
      expect(got.headers['retry-after']).toBe('7');
      expect(got.body).toEqual({
        success: 'false',
        error: { code: 503, message: 'database unavailable: no usable connection' },
      });
    },
  );

  it('a bad statement stays a 500 that hides internals', () => {
    const got = answer(driverError('ER_PARSE_ERROR'));
    expect(got.status).toBe(500);
    expect(got.headers['retry-after']).toBeUndefined();
    expect(got.body).toEqual({ success: 'false', error: { code: 500, message: 'internal error' } });
  });

  it('HTTP exceptions keep their status', () => {
    expect(answer(new ConflictException('busy')).status).toBe(409);
  });
});
