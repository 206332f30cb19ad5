import type { AppProcess } from '../support/app-process';
import { uploadChecked, readChecked, getNumNodes } from '../support/checked-io';
import { ColouredUploads } from '../support/coloured-uploads';
import { ConsistencyChecker } from '../support/consistency-checker';
import { postJson } from '../support/http';
import { describeWithMysql } from '../support/mysql';
import { startTwoFrontEnds, type TwoFrontEnds } from '../support/two-front-ends';

const KEYS = Array.from({ length: 12 }, (_, i) => `variant-${i}`);
const NODE_SECRET = 'variant-consistency-secret-padded-to-32-chars';

// Every upload is a solid colour of its own, so a variant's pixels say which upload it was
// rendered from: the checker judges a variant read as a read of that upload, at the version its
// ETag names. A variant of an older upload served after a newer one was acknowledged is stale.
describeWithMysql('variants stay as fresh as their originals (two front-ends, real nodes)', () => {
  let world: TwoFrontEnds;
  let a: AppProcess;
  let b: AppProcess;
  const checker = new ConsistencyChecker();
  const uploads = new ColouredUploads();
  let variantReads = 0;
  let variantHits = 0;

  /** GET a variant, judged by the checker as a read of the upload it shows. */
  async function readVariant(app: AppProcess, key: string): Promise<number> {
    const startedAt = ConsistencyChecker.now();
    const res = await fetch(`${app.url}/images/${key}?preset=tiny`);
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) return res.status;
    const version = /^"v(\d+)-16x-inside-png-q80"$/.exec(res.headers.get('etag') ?? '')?.[1];
    expect(version).toBeDefined();
    const source = await uploads.sourceOf(body);
    if (!source) {
      checker.staleReads.push(`${key}: a variant of no upload`);
      return res.status;
    }
    checker.read(key, startedAt, source, Number(version));
    variantReads++;
    if (res.headers.get('x-cache') === 'HIT') variantHits++;
    return res.status;
  }

  beforeAll(async () => {
    world = await startTwoFrontEnds({
      nodes: 6,
      secret: NODE_SECRET,
      env: {
        PIXPOOL_NEAR_CACHE_CAPACITY_MB: '16',
        PIXPOOL_IMAGING_PRESETS: 'thumb:w=320&h=320&fit=cover;tiny:w=16&fmt=png',
      },
    });
    ({ a, b } = world);
  }, 60_000);
  afterAll(() => world?.stop());

  it('caches a variant in the pool and drops it with its original on upload', async () => {
    const key = KEYS[0];
    expect((await uploadChecked(checker, a.url, key, uploads.make())).status).toBe(200);
    const first = await fetch(`${b.url}/images/${key}?preset=tiny`);
    expect(first.headers.get('x-cache')).toBe('MISS');
    const v1 = first.headers.get('etag');
    const second = await fetch(`${a.url}/images/${key}?preset=tiny`);
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(second.headers.get('etag')).toBe(v1);

    expect((await uploadChecked(checker, b.url, key, uploads.make())).status).toBe(200);
    for (const app of [a, b]) {
      const after = await fetch(`${app.url}/images/${key}?preset=tiny`);
      expect(after.headers.get('etag')).not.toBe(v1);
      await after.arrayBuffer();
    }
    expect(await readVariant(a, key)).toBe(200);
    expect(checker.staleReads).toEqual([]);
  });

  it('uploads through both while both read variants, across resizes: no stale variant', async () => {
    for (const key of KEYS) {
      expect((await uploadChecked(checker, a.url, key, uploads.make())).status).toBe(200);
    }
    let running = true;
    const errors: string[] = [];
    const writer = async (app: AppProcess, offset: number) => {
      for (let i = offset; running; i += 2) {
        const key = KEYS[i % KEYS.length];
        const up = await uploadChecked(checker, app.url, key, uploads.make());
        if (up.status !== 200) errors.push(`upload ${key}: ${up.status}`);
      }
    };
    const reader = async (app: AppProcess, offset: number) => {
      for (let i = offset; running; i++) {
        const key = KEYS[i % KEYS.length];
        // Twice: the second read is what admits a copy to the near cache.
        for (let n = 0; n < 2; n++) {
          const status = await readVariant(app, key);
          if (status !== 200) errors.push(`variant ${key}: ${status}`);
        }
        if (i % 3 === 0) {
          const res = await readChecked(checker, app.url, key);
          if (res.status !== 200) errors.push(`original ${key}: ${res.status}`);
        }
      }
    };
    const traffic = Promise.all([
      writer(a, 0),
      writer(b, 1),
      reader(a, 0),
      reader(b, 5),
      reader(a, 7),
      reader(b, 3),
    ]);
    for (const [app, size] of [
      [a, 4],
      [b, 2],
      [a, 5],
      [b, 1],
      [a, 3],
    ] as const) {
      const res = await postJson(`${app.url}/api/configure_cache?mode=manual&numNodes=${size}`);
      expect(res.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    running = false;
    await traffic;
    expect(errors).toEqual([]);
    expect(checker.staleReads).toEqual([]);
    expect(variantReads).toBeGreaterThan(KEYS.length * 4);
    // The pool (and the near caches) answered some of them, or this proved nothing about caches.
    expect(variantHits).toBeGreaterThan(0);
    expect(await getNumNodes(b.url)).toBe(3);
  }, 90_000);
});
