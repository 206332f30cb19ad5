import { ArgumentsHost, ConflictException, Logger } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { CourseExceptionFilter } from '../../../src/common/course-exception.filter';
import { DependencyUnavailableError } from '../../../src/common/dependency-unavailable.error';

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
        error: { code: 503, message: 'database unavailable' },
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

describe('exception filter: what a 503 tells the client', () => {
  it('names the dependency only; addresses, hosts and paths stay in the log', () => {
    const logged: string[] = [];
    const spy = jest
      .spyOn(Logger.prototype, 'warn')
      .mockImplementation((line: unknown) => void logged.push(String(line)));
    try {
      const reason =
        'get: connect ECONNREFUSED 10.0.3.7:9000 (pixpool-prod.s3.internal, /srv/data)';
      const got = answer(new DependencyUnavailableError('storage', reason, 3));
      expect(got.status).toBe(503);
      expect(got.headers['retry-after']).toBe('3');
      expect(got.body).toEqual({
        success: 'false',
        error: { code: 503, message: 'storage unavailable' },
      });
      expect(logged.join('\n')).toContain(reason);
    } finally {
      spy.mockRestore();
    }
  });
});
