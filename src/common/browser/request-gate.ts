import type { IncomingMessage, ServerResponse } from 'node:http';
import { failure } from '../course-response';
import { crossSiteRefusal } from './cross-site';
import { HostAllowList } from './host-allow-list';

/**
 * The first thing every request meets, before the image fast path and Express: a foreign Host
 * (DNS rebinding) and a cross-site state change are answered 403 in the failure shape before any
 * route runs, so nothing is read, written or changed for them.
 */
export class BrowserRequestGate {
  constructor(private readonly hosts: HostAllowList) {}

  /** True to go on; false when the request was answered here. */
  admit(req: IncomingMessage, res: ServerResponse): boolean {
    const host = req.headers.host;
    if (!this.hosts.admits(host)) {
      refuse(
        res,
        `Host ${String(host)} is not a name of this service (add it to security.allowedHosts)`,
      );
      return false;
    }
    const refusal = crossSiteRefusal(req, this.hosts);
    if (refusal !== null) {
      refuse(res, refusal);
      return false;
    }
    return true;
  }
}

function refuse(res: ServerResponse, message: string): void {
  const body = JSON.stringify(failure(403, message));
  // The body of an upload may still be arriving: close rather than read it.
  res.writeHead(403, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    Connection: 'close',
  });
  res.end(body);
}
