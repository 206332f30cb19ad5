import { loadConfig } from '../../../../src/config/config-loader';
import { createAllocator } from '../../../../src/pool/routing/allocators';
import { NodeSetup } from '../../../../src/pool/membership/node-setup.service';
import { PoolEvents } from '../../../../src/pool/pool-events';
import { PoolRouter } from '../../../../src/pool/routing/pool-router.service';
import { ResizeService } from '../../../../src/pool/membership/resize.service';
import { FakeNodeProvider } from './fake-node.provider';
import { FakeNodeSetup } from './fake-node-setup';
import { InMemoryPoolStateStore } from './in-memory-pool-state.store';
import { poolState } from './pool-state.fixtures';

export interface World {
  sut: ResizeService;
  store: InMemoryPoolStateStore;
  router: PoolRouter;
  provider: FakeNodeProvider;
  setup: FakeNodeSetup;
  journal: string[];
  /** "grow ok", "shrink failed", ... as PoolEvents reported them. */
  resized: string[];
  /** Epochs PoolEvents announced. */
  announced: number[];
  events: PoolEvents;
}

/** A running pool of nodes n1..n<size> at epoch 1, as this instance routes by it after start. */
export async function world(
  size: number,
  bounds: { min?: number; max?: number; replace?: boolean } = {},
): Promise<World> {
  const journal: string[] = [];
  const min = bounds.min ?? 1;
  const config = loadConfig({
    overrides: {
      pool: { min, max: bounds.max ?? 8, initial: min },
      membership: { replace: bounds.replace ?? true },
    },
  });
  const ids = Array.from({ length: size }, (_, i) => `n${i + 1}`);
  const store = new InMemoryPoolStateStore(size > 0 ? poolState(1, ids) : undefined);
  const router = new PoolRouter(config, store);
  await router.reload();
  const provider = new FakeNodeProvider(size + 1, journal);
  for (const id of ids) provider.running.add(id);
  const setup = new FakeNodeSetup(journal);
  const events = new PoolEvents();
  const resized: string[] = [];
  const announced: number[] = [];
  events.subscribe({
    resized: (direction, outcome) => resized.push(`${direction} ${outcome}`),
    assignmentChanged: (state) => announced.push(state.epoch),
  });
  const sut = new ResizeService(
    config,
    router,
    setup as unknown as NodeSetup,
    events,
    provider,
    store,
    createAllocator('balanced'),
  );
  return { sut, store, router, provider, setup, journal, resized, announced, events };
}
