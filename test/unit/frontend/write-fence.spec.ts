import type { BlobStore } from '../../../src/storage/blob-store';
import type { ImageTable } from '../../../src/database/image-table';
import type { PoolCacheService } from '../../../src/pool/pool-cache.service';
import type { NearCacheService } from '../../../src/near-cache/near-cache.service';
import type { ReadPathService } from '../../../src/frontend/read-path.service';
import type { OutboxService } from '../../../src/coordination/outbox.service';
import { loadConfig } from '../../../src/config/config-loader';
import { ImageService } from '../../../src/frontend/image.service';
import { WriteFence } from '../../../src/frontend/write-fence';
import * as mutants from '../../../src/protocol/test-mutants';
import { ClearDataService } from '../../../src/frontend/clear-data.service';
import type { StorageQuota } from '../../../src/frontend/storage-quota';
import { makePng } from '../../support/images';
import { eventually } from '../../support/eventually';

interface Options {
  env?: Record<string, string>;
  /** What each markPending grants and whether a node was left untold. */
  grants?: Array<{ ms: number; untold: boolean }>;
  upsertFails?: Error;
}

/** An ImageService over recording fakes: each step of an upload, in the order taken. */
function recording(options: Options = {}) {
  const calls: string[] = [];
  let openGate = (): void => undefined;
  const gate = new Promise<void>((resolve) => (openGate = resolve));
  const grants = [...(options.grants ?? [])];
  const config = loadConfig({ env: options.env ?? {} });
  const table = {
    upsert: async ({ key }: { key: string }) => {
      calls.push(`commit ${key}`);
      if (options.upsertFails) throw options.upsertFails;
      return { record: { key, version: 5 }, pendingInvalidationId: 17 };
    },
    deleteAll: async () => (calls.push('commit delete_all'), { objectNames: ['a'], version: 9 }),
  } as unknown as ImageTable;
  const blobs = {
    put: async () => void calls.push('blob put'),
    delete: async () => void calls.push('blob delete'),
    deleteMany: async (names: string[]) => void calls.push(`blobs delete ${names.join(',')}`),
  } as unknown as BlobStore;
  const pool = {
    markPending: async (key: string, mark: { ms: number }, nearId?: string) => {
      calls.push(`nodes pending ${key} near=${nearId}`);
      return grants.shift() ?? { ms: mark.ms, untold: false };
    },
    clearPending: async (mark: { ms: number }) => {
      calls.push('nodes pending all');
      return { ms: mark.ms, untold: false };
    },
    release: async (key: string, _id: string, version?: number) => {
      calls.push(`nodes release ${key} v${version}`);
      await gate; // the node's answer: the upload must not be waiting for it
      return true;
    },
    releaseAll: async () => void calls.push('nodes release all'),
  } as unknown as PoolCacheService;
  const near = {
    id: 'ab12',
    markLocal: (key?: string) => void calls.push(`near pending ${key ?? 'all'}`),
    releaseLocal: (key?: string) => void calls.push(`near release ${key ?? 'all'}`),
    dropLocal: (key: string) => void calls.push(`near drop ${key}`),
    clearLocal: () => void calls.push('near clear'),
    stateBefore: () => null,
    afterInvalidation: async () => void calls.push('near wait if the pool changed'),
  } as unknown as NearCacheService;
  const readPath = {
    invalidate: async (key: string, version: number) =>
      void calls.push(`invalidate again ${key} v${version}`),
    clearCache: async (below?: number) => void calls.push(`clear again below v${below}`),
  } as unknown as ReadPathService;
  const outbox = { ack: async (id: number) => void calls.push(`outbox ack ${id}`) };
  const fence = new WriteFence(config, pool, near, readPath);
  const sut = new ImageService(
    config,
    table,
    blobs,
    readPath,
    outbox as unknown as OutboxService,
    { assertRoomFor: async () => undefined } as unknown as StorageQuota,
    fence,
  );
  const data = new ClearDataService(table, blobs, fence);
  return { calls, sut, data, openGate };
}

const PNG = makePng(500);
const file = { buffer: PNG, size: PNG.length };

describe('upload path: invalidate before commit (write-fence.ts)', () => {
  it('makes the key pending everywhere, then commits, and answers without waiting for the release', async () => {
    const { calls, sut, openGate } = recording();
    await sut.upload('k', file);
    // The object is written after the fence's waits: from its write to the commit only the
    // storage and database deadlines pass, which the orphan sweeper's grace covers (outbox.ts, I2).
    expect(calls).toEqual([
      'near pending k',
      'nodes pending k near=ab12',
      'near drop k',
      'near wait if the pool changed',
      'blob put',
      'commit k',
      'near release k',
      'nodes release k v5',
    ]);
    openGate();
    await eventually('the outbox ack once released', () => calls.includes('outbox ack 17'));
  });

  it('the mutant commit-before-invalidate commits first (the old order)', async () => {
    // A process gets the mutant from its argv (test-mutants.ts); here the switch is answered.
    const on = jest
      .spyOn(mutants, 'testMutant')
      .mockImplementation((name) => name === 'commit-before-invalidate');
    try {
      const { calls, sut } = recording();
      await sut.upload('k', file);
      expect(calls.indexOf('commit k')).toBeLessThan(calls.indexOf('nodes pending k near=ab12'));
    } finally {
      on.mockRestore();
    }
  });

  it('marks again when the grant leaves less than a database deadline for the commit', async () => {
    const { calls, sut } = recording({ grants: [{ ms: 100, untold: false }] });
    await sut.upload('k', file);
    expect(calls.filter((c) => c.startsWith('nodes pending'))).toHaveLength(2);
    expect(calls.indexOf('commit k')).toBeGreaterThan(
      calls.lastIndexOf('nodes pending k near=ab12'),
    );
  });

  it('a node left untold: after the commit it invalidates again and waits, as uploads did before', async () => {
    const { calls, sut } = recording({ grants: [{ ms: 10_000, untold: true }] });
    await sut.upload('k', file);
    expect(calls.slice(calls.indexOf('commit k'))).toEqual([
      'commit k',
      'invalidate again k v5',
      'near release k',
      'nodes release k v5',
    ]);
  });

  it('a commit that failed for sure releases the marks without a version', async () => {
    const { calls, sut, openGate } = recording({ upsertFails: new Error('constraint') });
    openGate();
    await expect(sut.upload('k', file)).rejects.toThrow('constraint');
    await eventually('the release', () => calls.includes('nodes release k vundefined'));
    expect(calls).toContain('near release k');
    expect(calls).toContain('blob delete');
  });

  it('delete_all marks every key before deleting the rows and releases after', async () => {
    const { calls, data, openGate } = recording();
    openGate();
    await data.clearData();
    await eventually('the release', () => calls.includes('nodes release all'));
    expect(calls).toEqual([
      'near pending all',
      'nodes pending all',
      'near clear',
      'near wait if the pool changed',
      'commit delete_all',
      // Always cleared again with the delete's version: transfer frames in flight are refused.
      'clear again below v9',
      'near release all',
      'nodes release all',
      'blobs delete a',
    ]);
  });
});
