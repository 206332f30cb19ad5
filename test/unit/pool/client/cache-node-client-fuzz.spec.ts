import fc from 'fast-check';
import { createServer, type Server, type Socket } from 'node:net';
import {
  CacheNodeClient,
  CacheNodeRequestError,
  CacheNodeUnavailableError,
} from '../../../../src/pool/client/cache-node.client';

/**
 * A "node" that answers every request with the next scripted raw bytes, then does what the script
 * says with the connection: the malformed answers a broken or hostile node could send.
 */
interface Script {
  bytes: Buffer;
  then: 'close' | 'keep' | 'reset';
}

async function scriptedNode(): Promise<{
  url: string;
  next: (script: Script) => void;
  close: () => Promise<void>;
}> {
  let script: Script = { bytes: Buffer.alloc(0), then: 'close' };
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    // One request per data event: the client's GETs are small and sent in one write.
    socket.on('data', () => {
      const { bytes, then } = script;
      socket.write(bytes, () => {
        if (then === 'close') socket.end();
        else if (then === 'reset') socket.resetAndDestroy();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    next: (s) => (script = s),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const LIMIT = 64 * 1024;

/** How a read ends: a protocol answer, or one of the two errors the read path turns into a storage read. */
async function outcome(client: CacheNodeClient): Promise<string> {
  try {
    return (await client.get('k', 3, 1)).kind;
  } catch (err) {
    if (err instanceof CacheNodeUnavailableError) return 'unavailable';
    if (err instanceof CacheNodeRequestError) return 'request-error';
    throw err;
  }
}

describe('CacheNodeClient against malformed node answers', () => {
  let node: Awaited<ReturnType<typeof scriptedNode>>;
  let client: CacheNodeClient;

  beforeAll(async () => {
    node = await scriptedNode();
    client = new CacheNodeClient({ url: node.url, timeoutMs: 1000, maxResponseBytes: LIMIT });
  });
  afterAll(async () => {
    client.close();
    await node.close();
  });

  const head = (lines: string[]) => Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  const hit = (extra: string[], body: Buffer) =>
    Buffer.concat([
      head(['HTTP/1.1 200 OK', 'content-type: image/png', 'x-pixpool-version: 7', ...extra]),
      body,
    ]);

  it.each<[string, Script, string[]]>([
    [
      'a well-formed hit (control)',
      { bytes: hit(['content-length: 3'], Buffer.from('abc')), then: 'keep' },
      ['hit'],
    ],
    [
      'a huge Content-Length',
      { bytes: hit(['content-length: 999999999999'], Buffer.alloc(10)), then: 'keep' },
      ['unavailable'],
    ],
    [
      'a Content-Length just over the limit',
      { bytes: hit([`content-length: ${LIMIT + 1}`], Buffer.alloc(10)), then: 'keep' },
      ['unavailable'],
    ],
    [
      'a Content-Length beyond 2^53',
      { bytes: hit(['content-length: 18446744073709551616'], Buffer.alloc(1)), then: 'keep' },
      ['unavailable'],
    ],
    [
      'a negative Content-Length',
      { bytes: hit(['content-length: -5'], Buffer.alloc(1)), then: 'close' },
      ['unavailable'],
    ],
    [
      'two different Content-Lengths',
      { bytes: hit(['content-length: 3', 'content-length: 5'], Buffer.from('abc')), then: 'close' },
      ['unavailable'],
    ],
    [
      'a body shorter than its Content-Length, then close',
      { bytes: hit(['content-length: 100'], Buffer.alloc(10)), then: 'close' },
      ['unavailable'],
    ],
    [
      'a body shorter than its Content-Length, then silence',
      { bytes: hit(['content-length: 100'], Buffer.alloc(10)), then: 'keep' },
      ['unavailable'],
    ],
    [
      'a chunked body longer than the limit',
      {
        bytes: Buffer.concat([
          hit(['transfer-encoding: chunked'], Buffer.alloc(0)),
          Buffer.from(`${(LIMIT + 10).toString(16)}\r\n`),
          Buffer.alloc(LIMIT + 10),
          Buffer.from('\r\n0\r\n\r\n'),
        ]),
        then: 'keep',
      },
      ['unavailable'],
    ],
    [
      'a body until close longer than the limit',
      { bytes: hit([], Buffer.alloc(LIMIT * 2)), then: 'close' },
      ['unavailable'],
    ],
    [
      'a body until close within the limit',
      { bytes: hit([], Buffer.alloc(100)), then: 'close' },
      ['hit'],
    ],
    [
      'a hit without a version',
      { bytes: head(['HTTP/1.1 200 OK', 'content-length: 0']), then: 'keep' },
      ['request-error'],
    ],
    [
      'a hit with a garbage version',
      {
        bytes: head(['HTTP/1.1 200 OK', 'x-pixpool-version: 1e400', 'content-length: 0']),
        then: 'keep',
      },
      ['request-error'],
    ],
    [
      'garbage instead of a status line',
      { bytes: Buffer.from('\x00\xff garbage \r\n\r\n', 'latin1'), then: 'close' },
      ['unavailable'],
    ],
    [
      'a header line without a colon',
      { bytes: head(['HTTP/1.1 200 OK', 'this is not a header']), then: 'close' },
      ['unavailable'],
    ],
    ['an early close without a byte', { bytes: Buffer.alloc(0), then: 'close' }, ['unavailable']],
    ['a reset', { bytes: Buffer.from('HTTP/1.1 200'), then: 'reset' }, ['unavailable']],
    [
      'a 404 with a body that is not JSON',
      {
        bytes: Buffer.concat([
          head(['HTTP/1.1 404 Not Found', 'content-type: application/json', 'content-length: 5']),
          Buffer.from('{nope'),
        ]),
        then: 'keep',
      },
      ['request-error'],
    ],
  ])('%s ends in a clear result', async (_name, script, expected) => {
    node.next(script);
    expect(expected).toContain(await outcome(client));
  });

  it('never crashes or hangs on 300 generated answers', async () => {
    const line = fc.stringMatching(/^[\x20-\x7e]{0,40}$/);
    const answer = fc.record({
      status: fc.oneof(fc.constantFrom('200', '404', '421', '500', '204'), line),
      headers: fc.array(
        fc.oneof(
          fc.constantFrom(
            'content-type: application/json',
            'content-type: image/png',
            'x-pixpool-version: 3',
            'x-pixpool-epoch: 1',
            'transfer-encoding: chunked',
            'connection: close',
          ),
          fc.bigInt({ min: -1n, max: 1n << 70n }).map((n) => `content-length: ${n}`),
          line,
        ),
        { maxLength: 6 },
      ),
      body: fc.uint8Array({ maxLength: 2048 }),
      then: fc.constantFrom<Script['then']>('close', 'keep', 'reset'),
    });
    const quick = new CacheNodeClient({ url: node.url, timeoutMs: 250, maxResponseBytes: LIMIT });
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(answer, async ({ status, headers, body, then }) => {
        node.next({ bytes: Buffer.concat([head([`HTTP/1.1 ${status}`, ...headers]), body]), then });
        const result = await outcome(quick);
        seen.add(result);
        expect(['hit', 'miss', 'not_owner', 'unavailable', 'request-error']).toContain(result);
      }),
      { numRuns: 300 },
    );
    quick.close();
    expect(seen).toContain('unavailable');
  }, 120_000);
});
