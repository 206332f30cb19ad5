import { readChecked, uploadChecked } from '../support/checked-io';
import { AppProcess, startApp } from '../support/app-process';
import { ConsistencyChecker } from '../support/consistency-checker';
import { makePng } from '../support/images';
import { postJson } from '../support/http';
import { startLoad } from '../support/load';

const STABLE = Array.from({ length: 120 }, (_, i) => `stable-${i}`);
const WRITTEN = Array.from({ length: 20 }, (_, i) => `hot-${i}`);

/** Reads every key once; the share the pool answered (X-Cache: HIT). */
async function hitRatio(app: AppProcess, keys: string[]): Promise<number> {
  let hits = 0;
  for (const key of keys) {
    const res = await fetch(`${app.url}/images/${key}`);
    await res.arrayBuffer();
    if (res.headers.get('x-cache') === 'HIT') hits++;
  }
  return hits / keys.length;
}

async function resize(app: AppProcess, numNodes: number) {
  const res = await postJson(`${app.url}/api/configure_cache?mode=manual&numNodes=${numNodes}`);
  expect(res).toMatchObject({ status: 200, body: { success: 'true', numNodes } });
}

describe('pool resize under load (real app, real cache-node processes)', () => {
  let app: AppProcess;
  const checker = new ConsistencyChecker();

  beforeAll(async () => {
    app = await startApp();
    for (const key of [...STABLE, ...WRITTEN]) {
      expect((await uploadChecked(checker, app.url, key, makePng(3000))).status).toBe(200);
    }
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('moves cached keys with their regions through 1→2→4→8→3→1, with zero stale reads and zero errors', async () => {
    await hitRatio(app, STABLE); // fill
    expect(await hitRatio(app, STABLE)).toBe(1);
    const load = startLoad(() => app.url, checker, { readKeys: STABLE, writeKeys: WRITTEN });
    const kept: Record<number, number> = {};
    for (const size of [2, 4, 8, 3, 1]) {
      const before = await hitRatio(app, STABLE);
      await resize(app, size);
      kept[size] = (await hitRatio(app, STABLE)) / before;
    }
    const report = await load.stop();
    expect(report.errors).toEqual([]);
    expect(report.staleReads).toEqual([]);
    expect(report.reads).toBeGreaterThan(200);
    expect(report.writes).toBeGreaterThan(20);
    for (const ratio of Object.values(kept)) expect(ratio).toBeGreaterThanOrEqual(0.95);
  }, 120_000);

  it('reads the latest upload of every key afterwards', async () => {
    for (const key of [...STABLE, ...WRITTEN]) {
      expect((await readChecked(checker, app.url, key)).status).toBe(200);
    }
    expect(checker.staleReads).toEqual([]);
  });
});
