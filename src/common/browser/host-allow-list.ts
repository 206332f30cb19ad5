import { isIP } from 'node:net';

/**
 * DNS rebinding: a page on attacker.example points its own name at 127.0.0.1 (or at this host's
 * address) after loading, and the operator's browser, still on that page's origin, then reads
 * and drives the app as its own origin, as admin when loopback is trusted. Every such request
 * names the attacker's host in `Host`. So the app answers only Hosts that name it: loopback names,
 * IP literals (a rebinding needs a name of the attacker's; an address in Host is the page's real
 * origin) and the public names listed in security.allowedHosts (`*.example.org` for subdomains).
 * A request without Host (HTTP/1.0 tools) comes from no browser and is let through.
 */
export class HostAllowList {
  private readonly names = new Set<string>();
  private readonly suffixes: string[] = [];

  constructor(configured: string) {
    for (const entry of configured.split(',').map((e) => e.trim().toLowerCase())) {
      if (!entry) continue;
      if (entry.startsWith('*.')) this.suffixes.push(entry.slice(1));
      else this.names.add(entry);
    }
  }

  admits(hostHeader: string | undefined): boolean {
    if (hostHeader === undefined) return true;
    const name = hostnameOf(hostHeader);
    if (name === null) return false;
    return (
      this.isLocal(name) || this.names.has(name) || this.suffixes.some((s) => name.endsWith(s))
    );
  }

  /** A configured public name (not a loopback name or address): same site as this app. */
  isPublicName(name: string): boolean {
    return this.names.has(name) || this.suffixes.some((s) => name.endsWith(s));
  }

  private isLocal(name: string): boolean {
    return name === 'localhost' || name.endsWith('.localhost') || isIP(name) !== 0;
  }
}

/** The lower-case host name of a Host header or URL authority, without port or IPv6 brackets. */
export function hostnameOf(authority: string): string | null {
  const match = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+))(?::\d{1,5})?$/i.exec(authority.trim());
  if (!match) return null;
  return (match[1] ?? match[2]).toLowerCase().replace(/\.$/, '');
}
