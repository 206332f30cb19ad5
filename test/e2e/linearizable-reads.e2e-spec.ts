import type { AppProcess } from '../support/app-process';
import { getNumNodes } from '../support/checked-io';
import { upload } from '../support/http';
import { makePng } from '../support/images';
import { describeWithMysql } from '../support/mysql';
import { startTwoFrontEnds, type TwoFrontEnds } from '../support/two-front-ends';

const NODE_SECRET = 'linearizable-secret-padded-to-32-characters';
const HOT_KEYS = ['hot-a', 'hot-b'];
const READERS_PER_APP = 6;
const ROUNDS = 200;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Read {
  key: string;
  startedAt: number;
  endedAt: number;
  version: number;
  reader: string;
}

/**
 * A read that began after another read of the same key had ended must not return an older
 * version (linearizable reads). Returns each violation as "newer then older".
 */
function newerThenOlder(reads: readonly Read[]): string[] {
  const byEnd = [...reads].sort((x, y) => x.endedAt - y.endedAt);
  const byStart = [...reads].sort((x, y) => x.startedAt - y.startedAt);
  const seen = new Map<string, Read>();
  const out: string[] = [];
  let i = 0;
  for (const read of byStart) {
    while (i < byEnd.length && byEnd[i].endedAt < read.startedAt) {
      const done = byEnd[i++];
      const best = seen.get(done.key);
      if (!best || done.version > best.version) seen.set(done.key, done);
    }
    const newer = seen.get(read.key);
    if (newer && newer.version > read.version) {
      out.push(
        `${read.key}: v${newer.version} read by ${newer.reader} (ended ${newer.endedAt.toFixed(1)}) ` +
          `then v${read.version} by ${read.reader} (began ${read.startedAt.toFixed(1)})`,
      );
    }
  }
  return out;
}

async function timedRead(baseUrl: string, key: string, reader: string): Promise<Read | null> {
  const startedAt = performance.now();
  const res = await fetch(`${baseUrl}/images/${encodeURIComponent(key)}`);
  await res.arrayBuffer();
  const endedAt = performance.now();
  const version = /^"v(\d+)"$/.exec(res.headers.get('etag') ?? '')?.[1];
  if (res.status !== 200 || version === undefined) return null;
  return { key, startedAt, endedAt, version: Number(version), reader };
}

/**
 * Issue 22: once any read has returned an upload's image, no read anywhere returns an older one,
 * with the near cache on in both front-ends and overlapping uploads of hot keys through both.
 */
describeWithMysql('linearizable reads: two front-ends, near cache on, overlapping uploads', () => {
  let world: TwoFrontEnds;
  let a: AppProcess;
  let b: AppProcess;

  beforeAll(async () => {
    // PIXPOOL_TEST_MUTANT=commit-before-invalidate (read by this test only, passed as the apps'
    // --pixpool-test-mutant flag) shows this suite catching the old order.
    const mutant = process.env.PIXPOOL_TEST_MUTANT;
    world = await startTwoFrontEnds({
      nodes: 2,
      secret: NODE_SECRET,
      env: {
        // Set explicitly: this suite is about the near cache, whatever the default.
        PIXPOOL_NEAR_CACHE_CAPACITY_MB: '16',
        PIXPOOL_NEAR_CACHE_LEASE_MS: '2000',
        PIXPOOL_NEAR_CACHE_ADMIT_WINDOW_MS: '60000',
      },
      args: mutant ? [`--pixpool-test-mutant=${mutant}`] : [],
    });
    ({ a, b } = world);
  }, 60_000);
  afterAll(() => world?.stop());

  it('no read returns an older image after any read returned a newer one', async () => {
    expect(await getNumNodes(b.url)).toBe(2);
    for (const key of HOT_KEYS) expect((await upload(a.url, key, makePng(3000))).status).toBe(200);

    const reads: Read[] = [];
    let nearHits = 0;
    let running = true;
    const reader = async (app: AppProcess, name: string, key: string): Promise<void> => {
      while (running) {
        const read = await timedRead(app.url, key, name);
        if (read) reads.push(read);
      }
    };
    const readers = [a, b].flatMap((app, i) =>
      Array.from({ length: READERS_PER_APP }, (_, j) =>
        reader(app, `${'ab'[i]}${j}`, HOT_KEYS[j % HOT_KEYS.length]),
      ),
    );
    const counter = setInterval(() => {
      void fetch(`${a.url}/images/${HOT_KEYS[0]}`).then(async (res) => {
        await res.arrayBuffer();
        if (res.headers.get('x-near-cache') === 'HIT') nearHits++;
      });
    }, 20);
    let uploads = 0;
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const key = HOT_KEYS[round % HOT_KEYS.length];
        // Two uploads of one key, one through each front-end, the second sent a few milliseconds
        // after the first so that one's commit falls anywhere in the other's steps.
        const answers = await Promise.all(
          [a, b].map(async (app, i) => {
            if (i === 1) await sleep(Math.random() * 15);
            return upload(app.url, key, makePng(3000 + 2 * round + i));
          }),
        );
        for (const answer of answers) expect(answer.status).toBe(200);
        uploads += answers.length;
      }
    } finally {
      running = false;
      clearInterval(counter);
      await Promise.all(readers);
    }
    expect(uploads).toBe(2 * ROUNDS);
    expect(reads.length).toBeGreaterThan(ROUNDS * 10);
    // The near cache took part: otherwise this would prove nothing about it.
    expect(nearHits).toBeGreaterThan(0);
    expect(newerThenOlder(reads)).toEqual([]);
  }, 120_000);
});
