import type { RequestHandler } from 'express';
import helmet from 'helmet';

/** Swagger UI's page (served by @nestjs/swagger) carries its CSS inline; its scripts are files. */
const DOCS_PREFIX = '/api/docs';

/**
 * Headers of every answer Express sends (pages, JSON, assets; image reads on the fast path carry
 * their own sandbox policy): scripts only from this origin and never inline, no framing
 * (clickjacking of the dashboard's buttons), no MIME sniffing, no Referer leaking keys to other
 * sites. Strict-Transport-Security only when TLS is terminated in front (security.tlsInFront):
 * over plain HTTP the header would be ignored, and on a name that also serves plain HTTP it
 * would lock browsers out. Cross-Origin-Resource-Policy stays unset: images are meant to be
 * embedded by other sites.
 */
export function securityHeaders(tlsInFront: boolean): RequestHandler {
  const strict = pageHeaders(tlsInFront, ["'self'"]);
  const docs = pageHeaders(tlsInFront, ["'self'", "'unsafe-inline'"]);
  return (req, res, next) => (req.path.startsWith(DOCS_PREFIX) ? docs : strict)(req, res, next);
}

function pageHeaders(tlsInFront: boolean, styleSrc: string[]): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc,
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    crossOriginResourcePolicy: false,
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: tlsInFront
      ? { maxAge: 365 * 24 * 3600, includeSubDomains: false }
      : false,
  });
}
