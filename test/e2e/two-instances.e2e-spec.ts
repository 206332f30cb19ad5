import { getNumNodes, readChecked, uploadChecked } from '../support/checked-io';
import type { AppProcess } from '../support/app-process';
import { ConsistencyChecker } from '../support/consistency-checker';
import { makePng } from '../support/images';
import { postJson } from '../support/http';
import { describeWithMysql } from '../support/mysql';
import { startTwoFrontEnds, type TwoFrontEnds } from '../support/two-front-ends';

const KEYS = Array.from({ length: 40 }, (_, i) => `shared-${i}`);
const NODE_SECRET = 'two-instances-secret-padded-to-32-characters';

const numNodes = (app: AppProcess) => getNumNodes(app.url);

async function waitFor(what: string, check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Variant {
  name: string;
  /** Extra argv of node i (e.g. its near-cache lease). */
  nodeArgs: (i: number) => string[];
  aEnv: Record<string, string>;
  bEnv: Record<string, string>;
}

/**
 * Leases are the nodes' grants, so instances need not agree on near-cache settings: the same
 * scenarios run with both instances on the defaults (near cache on), and with nodes granting
 * different leases while one instance asks for another lease and the other has its near cache off.
 */
const VARIANTS: Variant[] = [
  { name: 'the same settings', nodeArgs: () => [], aEnv: {}, bEnv: {} },
  {
    name: 'different lease settings, near cache on in one and off in the other',
    nodeArgs: (i) => ['--near-lease-ms', i % 2 ? '1200' : '4000'],
    aEnv: { PIXPOOL_NEAR_CACHE_LEASE_MS: '300', PIXPOOL_NEAR_CACHE_CAPACITY_MB: '16' },
    bEnv: { PIXPOOL_NEAR_CACHE_LEASE_MS: '10000', PIXPOOL_NEAR_CACHE_CAPACITY_MB: '0' },
  },
];

for (const variant of VARIANTS) describeTwoInstances(variant);

/**
 * Two front-ends on one database and one set of cache nodes (the production shape behind a load
 * balancer): a resize through either is seen by the other, and neither serves stale data.
 */
function describeTwoInstances(variant: Variant): void {
  describeWithMysql(
    `two app instances sharing the database and the nodes (${variant.name})`,
    () => {
      let world: TwoFrontEnds;
      let a: AppProcess;
      let b: AppProcess;
      const checker = new ConsistencyChecker();

      beforeAll(async () => {
        world = await startTwoFrontEnds({
          nodes: 8,
          secret: NODE_SECRET,
          nodeArgs: variant.nodeArgs,
          aEnv: variant.aEnv,
          bEnv: variant.bEnv,
        });
        ({ a, b } = world);
      }, 60_000);
      afterAll(() => world?.stop());

      it('the second instance joins the pool the first one built', async () => {
        expect(await numNodes(a)).toBe(2);
        expect(await numNodes(b)).toBe(2);
        expect(b.output()).toMatch(/joined the pool at epoch \d+ \(2 nodes\)/);
      });

      it('uploads through one are read through the other, cached or not', async () => {
        for (const key of KEYS) {
          expect((await uploadChecked(checker, a.url, key, makePng(2000))).status).toBe(200);
          for (const app of [b, a, b]) {
            expect((await readChecked(checker, app.url, key)).status).toBe(200);
          }
        }
        expect(checker.staleReads).toEqual([]);
      });

      it('a resize through B is pushed to A at once (notify); one through A reaches B (epoch poll)', async () => {
        expect((await postJson(`${b.url}/api/configure_cache?mode=manual&numNodes=4`)).status).toBe(
          200,
        );
        expect(await numNodes(a)).toBe(4);
        expect((await postJson(`${a.url}/api/configure_cache?mode=manual&numNodes=3`)).status).toBe(
          200,
        );
        await waitFor('B to see 3 nodes', async () => (await numNodes(b)) === 3);
      });

      it('writes through one and reads through the other during resizes: no stale read', async () => {
        // Counted per resize (configure_cache answers once it is done): the reads of the earlier
        // tests, or made between resizes, say nothing about these resizes.
        const readsDuring: number[] = [];
        let running = true;
        const errors: string[] = [];
        const writer = async () => {
          let i = 0;
          while (running) {
            const key = KEYS[i++ % KEYS.length];
            const [writer, reader] = i % 2 ? [a, b] : [b, a];
            const up = await uploadChecked(checker, writer.url, key, makePng(2000));
            if (up.status !== 200) errors.push(`upload ${key}: ${up.status}`);
            const res = await readChecked(checker, reader.url, key);
            if (res.status !== 200) errors.push(`read ${key}: ${res.status}`);
          }
        };
        // Readers of their own, so every resize, however quick, has reads running through it.
        const reader = async (app: AppProcess, offset: number) => {
          for (let i = offset; running; i += 7) {
            const key = KEYS[i % KEYS.length];
            const res = await readChecked(checker, app.url, key);
            if (res.status !== 200) errors.push(`read ${key}: ${res.status}`);
          }
        };
        const traffic = Promise.all([writer(), reader(a, 0), reader(b, 3)]);
        for (const [app, size] of [
          [a, 5],
          [b, 2],
          [a, 8],
          [b, 1],
        ] as const) {
          const from = checker.reads;
          const res = await postJson(`${app.url}/api/configure_cache?mode=manual&numNodes=${size}`);
          expect(res.status).toBe(200);
          readsDuring.push(checker.reads - from);
        }
        running = false;
        await traffic;
        expect(errors).toEqual([]);
        expect(checker.staleReads).toEqual([]);
        console.log(`two instances: reads during each resize: ${readsDuring.join(', ')}`);
        expect(readsDuring).toHaveLength(4);
        for (const reads of readsDuring) expect(reads).toBeGreaterThan(0);
        // About 20 s. With nodes granting 4 s leases, a node that gained regions holds its answers
        // for the previous owners' grants (up to an instance's own setting for an owner it has not
        // heard, 10 s here), so an upload that meets several holds in a row has been seen to take
        // 55 s: slow, never stale. Room for that, so the test judges staleness, not this latency.
      }, 120_000);
    },
  );
}
