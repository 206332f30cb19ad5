import { createServer, type Server } from 'node:http';
import { Logger } from '@nestjs/common';
import { loadConfig } from '../../../../src/config/config-loader';
import { createAllocator } from '../../../../src/pool/routing/allocators';
import { NodeSetup } from '../../../../src/pool/membership/node-setup.service';
import { PoolBootstrap } from '../../../../src/pool/membership/pool-bootstrap.service';
import { PoolEvents } from '../../../../src/pool/pool-events';
import { PoolRouter } from '../../../../src/pool/routing/pool-router.service';
import { ResizeService } from '../../../../src/pool/membership/resize.service';
import type { PoolState } from '../../../../src/pool/routing/pool-state';
import { FakeNodeProvider } from '../fakes/fake-node.provider';
import { FakeNodeSetup } from '../fakes/fake-node-setup';
import { InMemoryPoolStateStore } from '../fakes/in-memory-pool-state.store';

/** A node that answers its health at `epoch()`, and runs `onHealth` on each ask. */
async function nodeAt(
  epoch: () => number,
  onHealth: () => void,
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    onHealth();
    const body = JSON.stringify({
      status: 'ok',
      epoch: epoch(),
      regions: [],
      nearLeaseMs: 1000,
      boot: 'b1',
    });
    res.writeHead(200, { 'content-type': 'application/json', 'x-pixpool-epoch': String(epoch()) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

function stateAt(epoch: number, url: string): PoolState {
  return {
    epoch,
    owners: createAllocator('balanced').allocate(null, ['n1']),
    nodes: [{ id: 'n1', url }],
    previous: null,
  };
}

describe('PoolBootstrap: an instance starting while another one changes the pool', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('a node past the stored epoch it read means the pool moved on: it starts again from the store, never pushing the node back', async () => {
    const store = new InMemoryPoolStateStore();
    let asked = 0;
    const node = await nodeAt(
      () => 16,
      () => {
        // Another instance saved epoch 16 just after this one read 15, and pushed it to the node.
        if (asked++ === 0) store.saveAsAnotherInstance(stateAt(16, node.url));
      },
    );
    try {
      store.saveAsAnotherInstance(stateAt(15, node.url));
      const config = loadConfig({ overrides: { pool: { min: 1, max: 8, initial: 1 } } });
      const router = new PoolRouter(config, store);
      const provider = new FakeNodeProvider(2, []);
      provider.running.add('n1');
      const setup = new FakeNodeSetup([]);
      const resizer = new ResizeService(
        config,
        router,
        setup as unknown as NodeSetup,
        new PoolEvents(),
        provider,
        store,
        createAllocator('balanced'),
      );
      const sut = new PoolBootstrap(
        config,
        router,
        resizer,
        setup as unknown as NodeSetup,
        provider,
        store,
      );

      await sut.onApplicationBootstrap();

      expect(setup.prepared).toEqual([]); // a node is never taken back to an older epoch
      expect(router.epoch).toBe(16);
      expect(store.saves).toEqual([]); // it joined the pool as it is
    } finally {
      await new Promise((resolve) => node.server.close(resolve));
    }
  });
});
