import type { NodeReleaseItem } from '../../../../src/protocol/cache-node.protocol';
import { ReleaseQueue } from '../../../../src/pool/client/release-queue';

/** A node stand-in that answers when the test says so, recording each request's items. */
function node() {
  const requests: NodeReleaseItem[][] = [];
  const answers: Array<(fail?: Error) => void> = [];
  const answer = <T>(items: NodeReleaseItem[], result: T) =>
    new Promise<T>((resolve, reject) => {
      requests.push(items);
      answers.push((fail) => (fail ? reject(fail) : resolve(result)));
    });
  const queue = new ReleaseQueue<string>(
    (item) => answer([item], `one ${item.key}`),
    (items) =>
      answer(
        items,
        items.map((i) => `many ${i.key}`),
      ),
  );
  /** Answers the oldest request still open, then lets the queue send its next. */
  const respond = async (fail?: Error) => {
    answers.shift()!(fail);
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { queue, requests, respond };
}

const item = (key: string): NodeReleaseItem => ({ key, region: 1, id: 'm', version: 1 });

describe('ReleaseQueue: one request at a time per node, the queued ones together', () => {
  it('sends a release at once when none is in flight, and those queued meanwhile in one request', async () => {
    const { queue, requests, respond } = node();
    const first = queue.push(item('a'), undefined);
    expect(requests).toEqual([[item('a')]]);
    const later = ['b', 'c', 'd'].map((k) => queue.push(item(k), undefined));
    expect(requests).toHaveLength(1);
    await respond();
    expect(requests[1]).toEqual([item('b'), item('c'), item('d')]);
    await respond();
    expect(await first).toBe('one a');
    expect(await Promise.all(later)).toEqual(['many b', 'many c', 'many d']);
  });

  it('keeps a request within the node limits: 256 items, 64 KiB of JSON', async () => {
    const { queue, requests, respond } = node();
    void queue.push(item('first'), undefined);
    for (let i = 0; i < 300; i++) void queue.push(item(`k${i}`), undefined);
    await respond();
    expect(requests[1]).toHaveLength(256);
    await respond();
    expect(requests[2]).toHaveLength(44);
    await respond();

    const long = (i: number) => item(`${i}-${'x'.repeat(1000)}`);
    void queue.push(item('again'), undefined);
    for (let i = 0; i < 100; i++) void queue.push(long(i), undefined);
    await respond();
    const body = JSON.stringify({ releases: requests[4], near: 'f'.repeat(64) });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(64 * 1024);
    expect(requests[4].length).toBeGreaterThan(50);
  });

  it('sends together only releases of one uploader (the near id the node leaves out)', async () => {
    const { queue, requests, respond } = node();
    void queue.push(item('a'), 'aa');
    void queue.push(item('b'), 'aa');
    void queue.push(item('c'), 'bb');
    void queue.push(item('d'), 'aa');
    await respond();
    expect(requests[1]).toEqual([item('b'), item('d')]);
    await respond();
    expect(requests[2]).toEqual([item('c')]);
  });

  it('a failed request fails its own releases only, and the queue goes on', async () => {
    const { queue, requests, respond } = node();
    const a = queue.push(item('a'), undefined);
    const b = queue.push(item('b'), undefined);
    const c = queue.push(item('c'), undefined);
    const aFails = expect(a).rejects.toThrow('node gone');
    await respond(new Error('node gone'));
    await aFails;
    expect(requests[1]).toEqual([item('b'), item('c')]);
    await respond();
    expect(await Promise.all([b, c])).toEqual(['many b', 'many c']);
    const d = queue.push(item('d'), undefined);
    expect(requests[2]).toEqual([item('d')]);
    await respond();
    expect(await d).toBe('one d');
  });

  it('refuses an answer that does not name every release', async () => {
    const queue = new ReleaseQueue<string>(
      async () => 'one',
      async () => ['only one'],
    );
    void queue.push(item('a'), undefined);
    const both = [queue.push(item('b'), undefined), queue.push(item('c'), undefined)];
    for (const p of both) await expect(p).rejects.toThrow('1 results for 2 releases');
  });
});
