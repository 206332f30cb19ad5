import { execSync } from 'node:child_process';
import { AppProcess, startApp } from '../support/app-process';
import { readChecked, uploadChecked } from '../support/checked-io';
import { ConsistencyChecker } from '../support/consistency-checker';
import { makePng } from '../support/images';
import { startLoad } from '../support/load';

const KEYS = Array.from({ length: 60 }, (_, i) => `member-${i}`);
const HOT = Array.from({ length: 10 }, (_, i) => `member-hot-${i}`);

interface PoolBody {
  size: number;
  epoch: number;
  nodes: { id: string; health: { state: string } | null }[];
}

function cacheNodePids(app: AppProcess): number[] {
  const out = execSync(`pgrep -P ${app.pid()} -f cache-node/main.js || true`).toString();
  return out.split('\n').filter(Boolean).map(Number);
}

async function pool(app: AppProcess): Promise<PoolBody> {
  return (await (await fetch(`${app.url}/api/manager/pool`)).json()) as PoolBody;
}

async function waitFor(what: string, check: () => Promise<boolean>, ms: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return Date.now() - started;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The failure detector, quarantine and self-healing with real cache-node processes under a read
 * load with a writer (issue 12, parts 2 and 3).
 */
describe('pool membership under node failures (real app, real nodes)', () => {
  let app: AppProcess;
  const checker = new ConsistencyChecker();

  beforeAll(async () => {
    // Detector defaults (2 failures to quarantine, 15 s to remove, probes every 2 s): a pause of
    // several seconds must be ridden out with them as shipped.
    app = await startApp({ env: { PIXPOOL_POOL_INITIAL: '3' } });
    for (const key of [...KEYS, ...HOT]) {
      expect((await uploadChecked(checker, app.url, key, makePng(2500))).status).toBe(200);
    }
    for (const key of KEYS) await (await fetch(`${app.url}/images/${key}`)).arrayBuffer();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('a 5 s SIGSTOP of one node: the pool keeps its size and that node; 0 failed, 0 stale reads', async () => {
    const before = await pool(app);
    expect(before.size).toBe(3);
    const pids = cacheNodePids(app);
    expect(pids).toHaveLength(3);

    const load = startLoad(() => app.url, checker, { readKeys: KEYS, writeKeys: HOT });
    await sleep(500);
    process.kill(pids[1], 'SIGSTOP');
    let quarantined = false;
    const pausedUntil = Date.now() + 5000;
    while (Date.now() < pausedUntil) {
      quarantined ||= (await pool(app)).nodes.some((n) => n.health?.state === 'quarantined');
      await sleep(200);
    }
    process.kill(pids[1], 'SIGCONT');
    await waitFor(
      'every node serving again',
      async () => (await pool(app)).nodes.every((n) => n.health?.state === 'serving'),
      15_000,
    );
    await sleep(1000); // reads go back to the rejoined node
    const report = await load.stop();

    const after = await pool(app);
    expect(quarantined).toBe(true);
    expect(after.size).toBe(3);
    expect(after.nodes.map((n) => n.id)).toEqual(before.nodes.map((n) => n.id));
    expect(cacheNodePids(app).sort()).toEqual([...pids].sort());
    expect(report.errors).toEqual([]);
    expect(report.staleReads).toEqual([]);
    expect(report.reads).toBeGreaterThan(100);
    expect(report.writes).toBeGreaterThan(5);
    for (const key of [...KEYS, ...HOT]) {
      expect((await readChecked(checker, app.url, key)).status).toBe(200);
    }
    expect(checker.staleReads).toEqual([]);
    expect(app.output()).toMatch(/quarantined local-\d+: /);
    expect(app.output()).toMatch(/rejoined .*rejoined empty/);
  }, 60_000);
});
