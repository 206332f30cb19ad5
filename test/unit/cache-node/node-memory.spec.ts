import { connect } from 'node:net';
import { sleep, startNode, value, type RunningNode } from './node-fixtures';

/** Reads one HTTP response from a socket that stays paused for `pauseMs` after sending. */
function slowGet(port: number, path: string, pauseMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      socket.pause();
      setTimeout(() => socket.resume(), pauseMs);
    });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      const all = Buffer.concat(chunks);
      resolve(all.subarray(all.indexOf('\r\n\r\n') + 4));
    });
    socket.on('error', reject);
  });
}

describe('cache node over real sockets: value memory is recycled safely', () => {
  let running: RunningNode;

  beforeAll(async () => {
    running = await startNode({ capacityMb: 128 });
  });
  afterAll(() => running.stop());

  it('a response still being written keeps its bytes while the entry is replaced and its memory reused', async () => {
    const { client, node } = running;
    const size = 8 << 20; // more than the socket buffers hold: the write stays pending
    const original = value(size, 1);
    await client.put('big', 1, original, { version: 1 });
    const reading = slowGet(node.port, '/v1/keys/big?region=1', 400);
    await sleep(100);
    await client.invalidate('big', 1, 2);
    // Same size class: these would take the block of 'big' if it had been recycled already.
    for (let i = 0; i < 3; i++)
      await client.put(`other${i}`, 1, value(size, 100 + i), { version: 1 });
    const body = await reading;
    expect(body.length).toBe(size);
    expect(body.equals(original)).toBe(true);
  });

  it('reuses freed blocks instead of allocating, within the pool bound', async () => {
    const { client } = running;
    await client.clear();
    await client.setConfig({ capacityBytes: 64 << 20 }); // pool bound: max(4 MiB, capacity / 16)
    expect((await client.stats()).pooledBytes).toBe(0); // the 8 MiB blocks no longer fit
    // Versions above the invalidation of the first test (clear keeps it as the region's floor).
    for (let i = 0; i < 6; i++) await client.put(`mib${i}`, 1, value(1 << 20, i), { version: 10 });
    await client.clear();
    expect((await client.stats()).pooledBytes).toBe(4 << 20);
    await client.put('again', 1, value(1 << 20, 9), { version: 10 });
    expect((await client.stats()).pooledBytes).toBe(3 << 20);
  });
});
