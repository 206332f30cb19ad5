import { ServerResponse, IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { BlobStore } from '../../../src/storage/blob-store';
import type { ImageRecord, ImageTable } from '../../../src/database/image-table';
import type { PoolCacheService } from '../../../src/pool/pool-cache.service';
import type { NearCacheService } from '../../../src/near-cache/near-cache.service';
import { loadConfig } from '../../../src/config/config-loader';
import { ReadPathService } from '../../../src/frontend/read-path.service';
import { sendImage } from '../../../src/image/image-response';
import type { StoredImage } from '../../../src/image/stored-image';
import { ResponseBudget } from '../../../src/common/response-budget';

const ROW = {
  key: 'k',
  objectName: 'obj-1',
  contentType: 'image/png',
  version: 5,
} as ImageRecord;
const STORED = Buffer.from('png bytes from storage');

/** A pool whose owner node answers every read with `hit`; storage holds ROW and STORED. */
function readPath(hit: StoredImage) {
  const table = { find: async () => ROW } as unknown as ImageTable;
  const blobs = { get: async () => STORED } as unknown as BlobStore;
  const pool = {
    readForNear: async () => ({ image: hit, nearSafe: true }),
  } as unknown as PoolCacheService;
  // The near cache off (capacity 0), as by default: every read goes to the pool.
  const near = { lookup: () => undefined, ticket: () => undefined } as unknown as NearCacheService;
  return new ReadPathService(table, blobs, pool, near, loadConfig({ env: {} }));
}

describe('read path: the type of a cache hit', () => {
  it('serves a hit of an image type as it is', async () => {
    const hit: StoredImage = {
      key: 'k',
      body: Buffer.from('x'),
      contentType: 'image/gif',
      version: 5,
      source: 'cache',
    };
    await expect(readPath(hit).read('k')).resolves.toBe(hit);
  });

  it.each(['text/html', 'image/svg+xml', 'application/javascript', 'image/png; charset=x'])(
    'reads storage instead of serving a hit typed %s',
    async (contentType) => {
      const hit = {
        key: 'k',
        body: Buffer.from('<script>'),
        contentType,
        version: 5,
        source: 'cache',
      } as const;
      await expect(readPath(hit).read('k')).resolves.toEqual({
        key: 'k',
        body: STORED,
        contentType: 'image/png',
        version: 5,
        source: 'storage',
      });
    },
  );
});

describe('image answers', () => {
  function answer(contentType: string) {
    const res = new ServerResponse(new IncomingMessage(new Socket()));
    const budget = new ResponseBudget({
      maxQueuedBytesPerConnection: 4096,
      maxQueuedResponseBytes: 1 << 20,
    });
    const image = { key: 'k', body: Buffer.from('b'), contentType, version: 1 };
    sendImage(res, image, undefined, false, budget);
    return res;
  }

  it('carry a sandbox CSP and nosniff', () => {
    const res = answer('image/png');
    expect(res.getHeader('content-type')).toBe('image/png');
    expect(res.getHeader('x-content-type-options')).toBe('nosniff');
    expect(String(res.getHeader('content-security-policy'))).toMatch(/^sandbox/);
  });

  it('never carry a type outside the allow-list', () => {
    expect(answer('text/html').getHeader('content-type')).toBe('application/octet-stream');
  });
});

describe('read path: what an upload and a clear do to the near cache, in order', () => {
  function recording() {
    const calls: string[] = [];
    const table = {} as ImageTable;
    const blobs = {} as BlobStore;
    const pool = {
      invalidate: async (key: string, version: number, nearId?: string) =>
        void calls.push(`pool.invalidate ${key} v${version} near=${nearId}`),
      clear: async () => void calls.push('pool.clear'),
    } as unknown as PoolCacheService;
    const near = {
      id: 'ab12',
      dropLocal: (key: string) => void calls.push(`dropLocal ${key}`),
      clearLocal: () => void calls.push('clearLocal'),
      stateBefore: () => {
        calls.push('stateBefore');
        return { epoch: 7 };
      },
      afterInvalidation: async (before: { epoch: number }) =>
        void calls.push(`afterInvalidation ${before.epoch}`),
    } as unknown as NearCacheService;
    return { calls, sut: new ReadPathService(table, blobs, pool, near, loadConfig({ env: {} })) };
  }

  it('an upload drops its copy before and after the nodes are told, then waits if the pool changed', async () => {
    const { calls, sut } = recording();
    await sut.invalidate('k', 5);
    expect(calls).toEqual([
      'dropLocal k',
      'stateBefore',
      'pool.invalidate k v5 near=ab12',
      'dropLocal k',
      'afterInvalidation 7',
    ]);
  });

  it('a clear empties the near cache before and after the nodes, then waits if the pool changed', async () => {
    const { calls, sut } = recording();
    await sut.clearCache();
    expect(calls).toEqual([
      'clearLocal',
      'stateBefore',
      'pool.clear',
      'clearLocal',
      'afterInvalidation 7',
    ]);
  });
});

describe('read path: overwrites racing a read from storage', () => {
  /** Each row read names a newer object; the first `lost` objects were deleted before the fetch. */
  function racing(lost: number, storageTimeoutMs = 3000) {
    let version = 0;
    const table = {
      find: async () => ({ ...ROW, objectName: `obj-${++version}`, version }),
    } as unknown as ImageTable;
    const blobs = {
      get: async (name: string) => (Number(name.slice(4)) > lost ? STORED : null),
    } as unknown as BlobStore;
    const config = loadConfig({
      env: { PIXPOOL_RESILIENCE_STORAGE_TIMEOUT_MS: String(storageTimeoutMs) },
    });
    return new ReadPathService(
      table,
      blobs,
      {} as PoolCacheService,
      {} as NearCacheService,
      config,
    );
  }

  it('an overwrite between row and object on five reads in a row: the sixth answers the image, not nothing', async () => {
    await expect(racing(5).readFromStorage('k')).resolves.toMatchObject({
      image: { key: 'k', body: STORED, version: 6, source: 'storage' },
    });
  });

  it('overwrites that never stop: a busy answer after the storage deadline, never a 404', async () => {
    await expect(racing(Infinity, 200).readFromStorage('k')).rejects.toMatchObject({
      status: 503,
    });
  });

  it('a row that names the same missing object twice: the object is gone, nothing is answered', async () => {
    const table = { find: async () => ROW } as unknown as ImageTable;
    const blobs = { get: async () => null } as unknown as BlobStore;
    const path = new ReadPathService(
      table,
      blobs,
      {} as PoolCacheService,
      {} as NearCacheService,
      loadConfig({ env: {} }),
    );
    await expect(path.readFromStorage('k')).resolves.toEqual({ image: null, leader: false });
  });
});
