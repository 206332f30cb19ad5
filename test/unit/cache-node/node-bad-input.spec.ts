import {
  encodeEndFrame,
  encodeFrameHead,
  FrameKind,
  STREAM_MAGIC,
} from '../../../src/cache-node/framing';
import { raw, rawSocket, startNode, value, type RunningNode } from './node-fixtures';

describe('cache node over real sockets: bad input gets a clear 4xx and the node lives on', () => {
  let running: RunningNode;
  let url: string;
  const capacity = 200_000;

  beforeAll(async () => {
    running = await startNode({ capacityBytes: capacity });
    url = running.node.url;
  });
  afterAll(() => running.stop());

  afterEach(async () => {
    // Whatever the previous input was, the node still answers and still serves data.
    expect(running.node.process.exitCode).toBeNull();
    expect((await raw(url, 'GET', '/health')).status).toBe(200);
  });

  it('refuses a value larger than the capacity with 413 and evicts nothing', async () => {
    for (let i = 0; i < 5; i++)
      await running.client.put(`keep${i}`, 1, value(20_000), { version: 1 });
    const before = await running.client.stats();
    const declared = await raw(url, 'PUT', '/v1/keys/big?region=1&version=1', {
      body: value(capacity),
    });
    expect(declared.status).toBe(413);
    expect(declared.json).toMatchObject({ error: 'too_large' });
    expect(declared.json.maxBytes).toBeLessThan(capacity);
    const chunked = await raw(url, 'PUT', '/v1/keys/big?region=1&version=1', {
      headers: { 'transfer-encoding': 'chunked' },
      body: value(capacity + 1),
    });
    expect(chunked.status).toBe(413);
    const after = await running.client.stats();
    expect(after.items).toBe(before.items);
    expect(after.sinceStart.evictions).toBe(before.sinceStart.evictions);
    expect(after.sinceStart.tooLarge - before.sinceStart.tooLarge).toBe(2);
    expect((await running.client.get('big', 1)).kind).toBe('miss');
  });

  it('accepts a chunked body of a size that fits', async () => {
    const body = value(50_000);
    const res = await raw(url, 'PUT', '/v1/keys/chunked?region=2&version=3', {
      headers: { 'transfer-encoding': 'chunked', 'content-type': 'image/gif' },
      body,
    });
    expect(res.status).toBe(204);
    const hit = await running.client.get('chunked', 2);
    expect(hit.kind === 'hit' && hit.value.equals(body)).toBe(true);
    expect(hit).toMatchObject({ kind: 'hit', version: 3, contentType: 'image/gif' });
  });

  const badParams = [
    ['GET', '/v1/keys/a', 'bad_region'],
    ['GET', '/v1/keys/a?region=16', 'bad_region'],
    ['GET', '/v1/keys/a?region=-1', 'bad_region'],
    ['GET', '/v1/keys/a?region=1x', 'bad_region'],
    ['GET', '/v1/keys/a?region=', 'bad_region'],
    ['PUT', '/v1/keys/a?region=1', 'bad_version'],
    ['PUT', '/v1/keys/a?region=1&version=1.5', 'bad_version'],
    ['PUT', '/v1/keys/a?region=1&version=9007199254740993', 'bad_version'],
    ['PUT', '/v1/keys/a?region=1&version=-3', 'bad_version'],
    ['DELETE', '/v1/keys/a?region=1', 'bad_version'],
    ['DELETE', '/v1/keys?below=', 'bad_version'],
    ['DELETE', '/v1/keys?below=-1', 'bad_version'],
    ['DELETE', '/v1/keys?below=9007199254740993', 'bad_version'],
    ['DELETE', '/v1/keys/a?region=1&version=2&near=', 'bad_near'],
    ['DELETE', '/v1/keys/a?region=1&version=2&near=ABCDEF0123456789', 'bad_near'],
    ['DELETE', `/v1/keys/a?region=1&version=2&near=${'a'.repeat(65)}`, 'bad_near'],
    ['PUT', '/v1/keys/a?region=1&version=1&lease=../x', 'bad_lease'],
    ['GET', '/v1/keys/?region=1', 'bad_key'],
    ['GET', '/v1/keys/a/b?region=1', 'bad_key'],
    ['GET', '/v1/keys/%E0%A4%A?region=1', 'bad_key'],
    ['GET', `/v1/keys/${'x'.repeat(1025)}?region=1`, 'bad_key'],
    ['PUT', `/v1/keys/${'%C3%A9'.repeat(513)}?region=1&version=1`, 'bad_key'],
  ].map(([method, path, error]) => ({
    name: `${method} ${path.length > 60 ? `${path.slice(0, 40)}…` : path} → 400 ${error}`,
    method,
    path,
    error,
  }));

  it.each(badParams)('$name', async ({ method, path, error }) => {
    const res = await raw(url, method, path, { body: method === 'PUT' ? 'v' : undefined });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe(error);
    expect(res.json.message).toEqual(expect.any(String));
  });

  it('accepts a key of exactly 1024 bytes', async () => {
    const name = 'é'.repeat(512);
    expect((await running.client.put(name, 4, value(10), { version: 1 })).kind).toBe('stored');
    expect((await running.client.get(name, 4)).kind).toBe('hit');
  });

  it('refuses a bad content type and a bad epoch header', async () => {
    const type = await raw(url, 'PUT', '/v1/keys/a?region=1&version=1', {
      headers: { 'content-type': 'x'.repeat(300) },
      body: 'v',
    });
    expect([type.status, type.json.error]).toEqual([400, 'bad_content_type']);
    const epoch = await raw(url, 'GET', '/v1/keys/a?region=1', {
      headers: { 'x-pixpool-epoch': 'soon' },
    });
    expect([epoch.status, epoch.json.error]).toEqual([400, 'bad_epoch']);
  });

  it.each([
    ['GET', '/nope', 404, 'not_found'],
    ['GET', '/v1', 404, 'not_found'],
    ['GET', '/constructor', 404, 'not_found'],
    ['POST', '/v1/keys/a?region=1', 405, 'method_not_allowed'],
    ['POST', '/v1/config', 405, 'method_not_allowed'],
    ['PUT', '/v1/config', 400, 'bad_request'],
  ])('%s %s → %i %s', async (method, path, status, error) => {
    const res = await raw(url, method, path, {
      body: method === 'PUT' ? '{"capacityBytes":-1}' : undefined,
    });
    expect(res.status).toBe(status);
    expect(res.json.error).toBe(error);
  });

  it.each([
    ['/v1/config', 'PUT', 'not json'],
    ['/v1/config', 'PUT', '{"policy":"lfu"}'],
    ['/v1/config', 'PUT', '[1]'],
    ['/v1/ownership', 'PUT', '{"epoch":1,"regions":[16]}'],
    ['/v1/ownership', 'PUT', '{"epoch":1,"regions":[1,1]}'],
    ['/v1/ownership', 'PUT', '{"epoch":-1,"regions":[]}'],
    ['/v1/ownership', 'PUT', '{"epoch":1,"regions":[],"members":["ftp://x"]}'],
    ['/v1/ownership', 'PUT', '{"epoch":1,"regions":[],"members":"http://127.0.0.1:1"}'],
    ['/v1/drop', 'POST', '{"regions":[]}'],
    ['/v1/transfer', 'POST', '{"regions":[1],"target":"ftp://x","epoch":1}'],
    ['/v1/transfer', 'POST', '{"regions":[1],"target":"http://127.0.0.1:1/path","epoch":1}'],
  ])('%s %s %s → 400 bad_request', async (path, method, body) => {
    const res = await raw(url, method, path, { body });
    expect([res.status, res.json.error]).toEqual([400, 'bad_request']);
  });

  it('refuses an oversized JSON body with 413', async () => {
    const res = await raw(url, 'PUT', '/v1/config', { body: `{"x":"${'a'.repeat(70_000)}"}` });
    expect([res.status, res.json.error]).toEqual([413, 'too_large']);
  });

  it('answers a body cut short (client closed its side) with 400 truncated, storing nothing', async () => {
    const before = await running.client.stats();
    const head =
      'PUT /v1/keys/cut?region=1&version=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n';
    const answer = await rawSocket(running.node.port, head + 'a'.repeat(400));
    expect(answer).toMatch(/^HTTP\/1.1 400 /);
    expect(answer).toContain('"error":"truncated"');
    expect((await running.client.get('cut', 1)).kind).toBe('miss');
    const after = await running.client.stats();
    expect(after.sinceStart.aborted - before.sinceStart.aborted).toBe(1);
    expect(after.sinceStart.requests - before.sinceStart.requests).toBe(2); // the PUT, then the GET
  });

  it('answers garbage and oversized headers with a JSON 4xx', async () => {
    expect(await rawSocket(running.node.port, 'HELLO\r\n\r\n')).toMatch(
      /^HTTP\/1.1 400 [^]*"bad_request"/,
    );
    const huge = `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`;
    expect(await rawSocket(running.node.port, huge, false)).toMatch(/^HTTP\/1.1 431 /);
  });

  it('refuses a transfer stream that is cut short or malformed, keeping what arrived whole', async () => {
    const frame = encodeFrameHead(FrameKind.Entry, 6, 'imported', 4, 'image/png', 3);
    const complete = Buffer.concat([STREAM_MAGIC, frame, Buffer.from('abc')]);
    const cut = await raw(url, 'POST', '/v1/import?epoch=1', { body: complete });
    expect(cut.status).toBe(400);
    expect(cut.json).toMatchObject({ error: 'truncated', imported: 1 });
    expect(await running.client.get('imported', 6)).toMatchObject({ kind: 'hit', version: 4 });
    const garbage = await raw(url, 'POST', '/v1/import?epoch=1', { body: 'not a stream at all' });
    expect([garbage.status, garbage.json.error]).toEqual([400, 'bad_request']);
    const ok = await raw(url, 'POST', '/v1/import?epoch=1', {
      body: Buffer.concat([STREAM_MAGIC, encodeEndFrame(0)]),
    });
    expect(ok.json).toEqual({ imported: 0, refused: 0, tombstones: 0, bytes: 0 });
    const noEpoch = await raw(url, 'POST', '/v1/import', { body: complete });
    expect([noEpoch.status, noEpoch.json.error]).toEqual([400, 'bad_epoch']);
  });

  it('survives a burst of random requests without a 5xx', async () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pick = <T>(list: readonly T[]): T => list[rand(list.length)];
    const paths = [
      '/v1/keys/',
      '/v1/keys/k',
      '/v1/import',
      '/v1/transfer',
      '/v1/ownership',
      '/v1/config',
      '/v1/drop',
      '/v1/stats',
      '/health',
      '/',
    ];
    const queries = [
      '',
      '?region=3',
      '?region=3&version=7',
      '?region=99&version=x',
      '?epoch=0',
      '?region=1&version=1&lease=zz',
      '?%%%',
    ];
    const bodies = [
      '',
      '{}',
      '{"regions":[1]}',
      '{"epoch":1e308,"regions":[1]}',
      'PXP1garbage',
      '\u0000\u00ff',
      'x'.repeat(5000),
    ];
    const statuses: number[] = [];
    for (let i = 0; i < 200; i++) {
      const method = pick(['GET', 'PUT', 'POST', 'DELETE', 'PATCH']);
      const body = pick(bodies);
      const res = await raw(url, method, pick(paths) + pick(queries), {
        headers: { 'content-type': pick(['image/png', 'application/json', 'x']) },
        body: method === 'GET' ? undefined : body,
      });
      statuses.push(res.status);
    }
    for (let i = 0; i < 30; i++) {
      const bytes = Buffer.from(Array.from({ length: 1 + rand(300) }, () => rand(256)));
      await rawSocket(
        running.node.port,
        Buffer.concat([
          Buffer.from(
            pick([
              'GET / HTTP/1.1\r\n',
              'PUT /v1/keys/a?region=1&version=1 HTTP/1.1\r\nContent-Length: 50\r\n\r\n',
              '',
            ]),
          ),
          bytes,
        ]),
      );
    }
    expect(statuses.filter((status) => status >= 500)).toEqual([]);
    expect(await running.client.health()).toMatchObject({ status: 'ok' });
  });
});
