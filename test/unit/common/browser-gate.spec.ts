import type { IncomingMessage } from 'node:http';
import { crossSiteRefusal } from '../../../src/common/browser/cross-site';
import { HostAllowList, hostnameOf } from '../../../src/common/browser/host-allow-list';

function request(method: string, headers: Record<string, string>): IncomingMessage {
  return { method, headers } as unknown as IncomingMessage;
}

describe('HostAllowList', () => {
  const sut = new HostAllowList('images.example.org, *.cdn.example.net');

  it.each([
    'localhost:5000',
    'LOCALHOST',
    'app.localhost:5000',
    '127.0.0.1:5000',
    '10.0.0.5',
    '[::1]:5000',
    '[2001:db8::1]',
    'images.example.org',
    'Images.Example.Org.:443',
    'eu.cdn.example.net',
  ])('answers %s', (host) => expect(sut.admits(host)).toBe(true));

  it.each([
    'attacker.example',
    'images.example.org.attacker.example',
    'cdn.example.net', // the wildcard names subdomains only
    'example.org',
    'localhost.attacker.example',
    '127.0.0.1.nip.io',
    'user@localhost',
    '',
    '[::1',
  ])('refuses %s', (host) => expect(sut.admits(host)).toBe(false));

  it('lets a request without Host through: no browser sends one', () => {
    expect(sut.admits(undefined)).toBe(true);
  });

  it('reads the host name out of an authority', () => {
    expect(hostnameOf('[::1]:80')).toBe('::1');
    expect(hostnameOf('Example.COM:8080')).toBe('example.com');
    expect(hostnameOf('a:b:c')).toBeNull();
  });
});

describe('crossSiteRefusal', () => {
  const hosts = new HostAllowList('images.example.org');
  const own = { 'X-Pixpool-Client': 'pages' };
  const lower = (h: Record<string, string>) =>
    Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
  const verdict = (method: string, headers: Record<string, string>) =>
    crossSiteRefusal(request(method, lower(headers)), hosts);

  it('lets reads through whatever they carry', () => {
    expect(verdict('GET', { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://x.example' })).toBe(
      null,
    );
    expect(verdict('HEAD', { 'Sec-Fetch-Site': 'cross-site' })).toBe(null);
  });

  it('lets clients that are not browsers through (course clients, curl, Node fetch)', () => {
    expect(verdict('POST', {})).toBe(null);
    expect(verdict('DELETE', { 'Sec-Fetch-Mode': 'cors' })).toBe(null);
  });

  it.each([
    [{ 'Sec-Fetch-Site': 'cross-site' }],
    [{ 'Sec-Fetch-Site': 'same-site' }],
    [{ Origin: 'https://attacker.example' }],
    [{ Origin: 'null' }],
    [{ Origin: 'http://localhost:3000', Host: 'localhost:5000' }],
  ])('refuses a state change marked cross-site: %j', (headers) => {
    expect(verdict('POST', { ...own, ...headers })).toMatch(/cross-site request refused/);
  });

  it('accepts its own origin: the Host it was sent to, or a configured public name', () => {
    const same = { ...own, 'Sec-Fetch-Site': 'same-origin' };
    expect(
      verdict('POST', { ...same, Origin: 'http://localhost:5000', Host: 'localhost:5000' }),
    ).toBe(null);
    // Behind a proxy that rewrites Host to the upstream address.
    expect(
      verdict('PUT', { ...same, Origin: 'https://images.example.org', Host: '127.0.0.1:5000' }),
    ).toBe(null);
  });

  it('refuses a browser state change without X-Pixpool-Client, even from its own origin', () => {
    const headers = {
      'Sec-Fetch-Site': 'same-origin',
      Origin: 'http://localhost:5000',
      Host: 'localhost:5000',
    };
    expect(verdict('POST', headers)).toMatch(/X-Pixpool-Client/);
  });
});
