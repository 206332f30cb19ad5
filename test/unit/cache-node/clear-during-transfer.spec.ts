import type { CacheNode } from '../../../src/cache-node/server';
import { CacheNodeClient } from '../../../src/pool/client/cache-node.client';
import { eventually } from '../../support/eventually';
import { startHoldingRelay, type HoldingRelay } from '../../support/holding-relay';
import { inProcessNode } from '../../support/in-process-node';

const REGION = 3;
const OTHERS = [...Array(16).keys()].filter((r) => r !== REGION);

interface Running {
  node: CacheNode;
  client: CacheNodeClient;
}

async function start(): Promise<Running> {
  const node = inProcessNode();
  const { port } = await node.listen();
  return {
    node,
    client: new CacheNodeClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 5_000 }),
  };
}

/**
 * delete_all while a region moves: the frames the old owner has already written are in flight
 * (held by a relay) when both nodes are cleared, and land afterwards. The clear says below which
 * version everything is deleted; a frame from before it must not bring a deleted image back.
 */
describe('a data clear during a region transfer (real sockets)', () => {
  let sender: Running;
  let target: Running;
  let relay: HoldingRelay;

  beforeEach(async () => {
    [sender, target] = await Promise.all([start(), start()]);
    relay = await startHoldingRelay(Number(new URL(target.client.url).port));
    // A node starts owning nothing: the old owner holds every region before the move.
    await sender.client.setOwnership(1, [...OTHERS, REGION]);
  });
  afterEach(async () => {
    await relay.close();
    for (const { node, client } of [sender, target]) {
      client.close();
      await node.close();
    }
  });

  /** The old owner gives region 3 up, the new one takes it, and the stream is started. */
  async function startTransfer(): Promise<{ transfer: Promise<unknown> }> {
    // The relay stands in for the new owner: the pool the app names has it as the member.
    await sender.client.setOwnership(1, OTHERS, 0, [relay.url, target.client.url]);
    await target.client.setOwnership(1, [REGION]);
    // A client of its own: the transfer's request stays open until the stream is released.
    const mover = new CacheNodeClient({ url: sender.client.url, timeoutMs: 5_000 });
    const transfer = mover.transfer([REGION], relay.url, 1).finally(() => mover.close());
    transfer.catch(() => undefined);
    // The whole stream has left the sender: its last chunk (chunked encoding) is held.
    await eventually('the stream to be in flight', () =>
      relay.held().toString('latin1').endsWith('0\r\n\r\n'),
    );
    // Wrapped: an async function returning the promise itself would wait for it.
    return { transfer };
  }

  it('refuses frames from before the clear that land after it', async () => {
    await sender.client.put('deleted', REGION, Buffer.from('old image'), { version: 5 });
    const { transfer } = await startTransfer();

    // delete_all: every row it deleted had a version below 6; every later upload gets above it.
    await Promise.all([target.client.clear(6), sender.client.clear(6)]);
    relay.release();
    await expect(transfer).resolves.toMatchObject({ entries: 1 });

    expect(await target.client.get('deleted', REGION, 1)).toMatchObject({ kind: 'miss' });
  });

  it('still takes what was written after the clear', async () => {
    await Promise.all([target.client.clear(6), sender.client.clear(6)]);
    await sender.client.put('renewed', REGION, Buffer.from('new image'), { version: 7 });
    const { transfer } = await startTransfer();
    relay.release();
    await expect(transfer).resolves.toMatchObject({ entries: 1 });

    const read = await target.client.get('renewed', REGION, 1);
    expect(read.kind === 'hit' && read.value.toString()).toBe('new image');
  });
});
