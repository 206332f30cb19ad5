import type { IncomingMessage } from 'node:http';
import { HostAllowList, hostnameOf } from './host-allow-list';

/** Sent by pixpool's own pages on every call: a header no cross-site page can add without a preflight. */
export const CLIENT_HEADER = 'x-pixpool-client';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A page on another site can make the operator's browser send a simple POST (a form, or fetch in
 * no-cors mode) to the app, with the operator's loopback address or cookies behind it. State
 * changes from browsers are let through only when the browser says they come from this origin:
 * - `Sec-Fetch-Site` (every current browser sends it) must be `same-origin` or `none`;
 * - `Origin`, when sent (older browsers), must name this app: the Host it was sent to, or one of
 *   the public names of security.allowedHosts (a proxy in front may rewrite Host);
 * - a browser's request must carry X-Pixpool-Client, which pixpool's pages send: a cross-site page
 *   that adds it triggers a CORS preflight, which the app never approves.
 * Clients that are not browsers (course clients, curl, python requests) send none of these
 * headers and are not affected. Reads (GET, HEAD) change nothing and pass.
 *
 * @returns why the request is refused, or null to let it through.
 */
export function crossSiteRefusal(req: IncomingMessage, hosts: HostAllowList): string | null {
  if (SAFE_METHODS.has(req.method ?? 'GET')) return null;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return `cross-site request refused (Sec-Fetch-Site: ${site}): pixpool changes state only for its own pages`;
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !isOwnOrigin(origin, req.headers.host, hosts)) {
    return `cross-site request refused (Origin: ${origin}): pixpool changes state only for its own pages`;
  }
  // Not Sec-Fetch-Mode: Node's own fetch sends it too. Browsers send Origin on every state change.
  const fromBrowser = origin !== undefined || site !== undefined;
  if (fromBrowser && req.headers[CLIENT_HEADER] === undefined) {
    return 'a state change from a browser must carry the X-Pixpool-Client header (pixpool pages send it)';
  }
  return null;
}

function isOwnOrigin(origin: string, host: string | undefined, hosts: HostAllowList): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // "null" (sandboxed frames, file:) and anything malformed
  }
  if (host !== undefined && url.host.toLowerCase() === host.trim().toLowerCase()) return true;
  const name = hostnameOf(url.host);
  return name !== null && hosts.isPublicName(name);
}
